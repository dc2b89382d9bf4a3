//! An upstream MCP server's `text/event-stream` answer, as the gateway reads it chunk by
//! chunk (`mcp::sse::SseDecoder`). The first byte sets where the body is cut into chunks;
//! however it is cut, the events are the same as when it arrives whole.

use mcp_oauth_gateway::mcp::sse::SseDecoder;

fn decode(chunks: &mut dyn Iterator<Item = &[u8]>) -> Option<Vec<String>> {
    let mut d = SseDecoder::new();
    let mut events = Vec::new();
    for chunk in chunks {
        events.extend(d.feed(chunk).ok()?);
    }
    events.extend(d.finish().ok()?);
    Some(events)
}

pub fn run(data: &[u8]) {
    let Some((&cut, body)) = data.split_first() else {
        return;
    };
    let whole = decode(&mut std::iter::once(body));
    let size = usize::from(cut % 17) + 1;
    let chunked = decode(&mut body.chunks(size));
    assert_eq!(
        whole, chunked,
        "events do not depend on how the body is cut"
    );
}

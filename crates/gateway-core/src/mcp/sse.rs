//! Server-Sent Events decoding, as far as MCP's Streamable HTTP transport needs it: the
//! `data` of each event, fed chunk by chunk as an upstream's response arrives.
//!
//! Pure and incremental: a line split across chunks (or a `\r\n` split between them) is
//! completed by the next chunk. `event`, `id` and `retry` fields and comments are skipped;
//! an MCP server sends every JSON-RPC message as one event's data.

/// Decodes a `text/event-stream` body into each event's data.
#[derive(Debug, Default)]
pub struct SseDecoder {
    /// Bytes of a line not yet ended.
    partial: Vec<u8>,
    /// The data lines of the event being read, joined by `\n`.
    data: String,
    has_data: bool,
}

/// The stream is not text.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("event stream is not UTF-8")]
pub struct SseError;

impl SseDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next chunk; returns the data of every event it completed.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<String>, SseError> {
        let mut events = Vec::new();
        let mut rest = chunk;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&rest[..nl]);
            rest = &rest[nl + 1..];
            let mut line = std::mem::take(&mut self.partial);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let line = String::from_utf8(line).map_err(|_| SseError)?;
            if let Some(event) = self.line(&line) {
                events.push(event);
            }
        }
        self.partial.extend_from_slice(rest);
        Ok(events)
    }

    /// Ends the stream: an event not closed by a blank line is still delivered.
    pub fn finish(mut self) -> Result<Option<String>, SseError> {
        if !self.partial.is_empty() {
            let line =
                String::from_utf8(std::mem::take(&mut self.partial)).map_err(|_| SseError)?;
            if let Some(event) = self.line(&line) {
                return Ok(Some(event));
            }
        }
        Ok(self.has_data.then_some(self.data))
    }

    fn line(&mut self, line: &str) -> Option<String> {
        if line.is_empty() {
            if !self.has_data {
                return None;
            }
            self.has_data = false;
            return Some(std::mem::take(&mut self.data));
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        if field == "data" {
            if self.has_data {
                self.data.push('\n');
            }
            self.data.push_str(value);
            self.has_data = true;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(chunks: &[&[u8]]) -> Vec<String> {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        for c in chunks {
            out.extend(d.feed(c).unwrap());
        }
        out.extend(d.finish().unwrap());
        out
    }

    #[test]
    fn events_are_the_data_between_blank_lines() {
        let body =
            b"event: message\nid: 1\ndata: {\"a\":1}\n\n: keep-alive\n\ndata: x\ndata: y\n\n";
        assert_eq!(all(&[body]), ["{\"a\":1}", "x\ny"]);
    }

    #[test]
    fn chunks_may_split_anywhere() {
        let body: &[u8] = b"data: {\"jsonrpc\":\"2.0\"}\r\n\r\ndata:tail";
        let whole = all(&[body]);
        for i in 0..body.len() {
            assert_eq!(all(&[&body[..i], &body[i..]]), whole, "split at {i}");
        }
        assert_eq!(whole, ["{\"jsonrpc\":\"2.0\"}", "tail"]);
    }

    #[test]
    fn events_without_data_and_non_utf8_lines() {
        assert!(all(&[b"event: ping\n\nretry: 10\n\n"]).is_empty());
        let mut d = SseDecoder::new();
        assert_eq!(d.feed(b"data: \xff\n"), Err(SseError));
    }
}

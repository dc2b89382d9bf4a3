//! A Lambda HTTP event as the runtime hands it over: any JSON that deserializes into
//! lambda_http's event type goes through the gateway's check (`runtime::lambda_event`), then
//! lambda_http's conversion — or, refused, its stand-in does. lambda_http 1.3's conversion
//! panics on some events (a host idna refuses, a bad port, a raw query the `http` crate
//! refuses, a false base64 body); what the check passes, or the stand-in it makes, must
//! convert without one.

use lambda_http::request::LambdaRequest;
use mcp_oauth_gateway::runtime::lambda_event;

pub fn run(data: &[u8]) {
    let Ok(mut event) = serde_json::from_slice::<LambdaRequest>(data) else {
        return;
    };
    if lambda_event::check(&event).is_err() {
        lambda_event::stand_in(&mut event);
        assert_eq!(
            lambda_event::check(&event),
            Ok(()),
            "a stand-in always converts"
        );
    }
    let _converted: lambda_http::Request = event.into();
}

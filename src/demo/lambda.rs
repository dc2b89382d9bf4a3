//! The demo Lambda tools function: raw Lambda events (not HTTP) in both contracts the
//! gateway's `lambda` targets speak, so the Lambda path can be exercised end to end under
//! `cargo lambda watch` (which serves the Lambda Invoke API) or in AWS.
//!
//! - **AgentCore**: the event is the arguments object; the tool name is in the ClientContext
//!   custom field `bedrockAgentCoreToolName` as `<target>___<tool>`, and the gateway's signed
//!   statement of who called in the custom field `gatewayIdentity`.
//! - **Native**: the event is `{tool, arguments, caller}`, `caller` being that statement
//!   (`tool` may carry a `<prefix>___` too).
//!
//! Tools: `echo` (`{text}` back), `whoami` (who called, from the statement), `fail` (a
//! function error) and `sleep` (`{ms}`, at most 10 s, to exercise the gateway's timeout).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde::Deserialize;
use serde_json::{Value, json};

/// The ClientContext custom field AgentCore Gateway puts the tool name in.
const TOOL_NAME_FIELD: &str = "bedrockAgentCoreToolName";
/// The ClientContext custom field this gateway puts its identity statement in.
const IDENTITY_FIELD: &str = "gatewayIdentity";
/// The longest `sleep` the demo honours.
const MAX_SLEEP_MS: u64 = 10_000;

/// The native contract's event.
#[derive(Debug, Deserialize)]
struct NativeEvent {
    tool: String,
    #[serde(default)]
    arguments: Value,
    #[serde(default)]
    caller: Option<String>,
}

/// One call, whatever the contract: the tool, its arguments, the statement if any.
#[derive(Debug, PartialEq)]
struct Call {
    tool: String,
    /// The gateway's name of the tool (what its statement's `aud` names).
    gateway_tool: String,
    arguments: Value,
    statement: Option<String>,
}

/// Reads the call out of the event and the ClientContext custom fields.
fn parse_call(
    event: Value,
    custom: Option<&std::collections::HashMap<String, String>>,
) -> Result<Call, Error> {
    if let Some(full) = custom.and_then(|c| c.get(TOOL_NAME_FIELD)) {
        // `<target>___<tool>`: the tool is what follows the first `___`.
        let tool = full.split_once("___").map_or(full.as_str(), |(_, t)| t);
        return Ok(Call {
            tool: tool.to_owned(),
            gateway_tool: tool.to_owned(),
            arguments: event,
            statement: custom.and_then(|c| c.get(IDENTITY_FIELD)).cloned(),
        });
    }
    let native: NativeEvent = serde_json::from_value(event)
        .map_err(|e| format!("neither an AgentCore call nor a native event: {e}"))?;
    // A catalog may prefix the names (`lambda___echo`): the tool follows the first `___`.
    let tool = native
        .tool
        .split_once("___")
        .map_or(native.tool.as_str(), |(_, t)| t);
    Ok(Call {
        tool: tool.to_owned(),
        gateway_tool: native.tool.clone(),
        arguments: native.arguments,
        statement: native.caller,
    })
}

/// The statement's claims.
///
/// DEMO ONLY: the JWT payload is decoded WITHOUT verifying its signature. A real target
/// verifies it against the gateway's `/.well-known/jwks.json` (and checks `iss`) before
/// trusting a word of it. The audience and expiry are checked (`for_this_call`).
fn unverified_claims(statement: &str) -> Result<Value, Error> {
    let payload = statement
        .split('.')
        .nth(1)
        .ok_or("the identity statement is not a JWT")?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| format!("the identity statement payload is not base64url: {e}"))?;
    Ok(serde_json::from_slice(&bytes)?)
}

/// Refuses a statement minted for another target, or expired: its `aud` must be
/// `lambda:<this function>/<the gateway's tool name>` exactly, and `exp` is a hard end
/// (no leeway on a 60 s statement).
fn for_this_call(claims: &Value, function: &str, call: &Call, now: u64) -> Result<(), Error> {
    let audience = format!("lambda:{function}/{}", call.gateway_tool);
    if claims["aud"].as_str() != Some(audience.as_str()) {
        return Err("the identity statement is for another target".into());
    }
    if claims["exp"].as_u64().is_none_or(|exp| now >= exp) {
        return Err("the identity statement has expired".into());
    }
    Ok(())
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

async fn run(call: Call, function: &str) -> Result<Value, Error> {
    match call.tool.as_str() {
        "echo" => {
            let text = call.arguments.get("text").and_then(Value::as_str);
            Ok(json!({ "text": text.ok_or("echo needs a string `text`")? }))
        }
        "whoami" => {
            let statement = call
                .statement
                .as_deref()
                .ok_or("no identity statement was given")?;
            let claims = unverified_claims(statement)?;
            for_this_call(&claims, function, &call, now_secs())?;
            Ok(json!({
                "username": claims["username"],
                "sub": claims["sub"],
                "groups": claims["groups"],
                "callerIssuer": claims["caller_iss"],
                "gateway": claims["iss"],
                "audience": claims["aud"],
                "tool": claims["tool"],
                "verified": false,
            }))
        }
        "fail" => Err("the fail tool always fails".into()),
        "sleep" => {
            let ms = call
                .arguments
                .get("ms")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(ms.min(MAX_SLEEP_MS))).await;
            Ok(json!({ "slept_ms": ms.min(MAX_SLEEP_MS) }))
        }
        other => Err(format!("unknown tool {other:?}").into()),
    }
}

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let (payload, ctx) = event.into_parts();
    let custom = ctx.client_context.as_ref().map(|c| &c.custom);
    let call = parse_call(payload, custom)?;
    tracing::info!(tool = %call.tool, request_id = %ctx.request_id, "demo lambda tool call");
    run(call, &ctx.env_config.function_name).await
}

/// The process: the Lambda runtime's loop over `handle`.
pub async fn main() -> Result<(), Error> {
    crate::runtime::init_tracing();
    lambda_runtime::run(service_fn(handle)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn statement(claims: Value) -> String {
        let body = URL_SAFE_NO_PAD.encode(claims.to_string());
        format!("eyJhbGciOiJFUzI1NiJ9.{body}.c2ln")
    }

    #[test]
    fn agentcore_calls_read_the_client_context() {
        let custom = HashMap::from([
            (TOOL_NAME_FIELD.to_owned(), "demo___echo".to_owned()),
            (IDENTITY_FIELD.to_owned(), "a.b.c".to_owned()),
        ]);
        let call = parse_call(json!({"text": "hi"}), Some(&custom)).unwrap();
        assert_eq!(
            call,
            Call {
                tool: "echo".into(),
                gateway_tool: "echo".into(),
                arguments: json!({"text": "hi"}),
                statement: Some("a.b.c".into())
            }
        );
    }

    #[test]
    fn native_calls_read_the_event() {
        let event = json!({"tool": "whoami", "arguments": {}, "caller": "x.y.z"});
        let call = parse_call(event, None).unwrap();
        assert_eq!(call.tool, "whoami");
        assert_eq!(call.statement.as_deref(), Some("x.y.z"));
        assert!(parse_call(json!({"text": "no tool"}), None).is_err());
    }

    #[tokio::test]
    async fn tools_answer_or_fail() {
        let call = |tool: &str, arguments, statement| Call {
            tool: tool.into(),
            gateway_tool: format!("lambda___{tool}"),
            arguments,
            statement,
        };
        let f = "demo-lambda";
        let out = run(call("echo", json!({"text": "hi"}), None), f)
            .await
            .unwrap();
        assert_eq!(out, json!({"text": "hi"}));
        let exp = now_secs() + 60;
        let good = json!({"username": "alice", "sub": "s-1", "groups": ["g"],
                          "aud": "lambda:demo-lambda/lambda___whoami", "exp": exp});
        let out = run(call("whoami", json!({}), Some(statement(good.clone()))), f)
            .await
            .unwrap();
        assert_eq!(out["username"], "alice");
        // Finding 9 of issue #14: a statement for another tool of the same function, or
        // one past its `exp` by a second, is refused.
        let mut other = good.clone();
        other["aud"] = json!("lambda:demo-lambda/lambda___echo");
        let mut expired = good;
        expired["exp"] = json!(now_secs());
        for bad in [other, expired] {
            let r = run(call("whoami", json!({}), Some(statement(bad))), f).await;
            assert!(r.is_err());
        }
        assert!(run(call("fail", json!({}), None), f).await.is_err());
        assert!(run(call("whoami", json!({}), None), f).await.is_err());
        assert!(run(call("nope", json!({}), None), f).await.is_err());
    }
}

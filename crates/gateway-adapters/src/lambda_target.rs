//! Lambda tool targets: `Invoke` (RequestResponse) with the payload of the tool's contract —
//! AgentCore-compatible (the event is the arguments, the tool name and the gateway's
//! identity statement ride in the ClientContext) or native (`{tool, arguments, caller}`).
//! One `aws_sdk_lambda::Client` is built at start-up.
//!
//! A function error, an invoke failure or a timeout is a `TargetError`; its detail (which
//! may name the function) goes to the log only.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_lambda::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::operation::invoke::InvokeError;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::value::RawValue;

use gateway_core::catalog::{LambdaContract, LambdaTarget};
use gateway_core::targets::{TargetError, TargetInvoker, ToolCall, ToolOutput};

/// The ClientContext custom field AgentCore Gateway puts `<target>___<tool>` in.
pub const TOOL_NAME_FIELD: &str = "bedrockAgentCoreToolName";
/// The ClientContext custom field this gateway puts its identity statement in.
pub const IDENTITY_FIELD: &str = "gatewayIdentity";
/// Lambda's limit on the base64-encoded ClientContext.
pub const MAX_CLIENT_CONTEXT_BYTES: usize = 3583;

/// Invokes `lambda` targets.
pub struct LambdaInvoker {
    client: aws_sdk_lambda::Client,
    default_timeout: Duration,
    max_response_bytes: usize,
}

/// What one invocation sends.
#[derive(Debug, PartialEq)]
pub struct Invocation {
    pub payload: Vec<u8>,
    /// Base64 of the ClientContext JSON, when the contract uses one.
    pub client_context: Option<String>,
}

#[derive(Serialize)]
struct ClientContext<'a> {
    custom: Custom<'a>,
}

#[derive(Serialize)]
struct Custom<'a> {
    #[serde(rename = "bedrockAgentCoreToolName")]
    tool_name: String,
    #[serde(rename = "gatewayIdentity")]
    identity: &'a str,
}

#[derive(Serialize)]
struct NativeEvent<'a> {
    tool: &'a str,
    arguments: &'a RawValue,
    caller: &'a str,
}

/// The payload and ClientContext for a call, per contract. Fails (for the log) when the
/// AgentCore ClientContext would exceed Lambda's limit.
pub fn build_invocation(
    contract: LambdaContract,
    target_name: &str,
    tool: &str,
    arguments: &RawValue,
    identity: &str,
) -> Result<Invocation, TargetError> {
    match contract {
        LambdaContract::Agentcore => {
            let context = ClientContext {
                custom: Custom {
                    tool_name: format!("{target_name}___{tool}"),
                    identity,
                },
            };
            let json = serde_json::to_vec(&context).expect("a ClientContext serializes");
            let encoded = STANDARD.encode(json);
            if encoded.len() > MAX_CLIENT_CONTEXT_BYTES {
                return Err(TargetError::NotInvoked(format!(
                    "the ClientContext with the identity statement is {} bytes in \
                     base64, over Lambda's {MAX_CLIENT_CONTEXT_BYTES}",
                    encoded.len()
                )));
            }
            Ok(Invocation {
                payload: arguments.get().as_bytes().to_vec(),
                client_context: Some(encoded),
            })
        }
        LambdaContract::Native => Ok(Invocation {
            payload: serde_json::to_vec(&NativeEvent {
                tool,
                arguments,
                caller: identity,
            })
            .expect("a native event serializes"),
            client_context: None,
        }),
    }
}

/// A function's answer as tool output: JSON when it is JSON (a JSON string then becomes
/// text in the result), text otherwise.
pub fn output_from_payload(payload: &[u8], max: usize) -> Result<ToolOutput, TargetError> {
    if payload.len() > max {
        return Err(TargetError::TooLarge(max));
    }
    let text = std::str::from_utf8(payload)
        .map_err(|_| TargetError::BadResponse("payload is not UTF-8".into()))?;
    match RawValue::from_string(text.to_owned()) {
        Ok(raw) => Ok(ToolOutput::Json(raw)),
        Err(_) => Ok(ToolOutput::Text(text.to_owned())),
    }
}

impl LambdaInvoker {
    pub fn new(
        client: aws_sdk_lambda::Client,
        default_timeout: Duration,
        max_response_bytes: usize,
    ) -> Self {
        Self {
            client,
            default_timeout,
            max_response_bytes,
        }
    }
}

fn classify(e: SdkError<InvokeError>) -> TargetError {
    match &e {
        SdkError::TimeoutError(_) => TargetError::Timeout,
        // Code and message only: the raw response would flood the log.
        SdkError::ServiceError(se) => TargetError::Unreachable(format!(
            "invoke refused (HTTP {}): {}: {}",
            se.raw().status().as_u16(),
            se.err().code().unwrap_or("unknown error"),
            se.err().message().unwrap_or("no message"),
        )),
        _ => TargetError::Unreachable(format!("invoke failed: {}", DisplayErrorContext(&e))),
    }
}

#[async_trait]
impl TargetInvoker<LambdaTarget> for LambdaInvoker {
    async fn invoke(
        &self,
        target: &LambdaTarget,
        call: ToolCall<'_>,
    ) -> Result<ToolOutput, TargetError> {
        let LambdaTarget {
            function,
            contract,
            target_name,
            timeout_ms,
        } = target;
        let tool = call.tool.def.name.as_str();
        let target_name = target_name.as_deref().unwrap_or(function);
        let timeout = timeout_ms.map_or(self.default_timeout, Duration::from_millis);
        // Failures are logged once, by the dispatcher, with the function's name.
        let invocation =
            build_invocation(*contract, target_name, tool, call.arguments, call.identity)?;
        let send = self
            .client
            .invoke()
            .function_name(function)
            .invocation_type(InvocationType::RequestResponse)
            .set_client_context(invocation.client_context)
            .payload(Blob::new(invocation.payload))
            .send();
        match tokio::time::timeout(timeout, send).await {
            Err(_) => Err(TargetError::Timeout),
            Ok(Err(e)) => Err(classify(e)),
            Ok(Ok(resp)) => {
                let payload = resp.payload().map(Blob::as_ref).unwrap_or(b"null");
                match resp.function_error() {
                    Some(kind) => {
                        let shown = &payload[..payload.len().min(512)];
                        Err(TargetError::BadResponse(format!(
                            "function error ({kind}): {}",
                            String::from_utf8_lossy(shown)
                        )))
                    }
                    None => output_from_payload(payload, self.max_response_bytes),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.into()).unwrap()
    }

    fn decoded_context(inv: &Invocation) -> serde_json::Value {
        let bytes = STANDARD
            .decode(inv.client_context.as_deref().unwrap())
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn agentcore_sends_the_arguments_and_a_client_context() {
        let args = raw(r#"{"text": "hi"}"#);
        let inv =
            build_invocation(LambdaContract::Agentcore, "demo", "echo", &args, "a.b.c").unwrap();
        assert_eq!(inv.payload, br#"{"text": "hi"}"#);
        assert_eq!(
            decoded_context(&inv),
            serde_json::json!({"custom": {
                "bedrockAgentCoreToolName": "demo___echo",
                "gatewayIdentity": "a.b.c"
            }})
        );
    }

    #[test]
    fn native_sends_tool_arguments_and_caller() {
        let args = raw(r#"{"text":"hi"}"#);
        let inv = build_invocation(LambdaContract::Native, "demo", "echo", &args, "a.b.c").unwrap();
        assert_eq!(inv.client_context, None);
        let event: serde_json::Value = serde_json::from_slice(&inv.payload).unwrap();
        assert_eq!(
            event,
            serde_json::json!({"tool": "echo", "arguments": {"text": "hi"}, "caller": "a.b.c"})
        );
    }

    #[test]
    fn an_oversized_client_context_is_refused() {
        let args = raw("{}");
        let big = "x".repeat(2700);
        let e =
            build_invocation(LambdaContract::Agentcore, "demo", "echo", &args, &big).unwrap_err();
        assert!(e.to_string().contains("3583"), "{e}");
        // The native contract has no such limit.
        assert!(build_invocation(LambdaContract::Native, "demo", "echo", &args, &big).is_ok());
        // Just under the limit still goes.
        let fits = "x".repeat(2600);
        let inv =
            build_invocation(LambdaContract::Agentcore, "demo", "echo", &args, &fits).unwrap();
        assert!(inv.client_context.unwrap().len() <= MAX_CLIENT_CONTEXT_BYTES);
    }

    #[test]
    fn payloads_become_output() {
        assert!(matches!(
            output_from_payload(br#"{"a":1}"#, 100),
            Ok(ToolOutput::Json(r)) if r.get() == r#"{"a":1}"#
        ));
        assert!(matches!(
            output_from_payload(br#""text""#, 100),
            Ok(ToolOutput::Json(_))
        ));
        assert!(matches!(
            output_from_payload(b"not json", 100),
            Ok(ToolOutput::Text(t)) if t == "not json"
        ));
        assert!(matches!(
            output_from_payload(&[b'1'; 101], 100),
            Err(TargetError::TooLarge(100))
        ));
        assert!(matches!(
            output_from_payload(&[0xff, 0xfe], 100),
            Err(TargetError::BadResponse(_))
        ));
    }
}

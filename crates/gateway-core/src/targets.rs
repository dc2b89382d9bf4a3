//! The narrow interface between MCP dispatch and whatever runs a tool, and how a target's
//! answer (or failure) becomes an MCP `CallToolResult`.
//!
//! Pure: adapters (`adapters::http_target`, `adapters::lambda_target`,
//! `adapters::mcp_upstream`) implement `ToolInvoker`; nothing here knows about HTTP clients.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::auth::Principal;
use crate::catalog::Tool;

/// One call, as the invoker sees it. The caller's token is deliberately absent: targets
/// never receive it.
pub struct ToolCall<'a> {
    pub tool: &'a Tool,
    pub arguments: &'a RawValue,
    pub correlation_id: &'a str,
    /// Who called, for targets that receive it in their payload.
    pub caller: &'a Principal,
    /// The gateway-signed statement of who called (`crate::identity`).
    pub identity: &'a str,
}

/// A target's answer.
#[derive(Debug)]
pub enum ToolOutput {
    Json(Box<RawValue>),
    Text(String),
    /// An upstream MCP server's `CallToolResult`, passed on as the client would have
    /// seen it (its content blocks, structured content and `isError`).
    Mcp(Box<RawValue>),
}

/// Why a target did not answer usefully. The detail goes to the log, never to the client.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("target timed out")]
    Timeout,
    #[error("target unreachable: {0}")]
    Unreachable(String),
    #[error("target answered HTTP {0}")]
    Status(u16),
    #[error("target response exceeds {0} bytes")]
    TooLarge(usize),
    #[error("target response unusable: {0}")]
    BadResponse(String),
    /// The target answered with an error of its own (an upstream's JSON-RPC error).
    #[error("target refused the call: {0}")]
    Refused(String),
    /// The gateway could not make the call at all (credentials, identity statement).
    #[error("target not invoked: {0}")]
    NotInvoked(String),
}

impl TargetError {
    /// The stable code of this failure: an audit record's `targetError`. Stored data that
    /// `gatewayctl audit` queries, so a code never changes once shipped, whatever the
    /// variant is called; the detail (status text, upstream message) never goes in.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Timeout => "Timeout",
            Self::Unreachable(_) => "Unreachable",
            Self::Status(_) => "Status",
            Self::TooLarge(_) => "TooLarge",
            Self::BadResponse(_) => "BadResponse",
            Self::Refused(_) => "Refused",
            Self::NotInvoked(_) => "NotInvoked",
        }
    }
}

/// What the core calls a tool through: any target kind (the adapters' router picks the
/// invoker for the tool's kind).
#[async_trait]
pub trait ToolInvoker: Send + Sync {
    async fn invoke(&self, call: ToolCall<'_>) -> Result<ToolOutput, TargetError>;
}

/// Calls targets of one kind `T` (`HttpTarget`, `LambdaTarget`, `McpTarget`): each invoker
/// receives exactly the target type it serves, so none has a branch for another kind.
#[async_trait]
pub trait TargetInvoker<T: Sync>: Send + Sync {
    async fn invoke(&self, target: &T, call: ToolCall<'_>) -> Result<ToolOutput, TargetError>;
}

#[derive(Debug, Serialize)]
struct TextContent {
    #[serde(rename = "type")]
    kind: &'static str,
    text: String,
}

/// A result's content blocks: the gateway's one text block, or an upstream's own blocks.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Content {
    Text([TextContent; 1]),
    Blocks(Box<RawValue>),
}

/// What is kept of an upstream's `CallToolResult`; anything else (`_meta` included) is
/// dropped rather than relayed unexamined.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpstreamResult {
    content: Box<RawValue>,
    #[serde(default)]
    structured_content: Option<Box<RawValue>>,
    #[serde(default)]
    is_error: bool,
}

/// A `CallToolResult` (plus `resultType` in the per-request era).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolResult {
    content: Content,
    #[serde(skip_serializing_if = "Option::is_none")]
    structured_content: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    is_error: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    result_type: Option<&'static str>,
}

impl CallToolResult {
    /// The result for a target's output. A JSON string becomes its text; other JSON is shown
    /// as text and, when the tool declares an `outputSchema`, is also given as
    /// `structuredContent` — which must then be an object: clients reject a result without
    /// it, so any other answer is a target error.
    pub fn success(tool: &Tool, output: ToolOutput) -> Result<Self, TargetError> {
        let (text, structured_content) = match output {
            ToolOutput::Mcp(raw) => return Self::relayed(tool, &raw),
            ToolOutput::Text(t) => (t, None),
            ToolOutput::Json(raw) => match serde_json::from_str::<String>(raw.get()) {
                Ok(s) => (s, None),
                Err(_) => {
                    let text = raw.get().to_owned();
                    let structured =
                        (tool.def.output_schema.is_some() && text.starts_with('{')).then_some(raw);
                    (text, structured)
                }
            },
        };
        if tool.def.output_schema.is_some() && structured_content.is_none() {
            return Err(TargetError::BadResponse(
                "the tool declares an outputSchema but the answer is not a JSON object".into(),
            ));
        }
        Ok(Self::new(text, structured_content, false))
    }

    /// An upstream's result: its content must be an array of blocks; a success of a tool
    /// with an `outputSchema` must carry an object `structuredContent`. An upstream's own
    /// `isError` result is relayed: it is the tool's answer, meant for the model.
    fn relayed(tool: &Tool, raw: &RawValue) -> Result<Self, TargetError> {
        let bad = |why: &str| TargetError::BadResponse(format!("upstream result: {why}"));
        let r: UpstreamResult = serde_json::from_str(raw.get()).map_err(|_| bad("not a result"))?;
        if !r.content.get().starts_with('[') {
            return Err(bad("content is not an array"));
        }
        let structured = r.structured_content.filter(|s| s.get().starts_with('{'));
        if tool.def.output_schema.is_some() && !r.is_error && structured.is_none() {
            return Err(bad(
                "the tool declares an outputSchema but gave no structuredContent",
            ));
        }
        Ok(Self {
            content: Content::Blocks(r.content),
            structured_content: structured,
            is_error: r.is_error,
            result_type: None,
        })
    }

    /// The result for a failed target: generic text with the id that finds the log line.
    pub fn failure(correlation_id: &str) -> Self {
        let text = format!("The tool could not be completed. Correlation id: {correlation_id}");
        Self::new(text, None, true)
    }

    fn new(text: String, structured_content: Option<Box<RawValue>>, is_error: bool) -> Self {
        Self {
            content: Content::Text([TextContent { kind: "text", text }]),
            structured_content,
            is_error,
            result_type: None,
        }
    }

    /// Marks the result for the per-request era, where every result names its type.
    pub fn with_result_type(mut self, result_type: Option<&'static str>) -> Self {
        self.result_type = result_type;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use crate::catalog::{Catalog, HttpTarget, Target, ToolDefinition};

    fn tool(output_schema: bool) -> Arc<Tool> {
        let def = ToolDefinition {
            name: "t".into(),
            title: None,
            description: None,
            input_schema: serde_json::json!({"type": "object"}),
            output_schema: output_schema.then(|| serde_json::json!({"type": "object"})),
            annotations: None,
            target: Target::Http(HttpTarget {
                insecure_http: false,
                url: "https://x/t".into(),
                timeout_ms: None,
                auth: None,
            }),
        };
        Arc::clone(Catalog::build(vec![def]).unwrap().get("t").unwrap())
    }

    fn json(s: &str) -> ToolOutput {
        ToolOutput::Json(RawValue::from_string(s.into()).unwrap())
    }

    fn rendered(r: &CallToolResult) -> serde_json::Value {
        serde_json::to_value(r).unwrap()
    }

    #[test]
    fn answers_become_content() {
        let plain = tool(false);
        let r = CallToolResult::success(&plain, json(r#""hello""#)).unwrap();
        assert_eq!(
            rendered(&r),
            serde_json::json!({"content": [{"type": "text", "text": "hello"}]})
        );
        let r = CallToolResult::success(&plain, json(r#"{"a":1}"#)).unwrap();
        assert_eq!(rendered(&r)["content"][0]["text"], r#"{"a":1}"#);
        assert!(rendered(&r).get("structuredContent").is_none());
        let typed = tool(true);
        let r = CallToolResult::success(&typed, json(r#"{"a":1}"#)).unwrap();
        assert_eq!(
            rendered(&r)["structuredContent"],
            serde_json::json!({"a": 1})
        );
    }

    #[test]
    fn a_declared_output_schema_needs_an_object_answer() {
        let typed = tool(true);
        for out in [
            json("[1]"),
            json(r#""text""#),
            ToolOutput::Text("plain".into()),
        ] {
            assert!(matches!(
                CallToolResult::success(&typed, out),
                Err(TargetError::BadResponse(_))
            ));
        }
        let f = rendered(&CallToolResult::failure("req-1"));
        assert_eq!(f["isError"], true);
        assert!(f["content"][0]["text"].as_str().unwrap().contains("req-1"));
    }

    /// These strings are stored data (audit records in DynamoDB): never change one. They
    /// are what the `Debug` variant names gave before codes were explicit.
    #[test]
    fn target_error_codes_are_pinned() {
        let codes = [
            (TargetError::Timeout, "Timeout"),
            (TargetError::Unreachable("dns".into()), "Unreachable"),
            (TargetError::Status(502), "Status"),
            (TargetError::TooLarge(1 << 20), "TooLarge"),
            (TargetError::BadResponse("not JSON".into()), "BadResponse"),
            (TargetError::Refused("Upstream".into()), "Refused"),
            (TargetError::NotInvoked("KMS".into()), "NotInvoked"),
        ];
        for (error, code) in codes {
            assert_eq!(error.code(), code, "{error:?}");
        }
    }
}

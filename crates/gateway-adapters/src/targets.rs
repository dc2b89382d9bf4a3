//! The invoker the core is given: one `ToolInvoker` that sends each call to the adapter for
//! its target's kind (`adapters::http_target`, `adapters::lambda_target` or
//! `adapters::mcp_upstream`). A new target
//! kind adds a field and an arm here; the core never learns which adapter ran.

use std::sync::Arc;

use async_trait::async_trait;

use gateway_core::catalog::{HttpTarget, LambdaTarget, McpTarget, Target};
use gateway_core::targets::{TargetError, TargetInvoker, ToolCall, ToolInvoker, ToolOutput};

/// Dispatches by `Target` kind: the one place a target's kind is matched.
pub struct TargetRouter {
    http: Arc<dyn TargetInvoker<HttpTarget>>,
    lambda: Arc<dyn TargetInvoker<LambdaTarget>>,
    mcp: Arc<dyn TargetInvoker<McpTarget>>,
}

impl TargetRouter {
    /// Each serves the targets of its kind.
    pub fn new(
        http: Arc<dyn TargetInvoker<HttpTarget>>,
        lambda: Arc<dyn TargetInvoker<LambdaTarget>>,
        mcp: Arc<dyn TargetInvoker<McpTarget>>,
    ) -> Self {
        Self { http, lambda, mcp }
    }
}

#[async_trait]
impl ToolInvoker for TargetRouter {
    async fn invoke(&self, call: ToolCall<'_>) -> Result<ToolOutput, TargetError> {
        match &call.tool.def.target {
            Target::Http(t) => self.http.invoke(t, call).await,
            Target::Lambda(t) => self.lambda.invoke(t, call).await,
            Target::Mcp(t) => self.mcp.invoke(t, call).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::value::RawValue;

    use gateway_core::auth::Principal;
    use gateway_core::catalog::{Catalog, LambdaContract, Tool, ToolDefinition};

    /// Answers with its own name, so the test sees which adapter ran.
    struct Named(&'static str);

    #[async_trait]
    impl<T: Sync> TargetInvoker<T> for Named {
        async fn invoke(&self, _t: &T, _call: ToolCall<'_>) -> Result<ToolOutput, TargetError> {
            Ok(ToolOutput::Text(self.0.into()))
        }
    }

    fn tool(name: &str, target: Target) -> ToolDefinition {
        ToolDefinition {
            name: name.into(),
            title: None,
            description: None,
            input_schema: serde_json::json!({"type": "object"}),
            output_schema: None,
            annotations: None,
            target,
        }
    }

    fn principal() -> Principal {
        Principal {
            issuer: "https://issuer".into(),
            subject: "s-1".into(),
            username: "alice".into(),
            email: None,
            groups: vec![],
            scopes: vec![],
            client_id: None,
            expires_at: 0,
            token_id: None,
        }
    }

    async fn routed(router: &TargetRouter, tool: &Tool) -> String {
        let args = RawValue::from_string("{}".into()).unwrap();
        let caller = principal();
        let call = ToolCall {
            tool,
            arguments: &args,
            correlation_id: "req-1",
            caller: &caller,
            identity: "a.b.c",
        };
        match router.invoke(call).await.unwrap() {
            ToolOutput::Text(t) => t,
            ToolOutput::Json(j) | ToolOutput::Mcp(j) => j.get().to_owned(),
        }
    }

    #[tokio::test]
    async fn each_kind_goes_to_its_adapter() {
        let catalog = Catalog::build(vec![
            tool(
                "h",
                Target::Http(HttpTarget {
                    insecure_http: false,
                    url: "https://tools.example/h".into(),
                    timeout_ms: None,
                    auth: None,
                }),
            ),
            tool(
                "l",
                Target::Lambda(LambdaTarget {
                    function: "fn".into(),
                    contract: LambdaContract::Native,
                    target_name: None,
                    timeout_ms: None,
                }),
            ),
            tool(
                "m",
                Target::Mcp(McpTarget {
                    insecure_http: false,
                    url: "https://mcp.example/mcp".into(),
                    tool: "echo".into(),
                    timeout_ms: None,
                    auth: None,
                }),
            ),
        ])
        .unwrap();
        let router = TargetRouter::new(
            Arc::new(Named("http")),
            Arc::new(Named("lambda")),
            Arc::new(Named("mcp")),
        );
        let h: Arc<Tool> = Arc::clone(catalog.get("h").unwrap());
        let l: Arc<Tool> = Arc::clone(catalog.get("l").unwrap());
        let m: Arc<Tool> = Arc::clone(catalog.get("m").unwrap());
        assert_eq!(routed(&router, &h).await, "http");
        assert_eq!(routed(&router, &l).await, "lambda");
        assert_eq!(routed(&router, &m).await, "mcp");
    }
}

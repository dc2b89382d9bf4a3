//! Where a tool call is sent — an HTTP endpoint, a Lambda function or a tool of an upstream
//! MCP server — and the checks a target must pass before the gateway will call it.

use serde::{Deserialize, Serialize};

use super::CatalogError;
use crate::outbound::OutboundAuth;

/// Where a tool call is sent. Only catalog entries name targets, never requests. Each kind
/// is its own type, so each invoker receives exactly the target it serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Target {
    Http(HttpTarget),
    Lambda(LambdaTarget),
    Mcp(McpTarget),
}

/// POST the arguments as JSON to `url`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpTarget {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// The gateway's own credentials for the target (`crate::outbound`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<OutboundAuth>,
    /// Lets identity statements go over plain `http://` to a host other than loopback
    /// (in clear text: anyone on the path can read and replay them until they expire).
    /// Off by default: such a URL is refused. Never allows credentials (`auth`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure_http: bool,
}

/// Invoke a Lambda function (RequestResponse).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LambdaTarget {
    /// Function name or ARN (with an optional alias or version).
    pub function: String,
    pub contract: LambdaContract,
    /// The `<target>` of AgentCore's `<target>___<tool>` tool name; the function name
    /// when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

/// Call `tool` on the Streamable HTTP MCP server at `url`. Federated tools
/// (`crate::federation`) get this target; a catalog may also name one tool directly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct McpTarget {
    pub url: String,
    /// The tool's name on the upstream server.
    pub tool: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<OutboundAuth>,
    /// As for `http` targets.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure_http: bool,
}

/// What a Lambda target receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LambdaContract {
    /// Bedrock AgentCore Gateway's: the event is the arguments; the tool name is in the
    /// ClientContext custom field `bedrockAgentCoreToolName` as `<target>___<tool>`.
    Agentcore,
    /// `{tool, arguments, caller}`, `caller` being the signed identity statement.
    Native,
}

impl LambdaContract {
    pub fn as_str(self) -> &'static str {
        match self {
            LambdaContract::Agentcore => "agentcore",
            LambdaContract::Native => "native",
        }
    }
}

/// The `scheme://authority` of a URL: who a statement for it is addressed to.
pub fn origin(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after_scheme + i);
    url[..end].to_owned()
}

impl Target {
    /// Who a signed identity statement for tool `tool` is addressed to (its `aud`, see
    /// `crate::identity`): an HTTP or MCP target's URL exactly, `lambda:<function>/<tool>`
    /// for a Lambda target.
    pub fn audience(&self, tool: &str) -> String {
        match self {
            Target::Http(HttpTarget { url, .. }) | Target::Mcp(McpTarget { url, .. }) => {
                url.clone()
            }
            Target::Lambda(l) => format!("lambda:{}/{tool}", l.function),
        }
    }

    /// Whether statements go to it over plain http off the host (`insecureHttp`).
    pub fn insecure_http(&self) -> bool {
        match self {
            Target::Http(HttpTarget {
                url, insecure_http, ..
            })
            | Target::Mcp(McpTarget {
                url, insecure_http, ..
            }) => *insecure_http && !crate::urls::url_is_safe(url),
            Target::Lambda(_) => false,
        }
    }

    /// The target's own timeout, if it sets one.
    pub fn timeout_ms(&self) -> Option<u64> {
        match self {
            Target::Http(HttpTarget { timeout_ms, .. })
            | Target::Lambda(LambdaTarget { timeout_ms, .. })
            | Target::Mcp(McpTarget { timeout_ms, .. }) => *timeout_ms,
        }
    }

    /// `http`, `lambda` or `mcp`: for logs and listings.
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Http(_) => "http",
            Target::Lambda(_) => "lambda",
            Target::Mcp(_) => "mcp",
        }
    }
}

/// An absolute `http://` or `https://` URL without whitespace.
pub fn url_is_absolute(url: &str) -> bool {
    let scheme_ok = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
    scheme_ok && !url.chars().any(char::is_whitespace)
}

/// Checks a URL and its outbound credentials; `owner` names the tool (or upstream) in
/// the error. Identity statements go to every such URL, so plain `http://` off the host is
/// refused unless `insecure_http` says otherwise (finding 9 of issue #14).
pub fn check_endpoint(
    owner: &str,
    url: &str,
    auth: Option<&OutboundAuth>,
    insecure_http: bool,
) -> Result<(), CatalogError> {
    if let Some(auth) = auth {
        // Credentials never travel in clear text beyond this host.
        let reason = if crate::urls::url_is_safe(url) {
            crate::outbound::validate(auth).err()
        } else {
            Some("credentials are sent to https:// (or loopback http://) URLs only".into())
        };
        if let Some(reason) = reason {
            return Err(CatalogError::BadAuth {
                name: owner.to_owned(),
                reason,
            });
        }
    }
    // A fragment is never sent: the statement's `aud` (the URL) would not be what the
    // target sees it was called at.
    // An unexpanded placeholder is never stored: exported and imported again, it would be
    // filled from whatever environment the importing operator has.
    if !url_is_absolute(url) || url.contains('#') || url.contains("${") {
        return Err(CatalogError::BadUrl {
            name: owner.to_owned(),
            url: url.to_owned(),
        });
    }
    if !insecure_http && !crate::urls::url_is_safe(url) {
        return Err(CatalogError::InsecureUrl {
            name: owner.to_owned(),
            url: url.to_owned(),
        });
    }
    Ok(())
}

/// Checks that a tool's target reads its credentials only from sources `sources` allows.
pub fn check_sources(
    name: &str,
    target: &Target,
    sources: &crate::outbound::SecretSources,
) -> Result<(), CatalogError> {
    let auth = match target {
        Target::Http(HttpTarget { auth, .. }) | Target::Mcp(McpTarget { auth, .. }) => {
            auth.as_ref()
        }
        Target::Lambda(_) => None,
    };
    match auth.map(|a| crate::outbound::check_sources(a, sources)) {
        Some(Err(reason)) => Err(CatalogError::ForbiddenSecret {
            name: name.to_owned(),
            field: format!("target.auth.{reason}"),
        }),
        _ => Ok(()),
    }
}

/// Whether a timeout is one the gateway accepts: 1 ms to 15 minutes.
pub fn timeout_is_valid(timeout_ms: Option<u64>) -> bool {
    timeout_ms.is_none_or(|t| (1..=900_000).contains(&t))
}

/// Checks a tool's target.
pub fn validate(name: &str, target: &Target) -> Result<(), CatalogError> {
    match target {
        Target::Http(HttpTarget {
            url,
            auth,
            insecure_http,
            ..
        }) => check_endpoint(name, url, auth.as_ref(), *insecure_http)?,
        Target::Mcp(McpTarget {
            url,
            auth,
            tool,
            insecure_http,
            ..
        }) => {
            check_endpoint(name, url, auth.as_ref(), *insecure_http)?;
            // Upstream names are not ours to restrict, but they travel in JSON only.
            if tool.is_empty() || tool.len() > 256 || tool.chars().any(char::is_control) {
                return Err(CatalogError::BadUpstreamTool {
                    name: name.to_owned(),
                });
            }
        }
        Target::Lambda(LambdaTarget { function, .. }) => {
            let ok = (1..=170).contains(&function.len())
                && function
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_:.$".contains(&b));
            if !ok {
                return Err(CatalogError::BadFunction {
                    name: name.to_owned(),
                    function: function.clone(),
                });
            }
        }
    }
    if !timeout_is_valid(target.timeout_ms()) {
        return Err(CatalogError::BadTimeout {
            name: name.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The stored form is the one the catalog file, DynamoDB items and `gatewayctl export`
    /// hold: `kind` beside the fields, and a field no kind has is refused.
    #[test]
    fn targets_keep_their_stored_form_and_refuse_unknown_fields() {
        for stored in [
            json!({"kind": "http", "url": "https://t.example/x", "timeoutMs": 5}),
            json!({"kind": "lambda", "function": "f", "contract": "native", "targetName": "t"}),
            json!({"kind": "mcp", "url": "https://m.example/mcp", "tool": "echo", "insecureHttp": true}),
        ] {
            let t: Target = serde_json::from_value(stored.clone()).unwrap();
            assert_eq!(serde_json::to_value(&t).unwrap(), stored);
        }
        for bad in [
            json!({"kind": "http", "url": "https://t.example/x", "function": "f"}),
            json!({"kind": "lambda", "function": "f", "contract": "native", "url": "https://x"}),
            json!({"kind": "mcp", "url": "https://m.example/mcp", "tool": "echo", "x": 1}),
            json!({"kind": "ftp", "url": "ftp://x"}),
            json!({"url": "https://t.example/x"}),
        ] {
            assert!(
                serde_json::from_value::<Target>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn mcp_targets_are_checked_like_http_ones() {
        let t: Target = serde_json::from_value(
            json!({"kind": "mcp", "url": "https://mcp.example/mcp", "tool": "echo", "timeoutMs": 500}),
        )
        .unwrap();
        assert!(validate("x", &t).is_ok());
        assert_eq!(t.audience("x"), "https://mcp.example/mcp");
        assert_eq!(t.kind(), "mcp");
        let bad_url: Target =
            serde_json::from_value(json!({"kind": "mcp", "url": "mcp.example", "tool": "echo"}))
                .unwrap();
        assert!(matches!(
            validate("x", &bad_url),
            Err(CatalogError::BadUrl { .. })
        ));
        let bad_tool: Target =
            serde_json::from_value(json!({"kind": "mcp", "url": "https://m/mcp", "tool": ""}))
                .unwrap();
        assert!(matches!(
            validate("x", &bad_tool),
            Err(CatalogError::BadUpstreamTool { .. })
        ));
        let clear: Target = serde_json::from_value(json!({"kind": "mcp",
            "url": "http://mcp.example/mcp", "tool": "t",
            "auth": {"kind": "header", "name": "x-api-key", "value": {"env": "K"}}}))
        .unwrap();
        assert!(matches!(
            validate("x", &clear),
            Err(CatalogError::BadAuth { .. })
        ));
        assert_eq!(origin("http://127.0.0.1:9/a?b"), "http://127.0.0.1:9");
    }

    /// Finding 9 of issue #14: statements went in clear text to plain-http targets off the
    /// host. Refused unless the entry says `insecureHttp: true`; loopback stays allowed.
    #[test]
    fn plain_http_off_the_host_needs_insecure_http() {
        let t = |v: serde_json::Value| serde_json::from_value::<Target>(v).unwrap();
        for kind in [json!({"kind": "http"}), json!({"kind": "mcp", "tool": "t"})] {
            let mut v = kind.clone();
            v["url"] = json!("http://tools.internal.example/echo");
            assert!(matches!(
                validate("x", &t(v.clone())),
                Err(CatalogError::InsecureUrl { .. })
            ));
            v["insecureHttp"] = json!(true);
            assert!(validate("x", &t(v.clone())).is_ok());
            assert!(t(v.clone()).insecure_http());
            v["url"] = json!("http://127.0.0.1:9/echo");
            v["insecureHttp"] = json!(false);
            assert!(validate("x", &t(v.clone())).is_ok());
            assert!(!t(v).insecure_http());
        }
        let frag = t(json!({"kind": "http", "url": "https://tools.example/echo#x"}));
        assert!(matches!(
            validate("x", &frag),
            Err(CatalogError::BadUrl { .. })
        ));
        let lambda = t(
            json!({"kind": "lambda", "function": "arn:aws:lambda:us-east-1:123456789012:function:f:live", "contract": "native"}),
        );
        assert_eq!(
            lambda.audience("whoami"),
            "lambda:arn:aws:lambda:us-east-1:123456789012:function:f:live/whoami"
        );
    }
}

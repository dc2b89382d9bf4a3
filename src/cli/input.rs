//! What `gatewayctl` reads: configuration documents and single items from files or stdin
//! (YAML or JSON, `${VAR}` in target URLs expanded exactly as the catalog file source does),
//! and the DynamoDB connection from the global options.

use std::cell::RefCell;
use std::io::Read;
use std::path::Path;

use crate::adapters::aws_clients::AwsClients;
use serde::de::DeserializeOwned;

use super::{CliError, Global};
use crate::adapters::catalog_file;
use crate::adapters::dynamodb_admin::DynamoAdmin;
use crate::adapters::dynamodb_config::DynamoConfig;
use crate::catalog::ToolDefinition;
use crate::config::url_is_safe;
use crate::policy::{ConfigDocument, GroupPolicy};

/// Stands in for an unset `${VAR}` when only the document's shape is checked.
const PLACEHOLDER_URL: &str = "https://unset.invalid";

/// What to do with an unset `${VAR}` in a target URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Missing {
    /// An error naming the variable (import, tool put: the URL is stored).
    Refuse,
    /// A placeholder, reported back (validate, explain: the URL is not used).
    Placeholder,
}

fn read_text(path: &str) -> Result<String, CliError> {
    let mut text = String::new();
    let read = if path == "-" {
        std::io::stdin().read_to_string(&mut text).map(drop)
    } else {
        std::fs::read_to_string(path).map(|t| text = t)
    };
    read.map_err(|e| CliError::Input(format!("{path}: cannot read: {e}")))?;
    Ok(text)
}

/// Parses, expands and validates a whole document. Returns it with the unset variables a
/// placeholder stood in for.
fn parse_document(
    name: &str,
    text: &str,
    missing: Missing,
) -> Result<(ConfigDocument, Vec<String>), CliError> {
    let unset = RefCell::new(Vec::<String>::new());
    let env = |var: &str| {
        let value = std::env::var(var).ok();
        if missing == Missing::Refuse {
            return value;
        }
        value.filter(|v| !v.is_empty()).or_else(|| {
            let mut unset = unset.borrow_mut();
            if !unset.iter().any(|u| u == var) {
                unset.push(var.to_owned());
            }
            Some(PLACEHOLDER_URL.to_owned())
        })
    };
    // The same allow-list of outbound secret sources as the gateway's (same variables).
    let sources = crate::config::outbound::from_env(&|k: &str| std::env::var(k).ok())
        .map_err(|e| CliError::Usage(e.to_string()))?;
    // The error already names the file ("catalog FILE: ..."); drop the source's prefix.
    let doc = catalog_file::parse(name, text, &env, &sources).map_err(|e| {
        let msg = e.to_string();
        CliError::Input(msg.strip_prefix("catalog ").unwrap_or(&msg).to_owned())
    })?;
    Ok((doc, unset.into_inner()))
}

/// The document in `file`, validated, every `${VAR}` set.
pub fn document(file: &Path) -> Result<ConfigDocument, CliError> {
    let name = file.display().to_string();
    let text = read_text(&name)?;
    Ok(parse_document(&name, &text, Missing::Refuse)?.0)
}

/// The document in `file`, validated; unset variables replaced by a placeholder and named.
pub fn document_for_check(file: &Path) -> Result<(ConfigDocument, Vec<String>), CliError> {
    let name = file.display().to_string();
    let text = read_text(&name)?;
    parse_document(&name, &text, Missing::Placeholder)
}

fn item<T: DeserializeOwned>(path: &str, what: &str) -> Result<T, CliError> {
    let text = read_text(path)?;
    let name = if path == "-" { "(stdin)" } else { path };
    serde_norway::from_str(&text)
        .map_err(|e| CliError::Input(format!("{name}: not a {what} (YAML or JSON): {e}")))
}

/// One group policy from a file or stdin (validated by the store before writing).
pub fn policy(path: &str) -> Result<GroupPolicy, CliError> {
    item(path, "group policy")
}

/// One tool definition from a file or stdin, `${VAR}` in its URL expanded and validated.
pub fn tool(path: &str) -> Result<ToolDefinition, CliError> {
    let t: ToolDefinition = item(path, "tool definition")?;
    let name = if path == "-" { "(stdin)" } else { path };
    // The catalog source's expansion, through a one-tool document.
    let doc = ConfigDocument {
        policies: vec![],
        tools: vec![t],
        ..ConfigDocument::default()
    };
    let (mut doc, _) = parse_document(name, &doc.to_yaml(), Missing::Refuse)?;
    Ok(doc.tools.remove(0))
}

/// One upstream MCP server from a file or stdin, `${VAR}` in its URL expanded and validated
/// as in a document.
pub fn upstream(path: &str) -> Result<crate::federation::Upstream, CliError> {
    let u = item(path, "upstream definition")?;
    let name = if path == "-" { "(stdin)" } else { path };
    let doc = ConfigDocument {
        upstreams: vec![u],
        ..ConfigDocument::default()
    };
    let (mut doc, _) = parse_document(name, &doc.to_yaml(), Missing::Refuse)?;
    Ok(doc.upstreams.remove(0))
}

/// The table name from `--table` / `GATEWAY_POLICY_TABLE`, checked as DynamoDB does.
fn table(g: &Global) -> Result<String, CliError> {
    let Some(t) = g.table.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        return Err(CliError::Usage(
            "no table: pass --table TABLE or set GATEWAY_POLICY_TABLE".into(),
        ));
    };
    let ok = (3..=255).contains(&t.len())
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
    if !ok {
        return Err(CliError::Usage(format!(
            "{t:?} is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ - .)"
        )));
    }
    Ok(t.to_owned())
}

/// `--endpoint-url`, checked: https, or http on loopback only.
pub(super) fn endpoint(g: &Global) -> Result<Option<&str>, CliError> {
    let endpoint = g
        .endpoint_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    if let Some(u) = endpoint {
        if !url_is_safe(u) {
            return Err(CliError::Usage(format!(
                "endpoint {u:?} must be an https:// URL (http:// only on 127.0.0.1, localhost or [::1])"
            )));
        }
    }
    Ok(endpoint)
}

fn no_region() -> CliError {
    CliError::Usage("no AWS region: pass --region REGION or set AWS_REGION".into())
}

fn region(g: &Global) -> Option<&str> {
    g.region.as_deref().map(str::trim).filter(|r| !r.is_empty())
}

/// The gateway's AWS clients (the same retries and time-outs), with the endpoint and region
/// options applied to every one; a region is required.
pub async fn aws(g: &Global) -> Result<AwsClients, CliError> {
    let clients = AwsClients::load_with(endpoint(g)?, region(g)).await;
    if clients.region().is_none() {
        return Err(no_region());
    }
    Ok(clients)
}

/// The configuration table, through the gateway's DynamoDB client.
pub async fn connect(g: &Global) -> Result<DynamoAdmin, CliError> {
    let table = table(g)?;
    Ok(DynamoAdmin::new(DynamoConfig::new(client(g).await?, table)))
}

/// The DynamoDB client of the gateway (bounded retries and timeouts), with the endpoint and
/// region options applied.
pub async fn client(g: &Global) -> Result<aws_sdk_dynamodb::Client, CliError> {
    Ok(aws(g).await?.dynamodb())
}

/// The Secrets Manager client of the gateway, with the endpoint and region options applied.
pub async fn secrets(g: &Global) -> Result<aws_sdk_secretsmanager::Client, CliError> {
    Ok(aws(g).await?.secrets())
}

/// The KMS client of the gateway, with the endpoint and region options applied (for
/// `audit verify`, which checks chain heads with VerifyMac).
pub async fn kms(g: &Global) -> Result<aws_sdk_kms::Client, CliError> {
    Ok(aws(g).await?.kms())
}

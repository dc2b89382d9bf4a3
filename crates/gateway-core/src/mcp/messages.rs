//! The shapes dispatch reads and writes: the params of the methods it serves (borrowed from
//! the body, parsed once) and the result bodies of initialize, server/discover, tools/list
//! and the empty result, with the capabilities the server declares.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::error::McpError;

#[derive(Deserialize, Default)]
pub(super) struct RequestMeta<'a> {
    #[serde(borrow, rename = "io.modelcontextprotocol/protocolVersion")]
    pub(super) protocol_version: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
pub(super) struct MetaParams<'a> {
    #[serde(borrow, rename = "_meta", default)]
    pub(super) meta: Option<RequestMeta<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct InitializeParams<'a> {
    #[serde(borrow)]
    pub(super) protocol_version: Cow<'a, str>,
}

#[derive(Deserialize, Default)]
pub(super) struct ListParams<'a> {
    #[serde(borrow, default)]
    pub(super) cursor: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
pub(super) struct CallParams<'a> {
    #[serde(borrow, rename = "_meta", default)]
    pub(super) meta: Option<RequestMeta<'a>>,
    #[serde(borrow)]
    pub(super) name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(super) arguments: Option<&'a RawValue>,
}

pub(super) fn typed<'a, T: Deserialize<'a>>(params: Option<&'a RawValue>) -> Result<T, McpError> {
    serde_json::from_str(params.map_or("{}", RawValue::get))
        .map_err(|e| McpError::InvalidParams(e.to_string()))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Implementation<'a> {
    pub(super) name: &'a str,
    pub(super) title: &'a str,
    pub(super) version: &'a str,
}

#[derive(Serialize)]
pub(super) struct ResultMeta<'a> {
    #[serde(rename = "io.modelcontextprotocol/serverInfo")]
    pub(super) server_info: Implementation<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct InitializeResult<'a> {
    pub(super) protocol_version: &'static str,
    pub(super) capabilities: serde_json::Value,
    pub(super) server_info: Implementation<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) instructions: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DiscoverResult<'a> {
    pub(super) supported_versions: &'static [&'static str],
    pub(super) capabilities: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) instructions: Option<&'a str>,
    pub(super) result_type: &'static str,
    pub(super) ttl_ms: u64,
    pub(super) cache_scope: &'static str,
    #[serde(rename = "_meta")]
    pub(super) meta: ResultMeta<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ListToolsResult<'a> {
    pub(super) tools: Vec<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) result_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) ttl_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) cache_scope: Option<&'static str>,
}

#[derive(Serialize)]
pub(super) struct EmptyResult {}

pub(super) fn capabilities() -> serde_json::Value {
    serde_json::json!({ "tools": { "listChanged": false } })
}

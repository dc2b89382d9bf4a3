//! Validation against the official MCP JSON Schemas of each version: results, errors and
//! the error codes each version allows.

use std::sync::OnceLock;

use jsonschema::ValidatorMap;
use serde_json::Value;

use super::*;

/// Where the official MCP schemas are: in the repository (tests/data/README.md says where
/// they come from). A missing schema fails the test loudly; it is never skipped.
pub const SCHEMA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/mcp-schema");

/// The schema file that governs a protocol version (2025-03-26 has no file of its own; its
/// messages are a subset of 2025-06-18's).
pub fn schema_file(version: &str) -> &'static str {
    match version {
        "2025-03-26" | "2025-06-18" => "2025-06-18",
        "2025-11-25" => "2025-11-25",
        "2026-07-28" => "2026-07-28",
        other => panic!("no schema for protocol version {other}"),
    }
}

/// Every subschema of one schema file, compiled once per test process.
fn validators(file: &str) -> &'static ValidatorMap {
    static MAPS: [OnceLock<ValidatorMap>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = match file {
        "2025-06-18" => &MAPS[0],
        "2025-11-25" => &MAPS[1],
        "2026-07-28" => &MAPS[2],
        other => panic!("no schema file {other}"),
    };
    slot.get_or_init(|| {
        let path = format!("{SCHEMA_DIR}/{file}.schema.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("MCP schema {path} is required (tests/data/mcp-schema/): {e}")
        });
        let schema: Value = serde_json::from_str(&text).expect("schema file is JSON");
        jsonschema::validator_map_for(&schema)
            .unwrap_or_else(|e| panic!("MCP schema {path} does not compile: {e}"))
    })
}

/// Whether the schema of `version` defines `name`.
pub fn has_def(version: &str, name: &str) -> bool {
    let file = schema_file(version);
    validators(file).contains_key(&pointer(file, name))
}

fn pointer(file: &str, name: &str) -> String {
    // 2025-06-18 is draft-07 (`definitions`); later files are draft 2020-12 (`$defs`).
    let defs = if file == "2025-06-18" {
        "definitions"
    } else {
        "$defs"
    };
    format!("#/{defs}/{name}")
}

fn validator(version: &str, name: &str) -> &'static jsonschema::Validator {
    let file = schema_file(version);
    validators(file)
        .get(&pointer(file, name))
        .unwrap_or_else(|| panic!("schema {file} has no definition {name}"))
}

/// Whether `value` is valid against definition `name` of `version`'s schema.
pub fn is_valid(version: &str, name: &str, value: &Value) -> bool {
    validator(version, name).is_valid(value)
}

/// Asserts that `value` is valid against definition `name` of `version`'s schema.
#[track_caller]
pub fn assert_valid(version: &str, name: &str, value: &Value) {
    let file = schema_file(version);
    let errors: Vec<String> = validator(version, name)
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not a valid {file} {name}:\n  {}\nvalue: {value:#}",
        errors.join("\n  ")
    );
}

/// Asserts a success response of `version` whose `result` is a `result_def`; returns the
/// result. In 2026-07-28 the method-specific `<Def>Response` is checked too where defined.
#[track_caller]
pub fn assert_result<'v>(version: &str, message: &'v Value, result_def: &str) -> &'v Value {
    let envelope = if schema_file(version) == "2025-06-18" {
        "JSONRPCResponse"
    } else {
        "JSONRPCResultResponse"
    };
    assert_valid(version, envelope, message);
    assert!(
        message.get("error").is_none(),
        "unexpected error: {message}"
    );
    let result = &message["result"];
    assert_valid(version, result_def, result);
    let whole = format!("{result_def}Response");
    if has_def(version, &whole) {
        assert_valid(version, &whole, message);
    }
    result
}

/// The 2026-07-28 definition for an error `code`, and whether it describes the whole
/// message (`true`) or only its `error` member (`false`).
fn error_def(code: i64) -> Option<(&'static str, bool)> {
    Some(match code {
        -32020 => ("HeaderMismatchError", true),
        -32022 => ("UnsupportedProtocolVersionError", true),
        -32700 => ("ParseError", false),
        -32600 => ("InvalidRequestError", false),
        -32601 => ("MethodNotFoundError", false),
        -32602 => ("InvalidParamsError", false),
        -32603 => ("InternalError", false),
        _ => return None,
    })
}

#[track_caller]
fn assert_error_in(version: &str, message: &Value, code: i64) {
    let envelope = if schema_file(version) == "2025-06-18" {
        "JSONRPCError"
    } else {
        "JSONRPCErrorResponse"
    };
    assert_valid(version, envelope, message);
    assert_eq!(
        message["error"]["code"], code,
        "wrong error code: {message}"
    );
    assert!(message.get("result").is_none());
}

/// Asserts a JSON-RPC error response with `code`, answering request `id`, valid against
/// `version`'s schema. The code-specific definitions exist only in 2026-07-28; they are
/// applied in every era since the gateway uses the same codes and shapes everywhere.
#[track_caller]
pub fn assert_error(version: &str, message: &Value, id: i64, code: i64) {
    assert_eq!(
        message["id"], id,
        "the error must answer the request: {message}"
    );
    assert_error_in(version, message, code);
    assert_code_specific(message, code);
}

/// Asserts a JSON-RPC error response with `code` for a message whose id is unknown. The
/// `id` member must be absent (never null). 2025-06-18's `JSONRPCError` requires an id, so
/// such errors are validated against 2025-11-25 and 2026-07-28 only, which allow it to be
/// omitted.
#[track_caller]
pub fn assert_error_without_id(message: &Value, code: i64) {
    assert!(message.get("id").is_none(), "id must be omitted: {message}");
    assert_error_in("2025-11-25", message, code);
    assert_error_in(MODERN, message, code);
    assert_code_specific(message, code);
}

#[track_caller]
fn assert_code_specific(message: &Value, code: i64) {
    match error_def(code) {
        Some((def, true)) => assert_valid(MODERN, def, message),
        Some((def, false)) => assert_valid(MODERN, def, &message["error"]),
        None => {}
    }
}

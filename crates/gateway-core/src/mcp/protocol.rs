//! The transport-header rules that bind an HTTP request to the JSON-RPC body it carries,
//! and which protocol version governs it.
//!
//! Pure: the edge hands the raw header bytes in; decisions are made on the body, and headers
//! only ever make a request fail, never succeed.

use base64::Engine;

use super::error::McpError;
use super::version::{Era, Version};

/// The MCP transport headers of one HTTP request, as raw bytes.
#[derive(Debug, Default, Clone, Copy)]
pub struct TransportHeaders<'a> {
    pub protocol_version: Option<&'a [u8]>,
    pub method: Option<&'a [u8]>,
    pub name: Option<&'a [u8]>,
}

fn unsupported(requested: &[u8]) -> McpError {
    McpError::UnsupportedProtocolVersion {
        requested: String::from_utf8_lossy(requested)
            .chars()
            .take(64)
            .collect(),
    }
}

fn header_version(raw: &[u8]) -> Result<Version, McpError> {
    std::str::from_utf8(raw)
        .ok()
        .and_then(|s| Version::parse(s.trim()))
        .ok_or_else(|| unsupported(raw))
}

/// Decides which version governs a request, from its `params._meta` version (if any) and
/// its `MCP-Protocol-Version` header.
pub fn resolve_version(
    headers: &TransportHeaders<'_>,
    meta_version: Option<&str>,
    method: &str,
) -> Result<Version, McpError> {
    if let Some(meta) = meta_version {
        let Some(header) = headers.protocol_version else {
            return Err(McpError::HeaderMismatch(
                "MCP-Protocol-Version header is required with a _meta protocol version".into(),
            ));
        };
        if header != meta.as_bytes() {
            return Err(McpError::HeaderMismatch(
                "MCP-Protocol-Version header does not match the _meta protocol version".into(),
            ));
        }
        return Version::parse(meta).ok_or_else(|| unsupported(meta.as_bytes()));
    }
    let version = match headers.protocol_version {
        None => Version::HEADERLESS,
        Some(raw) => header_version(raw)?,
    };
    // `server/discover` is how a client learns what we speak, so it is answered without
    // per-request metadata too; everything else of the new era must carry it.
    if version.era() == Era::Modern && method != "server/discover" {
        return Err(McpError::HeaderMismatch(format!(
            "params._meta[\"io.modelcontextprotocol/protocolVersion\"] is required for {}",
            version.as_str()
        )));
    }
    Ok(version)
}

/// A message that is not a request (a notification, a client's response) is still refused
/// when it names a version we do not speak.
pub fn check_version_header(headers: &TransportHeaders<'_>) -> Result<(), McpError> {
    headers
        .protocol_version
        .map_or(Ok(()), |raw| header_version(raw).map(|_| ()))
}

/// Checks a notification's headers: a version we do not speak, or a method header that
/// disagrees with the body, is refused.
pub fn check_notification(headers: &TransportHeaders<'_>, method: &str) -> Result<(), McpError> {
    check_version_header(headers)?;
    check_method_header(headers, method, Era::Legacy)
}

/// `Mcp-Method` must equal the body's method (required in the new era).
pub fn check_method_header(
    headers: &TransportHeaders<'_>,
    method: &str,
    era: Era,
) -> Result<(), McpError> {
    match headers.method {
        Some(raw) if raw == method.as_bytes() => Ok(()),
        Some(_) => Err(McpError::HeaderMismatch(
            "Mcp-Method header does not match the request method".into(),
        )),
        None if era == Era::Modern => Err(McpError::HeaderMismatch(
            "Mcp-Method header is required".into(),
        )),
        None => Ok(()),
    }
}

/// `Mcp-Name` must equal `params.name` of a `tools/call` (required in the new era).
pub fn check_name_header(
    headers: &TransportHeaders<'_>,
    name: &str,
    era: Era,
) -> Result<(), McpError> {
    match headers.name {
        Some(raw) => match decode_header_value(raw) {
            Some(decoded) if decoded == name => Ok(()),
            Some(_) => Err(McpError::HeaderMismatch(
                "Mcp-Name header does not match params.name".into(),
            )),
            None => Err(McpError::HeaderMismatch(
                "Mcp-Name header is malformed".into(),
            )),
        },
        None if era == Era::Modern => Err(McpError::HeaderMismatch(
            "Mcp-Name header is required for tools/call".into(),
        )),
        None => Ok(()),
    }
}

/// Decodes an MCP header value: plain visible ASCII, or `=?base64?<standard base64>?=` for
/// values that plain ASCII cannot carry. `None` when malformed.
pub fn decode_header_value(raw: &[u8]) -> Option<String> {
    if let Some(inner) = raw
        .strip_prefix(b"=?base64?")
        .and_then(|r| r.strip_suffix(b"?="))
    {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(inner)
            .ok()?;
        return String::from_utf8(bytes).ok();
    }
    if raw.iter().all(|b| (0x20..0x7f).contains(b) || *b == b'\t') {
        Some(String::from_utf8(raw.to_vec()).ok()?)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h<'a>(v: Option<&'a str>, m: Option<&'a str>, n: Option<&'a str>) -> TransportHeaders<'a> {
        TransportHeaders {
            protocol_version: v.map(str::as_bytes),
            method: m.map(str::as_bytes),
            name: n.map(str::as_bytes),
        }
    }

    #[test]
    fn headerless_requests_speak_2025_03_26() {
        let v = resolve_version(&h(None, None, None), None, "tools/list").unwrap();
        assert_eq!(v, Version::V2025_03_26);
    }

    #[test]
    fn unknown_header_version_is_unsupported() {
        let e = resolve_version(&h(Some("1999-01-01"), None, None), None, "tools/list");
        assert!(
            matches!(e, Err(McpError::UnsupportedProtocolVersion { requested }) if requested == "1999-01-01")
        );
    }

    #[test]
    fn meta_version_must_equal_header() {
        let ok = resolve_version(&h(Some("2026-07-28"), None, None), Some("2026-07-28"), "x");
        assert_eq!(ok.unwrap(), Version::V2026_07_28);
        let e = resolve_version(&h(Some("2025-06-18"), None, None), Some("2026-07-28"), "x");
        assert!(matches!(e, Err(McpError::HeaderMismatch(_))));
        let e = resolve_version(&h(None, None, None), Some("2026-07-28"), "x");
        assert!(matches!(e, Err(McpError::HeaderMismatch(_))));
        let e = resolve_version(&h(Some("2030-01-01"), None, None), Some("2030-01-01"), "x");
        assert!(matches!(
            e,
            Err(McpError::UnsupportedProtocolVersion { .. })
        ));
    }

    #[test]
    fn modern_header_without_meta_is_a_mismatch_except_for_discover() {
        let e = resolve_version(&h(Some("2026-07-28"), None, None), None, "tools/list");
        assert!(matches!(e, Err(McpError::HeaderMismatch(_))));
        let v = resolve_version(&h(Some("2026-07-28"), None, None), None, "server/discover");
        assert_eq!(v.unwrap(), Version::V2026_07_28);
    }

    #[test]
    fn method_header_rules() {
        assert!(
            check_method_header(
                &h(None, Some("tools/list"), None),
                "tools/list",
                Era::Modern
            )
            .is_ok()
        );
        assert!(
            check_method_header(
                &h(None, Some("tools/call"), None),
                "tools/list",
                Era::Legacy
            )
            .is_err()
        );
        assert!(check_method_header(&h(None, None, None), "tools/list", Era::Modern).is_err());
        assert!(check_method_header(&h(None, None, None), "tools/list", Era::Legacy).is_ok());
    }

    #[test]
    fn name_header_plain_and_base64() {
        assert!(check_name_header(&h(None, None, Some("echo")), "echo", Era::Modern).is_ok());
        assert!(
            check_name_header(
                &h(None, None, Some("=?base64?ZWNobw==?=")),
                "echo",
                Era::Modern
            )
            .is_ok()
        );
        assert!(
            check_name_header(
                &h(None, None, Some("=?base64?ZGVsZXRl?=")),
                "echo",
                Era::Modern
            )
            .is_err()
        );
        assert!(
            check_name_header(&h(None, None, Some("=?base64?!!!?=")), "echo", Era::Modern).is_err()
        );
        assert!(check_name_header(&h(None, None, None), "echo", Era::Modern).is_err());
        assert!(check_name_header(&h(None, None, None), "echo", Era::Legacy).is_ok());
        assert!(check_name_header(&h(None, None, Some("other")), "echo", Era::Legacy).is_err());
        let name = "überprüfen";
        let wrapped = format!(
            "=?base64?{}?=",
            base64::engine::general_purpose::STANDARD.encode(name)
        );
        assert_eq!(
            decode_header_value(wrapped.as_bytes()).as_deref(),
            Some(name)
        );
        assert_eq!(decode_header_value(b"a\x00b"), None);
    }
}

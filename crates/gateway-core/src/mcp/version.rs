//! The protocol revisions this gateway speaks and their two eras: what a request's version
//! string means, and what `initialize` negotiates. Depends on nothing else of the MCP core,
//! so both the errors and the header rules can name an era.

/// A protocol revision this gateway speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    V2025_03_26,
    V2025_06_18,
    V2025_11_25,
    V2026_07_28,
}

/// The handshake era (`initialize`, 2025 revisions) or the per-request era (2026-07-28).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    Legacy,
    Modern,
}

/// Every supported version, newest first: what `server/discover` and -32022 list.
pub const SUPPORTED_VERSIONS: [&str; 4] = ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"];

impl Version {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "2025-03-26" => Self::V2025_03_26,
            "2025-06-18" => Self::V2025_06_18,
            "2025-11-25" => Self::V2025_11_25,
            "2026-07-28" => Self::V2026_07_28,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::V2025_03_26 => "2025-03-26",
            Self::V2025_06_18 => "2025-06-18",
            Self::V2025_11_25 => "2025-11-25",
            Self::V2026_07_28 => "2026-07-28",
        }
    }

    pub fn era(self) -> Era {
        if self >= Self::V2026_07_28 {
            Era::Modern
        } else {
            Era::Legacy
        }
    }

    /// The newest handshake-era version: the answer to an `initialize` asking for one we
    /// do not speak (or for a per-request-era version, which has no handshake).
    pub const NEWEST_LEGACY: Version = Version::V2025_11_25;
    /// What a request without `MCP-Protocol-Version` is taken to speak.
    pub const HEADERLESS: Version = Version::V2025_03_26;

    /// The `initialize` answer: the client's version if we speak it in the handshake era.
    pub fn negotiate(requested: &str) -> Version {
        match Version::parse(requested) {
            Some(v) if v.era() == Era::Legacy => v,
            _ => Self::NEWEST_LEGACY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_picks_the_clients_version_or_our_newest_handshake_version() {
        assert_eq!(Version::negotiate("2025-06-18"), Version::V2025_06_18);
        assert_eq!(Version::negotiate("2025-03-26"), Version::V2025_03_26);
        assert_eq!(Version::negotiate("2024-11-05"), Version::V2025_11_25);
        assert_eq!(Version::negotiate("2026-07-28"), Version::V2025_11_25);
    }
}

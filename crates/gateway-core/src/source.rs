//! The one error of a read through a port the gateway decides on — the configuration, the
//! deny-list, the registered clients, an issuer's online check: which kind of failure it
//! was, with a stable code for logs and metrics, and a text for the log (never a token).
//!
//! The stores treat every kind alike (the last good value stays, or the request fails
//! closed); the kind is for the operator, who acts differently on a table that does not
//! answer and on an item someone wrote by hand.

use crate::reload::TimedOut;

/// A read that produced nothing usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The system did not answer, or answered with an error of its own (network, throttling,
    /// an HTTP error status, missing permissions).
    #[error("{0}")]
    Unavailable(String),
    /// The read did not finish within its bound.
    #[error("read timed out")]
    TimedOut,
    /// It answered with what the gateway cannot use: an item or a body that does not parse.
    #[error("{0}")]
    Malformed(String),
    /// The configuration read is well-formed but contradicts itself (duplicate upstreams, a
    /// tool's target that cannot be called).
    #[error("invalid configuration: {0}")]
    Invalid(String),
    /// The source cannot answer this question at all (an online check that cannot identify
    /// opaque tokens).
    #[error("{0} cannot identify opaque tokens")]
    Unsupported(&'static str),
}

impl SourceError {
    /// Stable: logged as `code` beside the text; renaming a variant does not change it.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unavailable(_) => "source_unavailable",
            Self::TimedOut => "source_timeout",
            Self::Malformed(_) => "source_malformed",
            Self::Invalid(_) => "config_invalid",
            Self::Unsupported(_) => "source_unsupported",
        }
    }
}

impl From<TimedOut> for SourceError {
    fn from(_: TimedOut) -> Self {
        Self::TimedOut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_pinned() {
        let all = [
            (SourceError::Unavailable("x".into()), "source_unavailable"),
            (SourceError::TimedOut, "source_timeout"),
            (SourceError::Malformed("x".into()), "source_malformed"),
            (SourceError::Invalid("x".into()), "config_invalid"),
            (
                SourceError::Unsupported("cognito GetUser"),
                "source_unsupported",
            ),
        ];
        for (e, code) in all {
            assert_eq!(e.code(), code, "{e:?}");
        }
    }

    #[test]
    fn texts_stay_what_the_logs_said_before() {
        assert_eq!(SourceError::from(TimedOut).to_string(), "read timed out");
        assert_eq!(
            SourceError::Invalid("two upstreams named a".into()).to_string(),
            "invalid configuration: two upstreams named a"
        );
        assert_eq!(
            SourceError::Unsupported("cognito GetUser").to_string(),
            "cognito GetUser cannot identify opaque tokens"
        );
    }
}

//! The one place a request's audit record is put together: `assemble` turns the facts the
//! edge and the dispatcher noted (`facts`) into an `AuditRecord`, every field in one struct
//! literal. Here, in the pure core, rather than at the edge, because what a record says (a
//! denial's reason, when a target counts as failed, what a dropped request is recorded as)
//! is audit policy that any way of serving the gateway must share; the edge only notes
//! facts. Adding a field to the record fails to compile until it is filled in here.

use std::time::Duration;

use crate::policy::{Decision, Rule};

use super::facts::{Arguments, CallFacts, Ending, RequestFacts, TargetCall};
use super::record::{AuditRecord, TARGET_FAILED, TARGET_OK, Verdict, now_ms, rfc3339_ms};

/// The record of one request that ended as `ending`, answered with HTTP `status` after
/// `gateway_time` in the gateway. The chain fields (`instance`, `seq`, `prev`, `digest`)
/// are left for `Chain::link`.
///
/// The verdict and reason: an ending that refused says so; an answered call says what its
/// decision said (or, undecided, whether the MCP core answered with an error, and which);
/// a dropped request keeps its decision, or is an error before any, and says
/// `client_closed`. A refused or unauthorized request never reached the MCP core, so its
/// call facts are empty.
pub fn assemble(
    request: RequestFacts,
    ending: Ending,
    status: u16,
    gateway_time: Duration,
) -> AuditRecord {
    let RequestFacts {
        request_id,
        api_request_id,
        lambda_request_id,
        arrived_ms,
        caller,
        revocation_unchecked,
        call:
            CallFacts {
                method,
                protocol_version,
                tool,
                arguments,
                decision,
                target,
                error,
            },
    } = request;
    let (verdict, reason) = match (ending, &decision) {
        (Ending::Unauthorized(_), _) => (Verdict::Unauthorized, ending.code()),
        (Ending::Refused(_), _) => (Verdict::Error, ending.code()),
        (Ending::Answered, Some(d)) => (verdict_of(d), d.reason_code()),
        (Ending::Answered, None) if error.is_some() => (Verdict::Error, error),
        (Ending::Answered, None) => (Verdict::Allow, None),
        // No answer went out, whatever was decided; before any decision it is an error.
        (Ending::ClientClosed, d) => (d.as_ref().map_or(Verdict::Error, verdict_of), ending.code()),
    };
    let rule = decision.as_ref().map(Decision::rule);
    let (policy_group, policy_version) = match rule {
        Some(Rule::Allow { group, version, .. } | Rule::Deny { group, version, .. }) => {
            (Some(group.clone()), *version)
        }
        _ => (None, None),
    };
    let (arguments_sha256, arguments) = match arguments {
        Some(Arguments { sha256, recorded }) => (Some(sha256), recorded),
        None => (None, None),
    };
    let (target_kind, target, answer) = match target {
        Some(TargetCall { kind, name, answer }) => (Some(kind.to_owned()), Some(name), answer),
        None => (None, None, None),
    };
    AuditRecord {
        instance: String::new(),
        seq: 0,
        prev: String::new(),
        time: rfc3339_ms(arrived_ms),
        time_ms: arrived_ms,
        request_id,
        api_request_id,
        lambda_request_id,
        issuer: caller.as_ref().map(|p| p.issuer.clone()),
        subject: caller.as_ref().map(|p| p.subject.clone()),
        username: caller
            .as_ref()
            .map(|p| p.username.clone())
            .filter(|u| !u.is_empty()),
        client_id: caller.as_ref().and_then(|p| p.client_id.clone()),
        groups: caller.as_ref().map(|p| p.groups.clone()),
        method,
        tool,
        decision: verdict,
        reason: reason.map(str::to_owned),
        rule: rule.map(Rule::to_string),
        policy_group,
        policy_version,
        target_kind,
        target,
        target_outcome: answer.map(|a| {
            let outcome = if a.error.is_some() {
                TARGET_FAILED
            } else {
                TARGET_OK
            };
            outcome.to_owned()
        }),
        target_error: answer.and_then(|a| a.error).map(str::to_owned),
        status,
        gateway_us: gateway_time.as_micros() as u64,
        target_us: answer.map(|a| a.latency.as_micros() as u64),
        arguments_sha256,
        arguments,
        protocol_version: protocol_version.map(str::to_owned),
        revocation_unchecked: revocation_unchecked.then_some(true),
        kind: None,
        digest: String::new(),
    }
}

/// A decision as the record's verdict: a missing scope is a denial.
fn verdict_of(decision: &Decision) -> Verdict {
    match decision {
        Decision::Allow { .. } => Verdict::Allow,
        Decision::Deny { .. } | Decision::NeedsScopes { .. } => Verdict::Deny,
    }
}

/// A record with nothing but its time (now) and ids: the chain's start record, and what
/// tests that write records of their own start from. Request records come from `assemble`.
pub fn base_record(
    request_id: &str,
    api_request_id: Option<String>,
    lambda_request_id: Option<String>,
) -> AuditRecord {
    let time_ms = now_ms();
    AuditRecord {
        time: rfc3339_ms(time_ms),
        time_ms,
        request_id: request_id.to_owned(),
        api_request_id,
        lambda_request_id,
        ..AuditRecord::default()
    }
}

#[cfg(test)]
#[path = "assemble_tests.rs"]
mod tests;

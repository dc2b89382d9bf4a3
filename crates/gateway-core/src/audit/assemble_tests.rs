//! What `assemble` makes of each kind of request: the verdicts, reasons and field values
//! that stored records (and `gatewayctl audit` queries over them) depend on.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::audit::facts::TargetAnswer;
use crate::auth::Principal;

fn request(call: CallFacts) -> RequestFacts {
    RequestFacts {
        request_id: "req-1".into(),
        api_request_id: Some("api-1".into()),
        lambda_request_id: None,
        arrived_ms: 951_782_400_123,
        caller: None,
        revocation_unchecked: false,
        call,
    }
}

fn answered(call: CallFacts) -> AuditRecord {
    assemble(request(call), Ending::Answered, 200, Duration::ZERO)
}

fn decided(decision: Decision) -> CallFacts {
    CallFacts {
        method: Some("tools/call".into()),
        tool: Some("echo".into()),
        decision: Some(decision),
        ..CallFacts::default()
    }
}

fn alice() -> Arc<Principal> {
    Arc::new(Principal {
        issuer: "https://idp".into(),
        subject: "sub-1".into(),
        username: String::new(),
        email: Some("alice@example.com".into()),
        groups: vec!["eng".into()],
        scopes: vec!["tools:read".into()],
        client_id: Some("app".into()),
        expires_at: 0,
        token_id: Some("jti-1".into()),
    })
}

#[test]
fn the_request_part_names_ids_time_caller_status_and_latency() {
    let mut facts = request(CallFacts::default());
    facts.caller = Some(alice());
    facts.revocation_unchecked = true;
    let r = assemble(facts, Ending::Answered, 202, Duration::from_micros(1500));
    assert_eq!(r.time, "2000-02-29T00:00:00.123Z");
    assert_eq!(r.time_ms, 951_782_400_123);
    assert_eq!(r.request_id, "req-1");
    assert_eq!(r.api_request_id.as_deref(), Some("api-1"));
    assert_eq!(r.lambda_request_id, None);
    assert_eq!(r.issuer.as_deref(), Some("https://idp"));
    assert_eq!(r.subject.as_deref(), Some("sub-1"));
    assert_eq!(r.username, None, "an empty username is left out");
    assert_eq!(r.client_id.as_deref(), Some("app"));
    assert_eq!(r.groups, Some(vec!["eng".to_owned()]));
    assert_eq!((r.status, r.gateway_us), (202, 1500));
    assert_eq!(r.revocation_unchecked, Some(true));
    assert_eq!((r.decision, r.reason), (Verdict::Allow, None));
    // The chain's fields are the chain's to set.
    assert_eq!((r.instance.as_str(), r.seq, r.prev.as_str()), ("", 0, ""));
    assert!(r.digest.is_empty() && r.kind.is_none());
}

#[test]
fn an_allowed_call_names_its_rule_policy_version_arguments_and_target() {
    let rule = Rule::Allow {
        group: "engineering".into(),
        pattern: "ec*".into(),
        version: Some(4),
    };
    let mut facts = decided(Decision::Allow { rule });
    facts.protocol_version = Some("2025-06-18");
    facts.arguments = Some(Arguments {
        sha256: "ab".into(),
        recorded: Some("{}".into()),
    });
    facts.target = Some(TargetCall {
        kind: "http",
        name: "https://tools/echo".into(),
        answer: Some(TargetAnswer {
            latency: Duration::from_micros(1500),
            error: None,
        }),
    });
    let r = answered(facts.clone());
    assert_eq!(r.decision, Verdict::Allow);
    assert_eq!(r.reason, None);
    assert_eq!(r.method.as_deref(), Some("tools/call"));
    assert_eq!(r.tool.as_deref(), Some("echo"));
    assert_eq!(r.protocol_version.as_deref(), Some("2025-06-18"));
    assert_eq!(r.policy_group.as_deref(), Some("engineering"));
    assert_eq!(r.policy_version, Some(4));
    assert_eq!(
        r.rule.as_deref(),
        Some("group \"engineering\" allows \"ec*\" (policy version 4)")
    );
    assert_eq!(r.arguments_sha256.as_deref(), Some("ab"));
    assert_eq!(r.arguments.as_deref(), Some("{}"));
    assert_eq!(r.target_kind.as_deref(), Some("http"));
    assert_eq!(r.target.as_deref(), Some("https://tools/echo"));
    assert_eq!(r.target_us, Some(1500));
    assert_eq!(r.target_outcome.as_deref(), Some("ok"));
    assert_eq!(r.target_error, None);
    let target = facts.target.as_mut().unwrap();
    target.answer.as_mut().unwrap().error = Some("Timeout");
    let r = answered(facts.clone());
    assert_eq!(r.decision, Verdict::Allow);
    assert_eq!(r.target_outcome.as_deref(), Some("error"));
    assert_eq!(r.target_error.as_deref(), Some("Timeout"));
    // Abandoned while the target worked: who it was, but no outcome.
    facts.target.as_mut().unwrap().answer = None;
    let r = answered(facts);
    assert_eq!(r.target_kind.as_deref(), Some("http"));
    assert_eq!(
        (r.target_us, r.target_outcome, r.target_error),
        (None, None, None)
    );
}

#[test]
fn denials_say_why() {
    let deny = |rule| {
        let mut facts = decided(Decision::Deny { rule });
        facts.error = Some("UnknownTool");
        answered(facts)
    };
    let r = deny(Rule::Deny {
        group: "finance".into(),
        pattern: "*".into(),
        version: Some(2),
    });
    assert_eq!(
        (r.decision, r.reason.as_deref()),
        (Verdict::Deny, Some("deny_rule"))
    );
    assert_eq!(r.policy_version, Some(2));
    let r = deny(Rule::DefaultDeny);
    assert_eq!(r.reason.as_deref(), Some("default_deny"));
    assert_eq!(r.policy_group, None);
    let r = deny(Rule::UnknownTool);
    assert_eq!(r.reason.as_deref(), Some("unknown_tool"));
    assert_eq!(r.rule.as_deref(), Some("no such tool"));
    let mut facts = decided(Decision::NeedsScopes {
        required: vec!["tools:write".into()],
        rule: Rule::DefaultDeny,
    });
    facts.error = Some("InsufficientScope");
    let r = answered(facts);
    assert_eq!(
        (r.decision, r.reason.as_deref()),
        (Verdict::Deny, Some("insufficient_scope"))
    );
}

#[test]
fn without_a_decision_an_error_is_an_error_and_the_rest_allowed() {
    let failed = CallFacts {
        error: Some("Parse"),
        ..CallFacts::default()
    };
    let r = answered(failed);
    assert_eq!(
        (r.decision, r.reason.as_deref()),
        (Verdict::Error, Some("Parse"))
    );
    let listed = CallFacts {
        method: Some("tools/list".into()),
        ..CallFacts::default()
    };
    let r = answered(listed);
    assert_eq!(r.decision, Verdict::Allow);
    assert_eq!(r.method.as_deref(), Some("tools/list"));
    assert_eq!(r.target_outcome, None);
}

#[test]
fn refusals_before_the_core_give_their_code() {
    let r = assemble(
        request(CallFacts::default()),
        Ending::Unauthorized("Revoked.User"),
        401,
        Duration::ZERO,
    );
    assert_eq!(
        (r.decision, r.reason.as_deref(), r.status),
        (Verdict::Unauthorized, Some("Revoked.User"), 401)
    );
    let mut facts = request(CallFacts::default());
    facts.caller = Some(alice());
    let r = assemble(
        facts,
        Ending::Refused("PayloadTooLarge"),
        413,
        Duration::ZERO,
    );
    assert_eq!(
        (r.decision, r.reason.as_deref()),
        (Verdict::Error, Some("PayloadTooLarge"))
    );
    assert_eq!(r.subject.as_deref(), Some("sub-1"));
}

#[test]
fn a_dropped_request_keeps_its_decision_or_is_an_error_and_says_client_closed() {
    let closed = |call| assemble(request(call), Ending::ClientClosed, 499, Duration::ZERO);
    let r = closed(CallFacts::default());
    assert_eq!(
        (r.decision, r.reason.as_deref(), r.status),
        (Verdict::Error, Some("client_closed"), 499)
    );
    let allowed = decided(Decision::Allow {
        rule: Rule::Allow {
            group: "eng".into(),
            pattern: "*".into(),
            version: None,
        },
    });
    let r = closed(allowed);
    assert_eq!(
        (r.decision, r.reason.as_deref()),
        (Verdict::Allow, Some("client_closed"))
    );
    assert_eq!(r.policy_group.as_deref(), Some("eng"));
    let denied = decided(Decision::Deny {
        rule: Rule::DefaultDeny,
    });
    let r = closed(denied);
    assert_eq!(
        (r.decision, r.reason.as_deref()),
        (Verdict::Deny, Some("client_closed"))
    );
}

/// Stored data: never change it.
#[test]
fn the_client_closed_code_is_pinned() {
    assert_eq!(Ending::ClientClosed.code(), Some("client_closed"));
    assert_eq!(Ending::Answered.code(), None);
    assert_eq!(
        Ending::Refused("NotAcceptable").code(),
        Some("NotAcceptable")
    );
    assert_eq!((TARGET_OK, TARGET_FAILED), ("ok", "error"));
}

//! template.yaml, read as the YAML it is: what the deployed gateway may do to its audit
//! table and keys, and the limits in front of it. Replays issue #14's finding 5 (the role
//! could BatchWriteItem, which deletes, and PutItem over existing records) and the
//! throttling / concurrency part of finding 10 (no route throttling, no concurrency bound).

use serde_norway::Value;

fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml");
    serde_norway::from_str(&std::fs::read_to_string(path).expect("read template.yaml"))
        .expect("template.yaml is YAML")
}

/// A value as YAML text (tags included), to match on references such as `!GetAtt X.Arn`.
fn text(v: &Value) -> String {
    serde_norway::to_string(v).expect("serializes")
}

/// Every IAM statement (a mapping with Effect and Action) anywhere under `v`, `!If` included.
fn statements(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Mapping(m) => {
            if m.contains_key("Effect") && m.contains_key("Action") {
                out.push(v.clone());
            }
            m.values().for_each(|x| statements(x, out));
        }
        Value::Sequence(s) => s.iter().for_each(|x| statements(x, out)),
        Value::Tagged(t) => statements(&t.value, out),
        _ => {}
    }
}

fn actions(statement: &Value) -> Vec<String> {
    match &statement["Action"] {
        Value::String(a) => vec![a.clone()],
        Value::Sequence(s) => s
            .iter()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect(),
        other => panic!("unexpected Action {other:?}"),
    }
}

fn resource(name: &str) -> Value {
    template()["Resources"][name].clone()
}

#[test]
fn finding5_the_gateway_may_only_add_audit_items_never_batch_update_or_delete() {
    let mut all = Vec::new();
    statements(&template()["Resources"], &mut all);
    let on_audit: Vec<&Value> = all
        .iter()
        .filter(|s| text(&s["Resource"]).contains("AuditTable"))
        .collect();
    assert_eq!(
        on_audit.len(),
        1,
        "one grant on the audit table: {on_audit:?}"
    );
    let grant = on_audit[0];
    assert_eq!(actions(grant), ["dynamodb:PutItem"]);
    assert_eq!(grant["Effect"], "Allow");
    let condition = text(&grant["Condition"]);
    assert!(condition.contains("dynamodb:LeadingKeys") && condition.contains("CHAIN#*"));
    for s in &all {
        for a in actions(s) {
            assert!(
                ![
                    "dynamodb:BatchWriteItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:*"
                ]
                .contains(&a.as_str())
                    || !text(&s["Resource"]).contains("AuditTable"),
                "{a} on the audit table"
            );
            assert_ne!(
                a, "dynamodb:BatchWriteItem",
                "BatchWriteItem can delete: {s:?}"
            );
        }
    }
}

#[test]
fn finding5_audit_heads_are_signed_with_an_hmac_key_the_gateway_cannot_verify_or_read() {
    let key = resource("AuditHeadKey");
    assert_eq!(key["Type"], "AWS::KMS::Key");
    assert_eq!(key["Properties"]["KeySpec"], "HMAC_256");
    assert_eq!(key["Properties"]["KeyUsage"], "GENERATE_VERIFY_MAC");
    assert_eq!(
        key["DeletionPolicy"], "Retain",
        "old chains are verified with it"
    );
    let gateway = resource("GatewayFunction");
    let mut grants = Vec::new();
    statements(&gateway["Properties"]["Policies"], &mut grants);
    let on_key: Vec<Vec<String>> = grants
        .iter()
        .filter(|s| text(&s["Resource"]).contains("AuditHeadKey"))
        .map(actions)
        .collect();
    assert_eq!(on_key, [["kms:GenerateMac"]]);
    let env = text(&gateway["Properties"]["Environment"]["Variables"]["GATEWAY_AUDIT_KMS_KEY_ID"]);
    assert!(env.contains("AuditHeadKey.Arn"), "{env}");
}

#[test]
fn finding10_every_route_is_throttled_and_the_gateway_can_be_given_a_concurrency_bound() {
    let t = template();
    for (p, default) in [("ApiThrottleBurst", 200), ("ApiThrottleRate", 100)] {
        assert_eq!(t["Parameters"][p]["Type"], "Number");
        assert_eq!(t["Parameters"][p]["Default"].as_u64(), Some(default), "{p}");
    }
    let settings = &resource("HttpApi")["Properties"]["DefaultRouteSettings"];
    assert!(text(&settings["ThrottlingBurstLimit"]).contains("ApiThrottleBurst"));
    assert!(text(&settings["ThrottlingRateLimit"]).contains("ApiThrottleRate"));
    let reserved = &t["Parameters"]["GatewayReservedConcurrency"];
    assert_eq!(reserved["Default"], "", "unreserved unless asked");
    let wired = text(&resource("GatewayFunction")["Properties"]["ReservedConcurrentExecutions"]);
    assert!(
        wired.contains("HasReservedConcurrency") && wired.contains("GatewayReservedConcurrency"),
        "{wired}"
    );
    // Empty and 0 both mean unreserved (0 would stop the function).
    let condition = text(&t["Conditions"]["HasReservedConcurrency"]);
    assert!(
        condition.contains("''") && condition.contains("'0'"),
        "{condition}"
    );
}

/// Finding 10: the façade's state key was resolved into the function's environment at deploy
/// time. The function now receives only the secret's ARN and may read that one secret.
#[test]
fn finding10_the_facade_state_key_is_never_in_the_functions_environment() {
    let function = resource("GatewayFunction");
    let env = &function["Properties"]["Environment"]["Variables"];
    assert!(
        env.get("GATEWAY_FACADE_STATE_KEY").is_none(),
        "{}",
        text(env)
    );
    let arn = text(&env["GATEWAY_FACADE_STATE_SECRET_ARN"]);
    assert!(arn.contains("FacadeStateKeySecretArn"), "{arn}");
    assert!(!text(&function).contains("resolve:secretsmanager"));
    let mut all = Vec::new();
    statements(&function, &mut all);
    let reads: Vec<&Value> = all
        .iter()
        .filter(|s| text(&s["Resource"]).contains("FacadeStateKeySecretArn"))
        .collect();
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert_eq!(actions(reads[0]), ["secretsmanager:GetSecretValue"]);
}

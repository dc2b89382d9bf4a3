//! Finding 5 of issue #14 replayed: the audit table was not append-only (BatchWriteItem,
//! unconditional PutItem) and its digests unkeyed, so a rewrite from record N on with the
//! digests recomputed still verified. Each test writes a real chain into a fresh table in
//! moto through the gateway's own trail (conditional PutItems, heads signed with a fresh
//! KMS HMAC key in moto), tampers with it as someone holding full table rights would, and
//! runs `gatewayctl audit verify` on it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::types::AttributeValue;

use mcp_oauth_gateway::adapters::audit_dynamodb::{
    DynamoAuditStore, HEAD_PREFIX, chain_pk, record_to_item,
};
use mcp_oauth_gateway::adapters::audit_kms::KmsHeadSigner;
use mcp_oauth_gateway::adapters::audit_stdout::{audit_line, head_line};
use mcp_oauth_gateway::adapters::aws_clients::AwsClients;
use mcp_oauth_gateway::audit::{
    AuditError, AuditRecord, AuditSink, AuditTrail, SignedHead, base_record, record_digest,
};

use crate::support::audit_kit::gatewayctl;
use crate::support::idp::required_env;

/// What the stdout sink would have printed, kept here (the CloudWatch Logs copy).
#[derive(Default)]
struct Log(Mutex<Vec<String>>);

#[async_trait]
impl AuditSink for Log {
    async fn write(&self, record: &AuditRecord) -> Result<(), AuditError> {
        self.0.lock().unwrap().push(audit_line(record));
        Ok(())
    }
    async fn write_head(&self, head: &SignedHead) -> Result<(), AuditError> {
        self.0.lock().unwrap().push(head_line(head));
        Ok(())
    }
}

struct Setup {
    ddb: aws_sdk_dynamodb::Client,
    store: Arc<DynamoAuditStore>,
    table: String,
    key: String,
    instance: String,
    records: Vec<AuditRecord>,
    log: Arc<Log>,
}

pub async fn hmac_key() -> String {
    let kms = AwsClients::load().await.kms();
    let key = kms
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::Hmac256)
        .key_usage(aws_sdk_kms::types::KeyUsageType::GenerateVerifyMac)
        .send()
        .await
        .expect("create an HMAC key in moto");
    key.key_metadata.unwrap().arn.unwrap()
}

/// A fresh table, and a chain of a start record plus `n` request records, one at a time
/// (so each is covered by a head of its own), signed with `key` (a fresh key by default).
async fn setup(n: usize, key: Option<&str>) -> Setup {
    required_env("AWS_ENDPOINT_URL");
    let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let table = format!("audit-tamper-{}", uuid::Uuid::new_v4());
    let store = Arc::new(DynamoAuditStore::new(ddb.clone(), table.clone(), 30));
    store.create_table().await.expect("create the audit table");
    let key = match key {
        Some(k) => k.to_owned(),
        None => hmac_key().await,
    };
    let log = Arc::new(Log::default());
    let signer = KmsHeadSigner::new(AwsClients::load().await.kms(), key.clone());
    let instance = uuid::Uuid::new_v4().to_string();
    let trail = AuditTrail::new(
        instance.clone(),
        vec![Arc::clone(&store) as _, Arc::clone(&log) as _],
        None,
    )
    .with_signer(Some(Arc::new(signer)));
    for k in 0..n {
        let mut r = base_record(&format!("req-{k}"), None, None);
        r.username = Some("alice".into());
        r.tool = Some("echo".into());
        r.status = 200;
        trail.record(r).await;
    }
    let (records, _) = store.chain(&instance).await.unwrap();
    assert_eq!(records.len(), n + 1, "the start record and every request's");
    Setup {
        ddb,
        store,
        table,
        key,
        instance,
        records,
        log,
    }
}

impl Setup {
    fn verify(&self, extra: &[&str]) -> (bool, String) {
        let base = [
            "audit",
            "--audit-table",
            &self.table,
            "verify",
            "--instance",
            &self.instance,
        ];
        let out = gatewayctl(&[&base[..], extra].concat());
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), text)
    }

    fn signed(&self) -> (bool, String) {
        self.verify(&["--kms-key-id", &self.key])
    }

    fn key(&self, sk: String) -> HashMap<String, AttributeValue> {
        HashMap::from([
            ("pk".to_owned(), AttributeValue::S(chain_pk(&self.instance))),
            ("sk".to_owned(), AttributeValue::S(sk)),
        ])
    }

    /// Full table rights (not the gateway's): an unconditional PutItem.
    async fn overwrite(&self, record: &AuditRecord) {
        self.ddb
            .put_item()
            .table_name(&self.table)
            .set_item(Some(record_to_item(record, 86_400).unwrap()))
            .send()
            .await
            .expect("overwrite");
    }

    async fn delete(&self, sk: String) {
        self.ddb
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(self.key(sk)))
            .send()
            .await
            .expect("delete");
    }

    async fn delete_record(&self, seq: u64) {
        self.delete(format!("{seq:020}")).await;
    }

    async fn delete_head(&self, seq: u64) {
        self.delete(format!("{HEAD_PREFIX}{seq:020}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finding5_a_conditional_put_never_overwrites_a_record_or_a_head() {
    let s = setup(2, None).await;
    let mut changed = s.records[1].clone();
    changed.username = Some("mallory".into());
    changed.digest = record_digest(&AuditRecord {
        digest: String::new(),
        ..changed.clone()
    });
    let refused = s.store.write(&changed).await.unwrap_err();
    assert!(
        refused.to_string().contains("refused to overwrite"),
        "{refused}"
    );
    let (_, heads) = s.store.chain(&s.instance).await.unwrap();
    let mut head = heads[0].clone();
    head.digest = changed.digest.clone();
    assert!(s.store.write_head(&head).await.is_err());
    let (records, heads_after) = s.store.chain(&s.instance).await.unwrap();
    assert_eq!(records, s.records, "the table still holds what was written");
    assert_eq!(heads_after, heads);
    let (ok, text) = s.signed();
    assert!(ok, "{text}");
    assert!(
        text.contains("3 records, intact, 3 signed heads verified"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finding5_a_rewrite_from_record_n_with_recomputed_digests_is_caught_by_the_signed_heads() {
    let s = setup(5, None).await;
    // The attack: records 3.. rewritten, each relinked and its digest recomputed.
    let mut prev = s.records[2].digest.clone();
    for r in &s.records[3..] {
        let mut forged = r.clone();
        forged.username = Some("mallory".into());
        forged.prev = prev;
        forged.digest.clear();
        forged.digest = record_digest(&forged);
        prev = forged.digest.clone();
        s.overwrite(&forged).await;
    }
    // Links alone cannot tell (what main's verify was).
    let (ok, text) = s.verify(&["--allow-unsigned"]);
    assert!(ok && text.contains("UNSIGNED"), "{text}");
    let (ok, text) = s.signed();
    assert!(!ok, "{text}");
    assert!(
        text.contains("record 3 is not the record the signed head holds"),
        "{text}"
    );
    // Removing the heads that contradict it leaves records no head covers.
    for seq in 3..=5 {
        s.delete_head(seq).await;
    }
    let (ok, text) = s.signed();
    assert!(!ok, "{text}");
    assert!(
        text.contains("records 3..=5 are covered by no signed head"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finding5_an_overwritten_or_deleted_record_is_found() {
    let s = setup(5, None).await;
    let mut forged = s.records[2].clone();
    forged.tool = Some("danger".into());
    forged.digest.clear();
    forged.digest = record_digest(&forged);
    s.overwrite(&forged).await;
    let (ok, text) = s.signed();
    assert!(!ok);
    assert!(
        text.contains("record 2 is not the record the signed head holds"),
        "{text}"
    );
    assert!(text.contains("record 3 does not follow"), "{text}");
    s.delete_record(4).await;
    let (ok, text) = s.signed();
    assert!(!ok);
    assert!(text.contains("record 4 is missing"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finding5_a_deleted_start_a_cut_tail_a_forged_head_and_a_vanished_chain_are_found() {
    let s = setup(4, None).await;
    // The tail after a signed head: records 3 and 4 gone, head 4 still there.
    s.delete_record(4).await;
    s.delete_record(3).await;
    let (ok, text) = s.signed();
    assert!(!ok);
    assert!(
        text.contains("truncated: a signed head covers record 4, the chain ends at 2"),
        "{text}"
    );
    // A head whose MAC is not the key's.
    let (_, heads) = s.store.chain(&s.instance).await.unwrap();
    let mut fake = heads[0].clone();
    fake.seq = 9;
    fake.mac = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into();
    s.store.write_head(&fake).await.unwrap();
    let (_, text) = s.signed();
    assert!(
        text.contains("signed head at record 9 does not verify (forged)"),
        "{text}"
    );
    // The start record deleted.
    s.delete_record(0).await;
    let (ok, text) = s.signed();
    assert!(!ok);
    assert!(text.contains("start record is missing"), "{text}");

    // A chain deleted whole, heads and all: nothing in the table says it existed, the
    // stdout copy does.
    let t = setup(2, Some(&s.key)).await;
    let log = std::env::temp_dir().join(format!("audit-log-{}.jsonl", uuid::Uuid::new_v4()));
    std::fs::write(&log, t.log.0.lock().unwrap().join("\n")).unwrap();
    let from_log = |extra: &[&str]| {
        let base = ["audit", "--audit-table", &t.table, "verify", "--file"];
        let out = gatewayctl(
            &[
                &base[..],
                &[log.to_str().unwrap(), "--kms-key-id", &t.key],
                extra,
            ]
            .concat(),
        );
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (ok, text) = from_log(&["--against-table"]);
    assert!(
        ok && text.contains("3 records, intact, 3 signed heads verified"),
        "{text}"
    );
    for seq in 0..=2 {
        t.delete_record(seq).await;
        t.delete_head(seq).await;
    }
    let (ok, text) = t.signed();
    assert!(
        ok && text.contains("no audit records found"),
        "the table alone cannot tell: {text}"
    );
    let (ok, text) = from_log(&["--against-table"]);
    assert!(!ok);
    assert!(
        text.contains("record 0 is in the stdout log but not in the table"),
        "{text}"
    );
    let _ = std::fs::remove_file(&log);
}

/// Signing fails (a key that does not exist): the record is still written, the failure is
/// the gateway's log line, and verify reports the records as covered by no signed head.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finding5_when_signing_fails_records_stay_and_verify_reports_them_unsigned() {
    let missing = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000";
    let s = setup(2, Some(missing)).await;
    let (_, heads) = s.store.chain(&s.instance).await.unwrap();
    assert!(heads.is_empty());
    let real = hmac_key().await;
    let (ok, text) = s.verify(&["--kms-key-id", &real]);
    assert!(!ok);
    assert!(text.contains("no signed head at all"), "{text}");
    let (ok, text) = s.verify(&[]);
    assert!(
        !ok,
        "unsigned chains are refused without --allow-unsigned: {text}"
    );
}

/// The attack review's finding: an item's key and `day` are outside its digest, and verify
/// found chains through the `byDay` index only, so items re-put without `day` vanished from
/// a range verify, and a decoy copy of an original record at another sort key satisfied
/// `--against-table`. Both now read as tampering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finding5_items_without_their_day_or_at_a_decoy_key_are_found() {
    let s = setup(3, None).await;
    // A range verify (no --instance) of an intact table passes.
    let range = |s: &Setup| {
        let out = gatewayctl(&[
            "audit",
            "--audit-table",
            &s.table,
            "verify",
            "--kms-key-id",
            &s.key,
        ]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), text)
    };
    assert!(range(&s).0, "{}", range(&s).1);
    // Record 2 altered and re-put without its day: in no index any more.
    let mut altered = s.records[2].clone();
    altered.tool = Some("danger".into());
    let mut item = record_to_item(&altered, 86_400).unwrap();
    item.remove("day");
    s.ddb
        .put_item()
        .table_name(&s.table)
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
    let (ok, text) = range(&s);
    assert!(!ok && text.contains("TAMPERED"), "{text}");
    // A decoy: the original record 2 at a sort key that sorts first.
    let s = setup(3, None).await;
    let mut decoy = record_to_item(&s.records[2], 86_400).unwrap();
    decoy.insert("sk".into(), AttributeValue::S("!".into()));
    s.ddb
        .put_item()
        .table_name(&s.table)
        .set_item(Some(decoy))
        .send()
        .await
        .unwrap();
    let (ok, text) = s.signed();
    assert!(!ok && text.contains("TAMPERED"), "{text}");
}

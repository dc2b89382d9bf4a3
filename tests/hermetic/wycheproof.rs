//! Project Wycheproof's JSON Web Signature vectors (`json_web_signature_test.json`, kept in
//! `tests/data/wycheproof/`, source and licence in tests/data/README.md) against the
//! gateway's signature layer:
//! `jwk::parse_jwks` builds the key set from each group's public JWK, `jws::parse` checks the
//! compact token and its header, the header's `kid` picks the key, `Jws::verify` checks the
//! pinned algorithm and the signature.
//!
//! This file owns that conformance check and nothing else. It asserts:
//! 1. zero false accepts: no vector marked "invalid" is ever accepted;
//! 2. every "valid" vector the gateway rejects is on one of the allow-lists below, each a
//!    deliberate policy, and was rejected for exactly that policy's reason;
//! 3. the allow-lists are exact: the rejected-valid set equals their union, so the test fails
//!    if the verifier starts rejecting something else or starts accepting, say, an HMAC token;
//! 4. every vector in the file ran (`numberOfTests`): the file must exist, nothing is skipped.

use std::collections::{BTreeMap, BTreeSet};

use mcp_oauth_gateway::auth::AuthError;
use mcp_oauth_gateway::auth::jwk::{self, KeySet};
use mcp_oauth_gateway::auth::jws;
use serde_json::{Value, json};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/wycheproof/json_web_signature_test.json"
);

/// Valid HS256 vectors. Their groups carry only a `private` symmetric (`oct`) key: there is no
/// public key, and the gateway never loads a symmetric key (`parse_jwk` refuses `kty: oct`) nor
/// accepts an `HS*` header (`jws::parse` answers `Algorithm`). That is the RS→HS key-confusion
/// guard: a public key can never be used as an HMAC secret. Deliberate policy.
/// (Wycheproof counts 372 and 373 as valid although a `?` sits inside the header resp. payload:
/// the MAC covers the text as sent. The gateway decodes base64url strictly, so 372 is refused
/// even before its `HS256` is read; 373 is refused for `HS256` first.)
const REJECTED_VALID_HMAC: &[u64] = &[1, 348, 352, 357, 358, 359, 372, 373, 376, 377];

/// Valid ES512 vectors (RFC 7520 figure 27) signed with a P-521 key. The gateway offers
/// ES256/ES384 only: `parse_jwk` refuses the key (on its non-standard `alg` "ES521" before the
/// curve is looked at; P-521 itself is refused too) and `jws::parse` refuses the `ES512` header.
/// Deliberate policy.
const REJECTED_VALID_P521: &[u64] = &[347, 351];

/// Valid vectors whose header `alg` (PS384, RFC 7520 figure 20) differs from the `alg` the JWK
/// declares (PS256). A key is pinned to the one algorithm its JWK declares, and
/// `Jws::verify` answers `KeyMismatch` otherwise: the issue allows exactly this rejection.
/// The test also proves the signature itself is good (the same key declared PS384 verifies it).
const REJECTED_VALID_ALG_MISMATCH: &[u64] = &[346, 350];

/// Why a vector was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rejection {
    /// `jws::parse` refused the token (form, base64, header rules, algorithm).
    Parse(AuthError),
    /// The header's `kid` names no key in the set built from the group's public JWK.
    NoKey(String),
    /// `Jws::verify` refused (algorithm pin or signature).
    Verify(AuthError),
}

/// The gateway's decision on one token, given the keys configured for it.
fn evaluate(keys: &KeySet, token: &str) -> Result<(), Rejection> {
    let jws = jws::parse(token).map_err(Rejection::Parse)?;
    let key = keys
        .get(&jws.kid)
        .ok_or_else(|| Rejection::NoKey(jws.kid.clone()))?;
    jws.verify(key).map_err(Rejection::Verify)
}

/// The key set the gateway would hold for a JWKS made of this one JWK, and why keys were skipped.
fn key_set(jwk: &Value) -> (KeySet, Vec<String>) {
    let doc = serde_json::to_vec(&json!({ "keys": [jwk] })).unwrap();
    jwk::parse_jwks(&doc).expect("a one-key JWKS document is well formed")
}

struct Vector<'a> {
    tc_id: u64,
    comment: &'a str,
    flags: Vec<&'a str>,
    valid: bool,
    group: &'a Value,
    /// Index of the group in `testGroups`, which is also its key set's index.
    group_index: usize,
    token: String,
    json_serialized: bool,
}

fn load() -> Value {
    let bytes = std::fs::read(VECTORS).unwrap_or_else(|e| {
        panic!("Wycheproof JWS vectors missing at {VECTORS}: {e} (this test never skips)")
    });
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{VECTORS}: {e}"))
}

fn vectors(doc: &Value) -> Vec<Vector<'_>> {
    let mut out = Vec::new();
    let groups = doc["testGroups"].as_array().expect("testGroups array");
    for (group_index, group) in groups.iter().enumerate() {
        for test in group["tests"].as_array().expect("tests array") {
            let tc_id = test["tcId"].as_u64().expect("tcId");
            let valid = match test["result"].as_str() {
                Some("valid") => true,
                Some("invalid") => false,
                other => panic!("tcId {tc_id}: unexpected result {other:?}"),
            };
            // The compact form is a string. JSON serialization is either an object or a string
            // holding one; either way it goes to `jws::parse` as text, which must refuse it.
            let (token, json_serialized) = match &test["jws"] {
                Value::String(s) => (s.clone(), s.trim_start().starts_with('{')),
                other => (other.to_string(), true),
            };
            out.push(Vector {
                tc_id,
                comment: test["comment"].as_str().unwrap_or(""),
                flags: test["flags"]
                    .as_array()
                    .map(|f| f.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default(),
                valid,
                group,
                group_index,
                token,
                json_serialized,
            });
        }
    }
    out
}

/// Header `alg` of a compact token, for the policy checks, read leniently (characters outside
/// the base64url alphabet dropped) so a vector the gateway refuses as malformed still shows it.
fn header_alg(token: &str) -> Option<String> {
    use base64::Engine;
    let h: String = token
        .split('.')
        .next()?
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(h)
        .ok()?;
    let header: Value = serde_json::from_slice(&bytes).ok()?;
    header["alg"].as_str().map(str::to_owned)
}

/// Checks that an allow-listed vector was rejected for its category's documented reason.
fn check_reason(category: &str, v: &Vector<'_>, why: &Rejection) -> Result<(), String> {
    let public = v.group.get("public");
    match category {
        "HMAC" => {
            let private = &v.group["private"];
            if public.is_some() || private["kty"] != "oct" {
                return Err("group is not a symmetric-key-only group".into());
            }
            if jwk::parse_jwk(private).is_ok() {
                return Err("the symmetric key was loaded".into());
            }
            if !header_alg(&v.token).is_some_and(|a| a.starts_with("HS")) {
                return Err("header alg is not HS*".into());
            }
            let expected = if v.tc_id == 372 {
                Rejection::Parse(AuthError::Malformed("bad base64url"))
            } else {
                Rejection::Parse(AuthError::Algorithm)
            };
            if *why != expected {
                return Err(format!("expected {expected:?}, got {why:?}"));
            }
        }
        "P521" => {
            let public = public.ok_or("no public key")?;
            if public["crv"] != "P-521" {
                return Err(format!("curve is {}", public["crv"]));
            }
            if !key_set(public).0.is_empty() {
                return Err("the P-521 key was loaded".into());
            }
            if header_alg(&v.token).as_deref() != Some("ES512") {
                return Err("header alg is not ES512".into());
            }
            if *why != Rejection::Parse(AuthError::Algorithm) {
                return Err(format!("expected Parse(Algorithm), got {why:?}"));
            }
        }
        "ALG_MISMATCH" => {
            let public = public.ok_or("no public key")?;
            let header = header_alg(&v.token).ok_or("no header alg")?;
            if public["alg"].as_str() == Some(header.as_str()) {
                return Err("JWK alg equals the header alg".into());
            }
            if *why != Rejection::Verify(AuthError::KeyMismatch) {
                return Err(format!("expected Verify(KeyMismatch), got {why:?}"));
            }
            // Only the pin refuses it: the same key, declared for the header's alg, verifies.
            let mut repinned = public.clone();
            repinned["alg"] = Value::String(header);
            let (keys, _) = key_set(&repinned);
            if let Err(e) = evaluate(&keys, &v.token) {
                return Err(format!("still refused with the key re-pinned: {e:?}"));
            }
        }
        other => unreachable!("unknown category {other}"),
    }
    Ok(())
}

#[test]
fn wycheproof_json_web_signature() {
    let doc = load();
    let declared = doc["numberOfTests"].as_u64().expect("numberOfTests");
    let all = vectors(&doc);

    let categories: [(&str, &[u64]); 3] = [
        ("HMAC", REJECTED_VALID_HMAC),
        ("P521", REJECTED_VALID_P521),
        ("ALG_MISMATCH", REJECTED_VALID_ALG_MISMATCH),
    ];
    let mut allowed: BTreeMap<u64, &str> = BTreeMap::new();
    for (name, ids) in categories {
        for id in ids {
            assert!(
                allowed.insert(*id, name).is_none(),
                "tcId {id} is on two allow-lists"
            );
        }
    }

    // Symmetric-only groups: prove the gateway refuses their key, then run them with no keys.
    let mut key_sets: Vec<KeySet> = Vec::new();
    let mut skipped_keys = BTreeSet::new();
    for group in doc["testGroups"].as_array().unwrap() {
        let keys = match group.get("public") {
            Some(public) => {
                let (keys, skipped) = key_set(public);
                skipped_keys.extend(skipped);
                keys
            }
            None => {
                let private = &group["private"];
                assert_eq!(private["kty"], "oct", "a group without a public key");
                assert!(
                    jwk::parse_jwk(private).is_err(),
                    "a symmetric key was accepted: {private}"
                );
                KeySet::default()
            }
        };
        key_sets.push(keys);
    }

    let mut ran = 0u64;
    let mut accepted_valid = 0u64;
    let mut rejected_invalid = 0u64;
    let mut json_serialized = 0u64;
    let mut false_accepts = Vec::new();
    let mut rejected_valid: BTreeMap<u64, (Rejection, &Vector<'_>)> = BTreeMap::new();
    let mut invalid_reasons: BTreeMap<String, u64> = BTreeMap::new();

    for v in &all {
        ran += 1;
        let outcome = evaluate(&key_sets[v.group_index], &v.token);
        if v.json_serialized {
            json_serialized += 1;
            assert!(
                matches!(outcome, Err(Rejection::Parse(_))),
                "tcId {}: JSON serialization not refused by jws::parse: {outcome:?}",
                v.tc_id
            );
        }
        match (v.valid, outcome) {
            (true, Ok(())) => accepted_valid += 1,
            (true, Err(why)) => {
                rejected_valid.insert(v.tc_id, (why, v));
            }
            (false, Ok(())) => false_accepts.push(format!(
                "tcId {} ({}; flags {:?})",
                v.tc_id, v.comment, v.flags
            )),
            (false, Err(why)) => {
                rejected_invalid += 1;
                let kind = match why {
                    Rejection::Parse(e) => format!("parse: {e}"),
                    Rejection::NoKey(_) => "no key for kid".to_owned(),
                    Rejection::Verify(e) => format!("verify: {e}"),
                };
                *invalid_reasons.entry(kind).or_default() += 1;
            }
        }
    }

    // 1. Zero false accepts.
    assert!(
        false_accepts.is_empty(),
        "{} invalid vector(s) ACCEPTED:\n  {}",
        false_accepts.len(),
        false_accepts.join("\n  ")
    );

    // 2. Every rejected valid vector is allow-listed, for its category's reason.
    let unexpected: Vec<String> = rejected_valid
        .iter()
        .filter(|(id, _)| !allowed.contains_key(id))
        .map(|(id, (why, v))| format!("tcId {id} ({}): {why:?}", v.comment))
        .collect();
    assert!(
        unexpected.is_empty(),
        "valid vector(s) rejected outside the allow-lists:\n  {}",
        unexpected.join("\n  ")
    );
    let wrong_reason: Vec<String> = rejected_valid
        .iter()
        .filter_map(|(id, (why, v))| {
            let category = allowed[id];
            check_reason(category, v, why)
                .err()
                .map(|e| format!("tcId {id} [{category}]: {e}"))
        })
        .collect();
    assert!(
        wrong_reason.is_empty(),
        "allow-listed vector(s) rejected for another reason than documented:\n  {}",
        wrong_reason.join("\n  ")
    );

    // 3. The allow-lists are exact.
    let rejected_ids: BTreeSet<u64> = rejected_valid.keys().copied().collect();
    let allowed_ids: BTreeSet<u64> = allowed.keys().copied().collect();
    let stale: Vec<String> = allowed_ids
        .difference(&rejected_ids)
        .map(|id| {
            let known = all.iter().find(|v| v.tc_id == *id);
            match known {
                None => format!("tcId {id} [{}]: not in the file", allowed[id]),
                Some(v) if !v.valid => format!("tcId {id} [{}]: not a valid vector", allowed[id]),
                Some(_) => format!("tcId {id} [{}]: now ACCEPTED", allowed[id]),
            }
        })
        .collect();
    assert!(
        stale.is_empty(),
        "allow-listed tcIds that were not rejected:\n  {}",
        stale.join("\n  ")
    );
    assert_eq!(rejected_ids, allowed_ids);

    // 4. Nothing silently skipped.
    assert_eq!(ran, declared, "vectors run vs the file's numberOfTests");
    assert_eq!(ran, 401, "the pinned vector file has 401 tests");

    // 5. Summary.
    let valid = all.iter().filter(|v| v.valid).count();
    eprintln!(
        "wycheproof JWS: {ran} vectors ({valid} valid, {} invalid)",
        ran as usize - valid
    );
    eprintln!("  accepted valid:   {accepted_valid}");
    eprintln!(
        "  rejected invalid: {rejected_invalid} (JSON-serialized among them: {json_serialized})"
    );
    for (reason, n) in &invalid_reasons {
        eprintln!("    {n:>4}  {reason}");
    }
    eprintln!("  rejected valid, by deliberate policy:");
    for (name, ids) in categories {
        eprintln!("    {name:<13} {:>2}  tcIds {ids:?}", ids.len());
    }
    eprintln!("  keys skipped while loading group JWKs:");
    for s in &skipped_keys {
        eprintln!("    {s}");
    }
}

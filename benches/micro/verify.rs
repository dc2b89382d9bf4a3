//! Token verification speed: the full path per algorithm (parse, key lookup, signature,
//! claims, principal) with the verified-token cache off; the already-verified path; and, for
//! comparison, stock `jsonwebtoken::decode` and the bare aws-lc-rs signature check; and the
//! already-verified path with revocation checks: a 1,000-entry deny-list held in memory, and
//! an online check whose verdict is cached (what a request costs between two refreshes).
//!
//! Run with `cargo bench --bench micro`; figures in BENCHMARKS.md.

use std::hint::black_box;
use std::sync::Arc;

use crate::support::cpu_time;
use async_trait::async_trait;

use cpu_time::ThreadCpu;
use criterion::{Criterion, criterion_group};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};

use mcp_oauth_gateway::auth::keystore::RefreshPolicy;
use mcp_oauth_gateway::auth::revocation::{
    DenyEntry, DenyKind, DenyListPolicy, DenyListSource, DenyListStore, OnlineCheck,
    OnlineSettings, Revocation, TokenStatus, TokenStatusSource,
};
use mcp_oauth_gateway::auth::verifier::Verifier;
use mcp_oauth_gateway::auth::{FetchError, IssuerConfig, JwksFetcher};
use mcp_oauth_gateway::source::SourceError;

const ISSUER: &str = "https://idp.bench.example";
const AUDIENCE: &str = "https://gateway.bench.example/mcp";
const JWKS_URL: &str = "https://idp.bench.example/jwks";

struct Key {
    kid: &'static str,
    alg: Algorithm,
    key: EncodingKey,
}

fn key(kid: &'static str, alg: Algorithm, file: &str) -> Key {
    let path = format!("{}/tests/fixtures/keys/{file}", env!("CARGO_MANIFEST_DIR"));
    let pem = std::fs::read(path).expect("fixture key");
    let key = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(&pem),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(&pem),
        _ => EncodingKey::from_rsa_pem(&pem),
    }
    .expect("fixture key parses");
    Key { kid, alg, key }
}

/// Serves one JWKS from memory: the bench measures verification, not the network.
struct StaticJwks(Vec<u8>);

#[async_trait]
impl JwksFetcher for StaticJwks {
    async fn fetch(&self, _url: &str) -> Result<Vec<u8>, FetchError> {
        Ok(self.0.clone())
    }
}

fn claims() -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    json!({
        "iss": ISSUER, "sub": "user-1", "aud": AUDIENCE, "exp": now + 3600, "iat": now,
        "jti": "bench-jti", "client_id": "bench-client", "preferred_username": "alice",
        "email": "alice@example.com", "groups": ["engineering", "admins"],
        "scope": "mcp:tools openid",
    })
}

fn sign(k: &Key) -> String {
    let mut header = Header::new(k.alg);
    header.kid = Some(k.kid.into());
    jsonwebtoken::encode(&header, &claims(), &k.key).expect("sign")
}

fn verifier(keys: &[Key], rt: &tokio::runtime::Runtime, cache: usize) -> Verifier {
    let doc = serde_json::to_vec(&jwks(keys)).unwrap();
    let issuer = IssuerConfig::oidc(
        ISSUER.into(),
        vec![AUDIENCE.into()],
        vec![],
        Some(JWKS_URL.into()),
        "groups",
    );
    let v = Verifier::new(
        vec![issuer],
        Arc::new(StaticJwks(doc)),
        RefreshPolicy::default(),
        cache,
    );
    rt.block_on(v.load_all());
    v
}

fn jwks(keys: &[Key]) -> Value {
    let keys: Vec<Value> = keys
        .iter()
        .map(|k| {
            let mut v =
                serde_json::to_value(Jwk::from_encoding_key(&k.key, k.alg).unwrap()).unwrap();
            v["kid"] = json!(k.kid);
            v
        })
        .collect();
    json!({ "keys": keys })
}

/// The very tokens measured here, with their JWKS, for the peer verifiers in
/// benches/peers/verify.mjs (`make bench` sets MCP_BENCH_TOKENS).
fn write_tokens(path: &str, keys: &[Key], tokens: &[(&str, String)]) {
    let doc = json!({
        "issuer": ISSUER, "audience": AUDIENCE, "jwks": jwks(keys),
        "tokens": tokens.iter().map(|(kid, t)| (kid.to_string(), json!(t))).collect::<serde_json::Map<_, _>>(),
    });
    std::fs::write(path, serde_json::to_vec_pretty(&doc).unwrap()).expect("write tokens");
}

fn bench(c: &mut Criterion<ThreadCpu>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let keys = [
        key("rs256", Algorithm::RS256, "rsa2048.pem"),
        key("ps256", Algorithm::PS256, "rsa2048.pem"),
        key("es256", Algorithm::ES256, "ec256.pem"),
        key("eddsa", Algorithm::EdDSA, "ed25519.pem"),
    ];
    let full = verifier(&keys, &rt, 0);
    let tokens: Vec<(&str, String)> = keys.iter().map(|k| (k.kid, sign(k))).collect();
    if let Ok(path) = std::env::var("MCP_BENCH_TOKENS") {
        write_tokens(&path, &keys, &tokens);
    }
    let mut group = c.benchmark_group("verify_full");
    for (kid, token) in &tokens {
        rt.block_on(full.verify(token))
            .expect("bench token verifies");
        group.bench_function(*kid, |b| {
            b.iter(|| rt.block_on(full.verify(black_box(token))).unwrap())
        });
    }
    group.finish();

    let cached = verifier(&keys, &rt, 1000);
    let token = tokens[0].1.clone();
    assert!(!rt.block_on(cached.verify(&token)).unwrap().cached);
    assert!(rt.block_on(cached.verify(&token)).unwrap().cached);
    c.bench_function("verify_cached/rs256", |b| {
        b.iter(|| rt.block_on(cached.verify(black_box(&token))).unwrap())
    });

    // Comparisons: stock jsonwebtoken (rebuilds the RSA key per call) and the signature floor.
    let jwk = Jwk::from_encoding_key(&keys[0].key, Algorithm::RS256).unwrap();
    let decoding = DecodingKey::from_jwk(&jwk).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[AUDIENCE]);
    validation.set_issuer(&[ISSUER]);
    c.bench_function("stock_jsonwebtoken_decode/rs256", |b| {
        b.iter(|| jsonwebtoken::decode::<Value>(black_box(&token), &decoding, &validation).unwrap())
    });
    let (input, sig) = token.rsplit_once('.').unwrap();
    let sig = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(sig)
            .unwrap()
    };
    let jwk_value = serde_json::to_value(&jwk).unwrap();
    let mut jwk_value = jwk_value;
    jwk_value["kid"] = json!("rs256");
    let parsed = mcp_oauth_gateway::auth::jwk::parse_jwk(&jwk_value).unwrap();
    c.bench_function("signature_floor/rs256", |b| {
        b.iter(|| assert!(parsed.verify(black_box(input.as_bytes()), black_box(&sig))))
    });
}

/// 1,000 revoked users, none of them the bench token's.
struct ThousandRevoked;

#[async_trait]
impl DenyListSource for ThousandRevoked {
    fn name(&self) -> String {
        "bench".into()
    }
    async fn load(&self) -> Result<Vec<DenyEntry>, SourceError> {
        Ok((0..1000)
            .map(|i| DenyEntry {
                kind: DenyKind::User,
                value: format!("user-{i}"),
                issuer: None,
                not_before: Some(1),
                expires_at: u64::MAX,
                revoked_at: None,
                note: None,
            })
            .collect())
    }
}

/// An online check that always says active (its verdict is cached after the first call).
struct AlwaysActive;

#[async_trait]
impl TokenStatusSource for AlwaysActive {
    fn name(&self) -> &'static str {
        "bench"
    }
    async fn status(&self, _token: &str) -> Result<TokenStatus, SourceError> {
        Ok(TokenStatus::Active)
    }
}

fn bench_revocation(c: &mut Criterion<ThreadCpu>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let keys = [key("rs256", Algorithm::RS256, "rsa2048.pem")];
    let token = sign(&keys[0]);
    let deny = Arc::new(DenyListStore::new(
        Arc::new(ThousandRevoked),
        DenyListPolicy {
            refresh_every: std::time::Duration::from_secs(3600),
            max_staleness: std::time::Duration::from_secs(7200),
            read_timeout: std::time::Duration::from_secs(1),
        },
    ));
    let online = OnlineCheck::new(
        Arc::new(AlwaysActive),
        OnlineSettings {
            cache_for: std::time::Duration::from_secs(3600),
            timeout: std::time::Duration::from_secs(1),
            fail_open: false,
            opaque: Default::default(),
        },
    );
    let revocation = Arc::new(Revocation::new(
        Some(deny),
        [(ISSUER.to_owned(), online)].into_iter().collect(),
    ));
    rt.block_on(revocation.start(true));
    let v = verifier(&keys, &rt, 1000).with_revocation(revocation);
    rt.block_on(v.verify(&token)).unwrap();
    assert!(rt.block_on(v.verify(&token)).unwrap().cached);
    c.bench_function("verify_cached_with_revocation/rs256", |b| {
        b.iter(|| rt.block_on(v.verify(black_box(&token))).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = cpu_time::criterion();
    targets = bench, bench_revocation
}

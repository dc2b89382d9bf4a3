//! Shared by `tests/auth_cognito.rs`, `tests/auth_oidc/` and `tests/policy_dynamodb/`
//! (included with `#[path]`): required environment, spawned processes that are killed when
//! dropped (the standalone gateway and private `oidc-provider` instances, both on 127.0.0.1
//! only), fresh Cognito user pools seeded in moto with AdminInitiateAuth logins
//! (`TestPool`), tokens from the OIDC provider and its `/__admin/*` side channel,
//! `POST /mcp tools/list` over real HTTP, and small JWT helpers that read or rewrite a token
//! without verifying it.
//!
//! Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, AuthFlowType, ExplicitAuthFlowsType, MessageActionType,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

/// How long a spawned process gets to print its listening line (a guard against a hang,
/// not a timing assumption: both print it well under a second).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A variable that `make test` exports. Missing means the suite was not started the right
/// way: fail loudly, never skip.
pub fn required_env(name: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| {
            panic!(
                "{name} is not set: run the suite with `make test`, which starts moto (Cognito) and \
                 the OIDC provider and exports it (or see scripts/common.sh to start them by hand)"
            )
        })
}

/// A port on 127.0.0.1 that nothing listens on right now (bound, then released).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a throwaway port");
    l.local_addr().expect("local address").port()
}

/// A resource URL no other test uses (an audience for OIDC tokens; nothing listens there).
pub fn unique_resource() -> String {
    format!("http://127.0.0.1:1/{}/mcp", uuid::Uuid::new_v4())
}

/// A spawned child process, killed (and reaped) when dropped.
pub struct Process {
    child: Child,
    /// What the process announced, e.g. `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns `cmd` with stdout piped and waits for its first stdout line, which must start
/// with `announce` followed by its `http://127.0.0.1:PORT` URL. The rest of stdout is
/// drained on a thread so the child never blocks on (or dies of) a closed pipe.
fn spawn_announcing(mut cmd: Command, what: &str, announce: &str) -> Process {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(first)) = lines.next() {
            let _ = tx.send(first);
        }
        for _ in lines {}
    });
    // Build the guard first, so a panic below still kills the child.
    let mut process = Process {
        child,
        base: String::new(),
    };
    let line = match rx.recv_timeout(START_TIMEOUT) {
        Ok(line) => line,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what} printed nothing within {START_TIMEOUT:?}")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let status = process.child.wait().ok();
            panic!(
                "{what} exited before announcing its address (status {status:?}); see its stderr above"
            )
        }
    };
    process.base = line
        .trim()
        .strip_prefix(announce)
        .map(str::trim)
        .filter(|u| u.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| {
            panic!("{what} printed {line:?}, not `{announce} http://127.0.0.1:PORT`")
        })
        .to_owned();
    process
}

/// The standalone gateway binary with `envs` (after `GATEWAY_BIND=127.0.0.1:0`,
/// `DEMO_TOOLS_URL=http://127.0.0.1:1` and `RUST_LOG=warn`, which `envs` may override).
/// `GATEWAY_*` variables of the test's own environment are not inherited.
pub fn spawn_gateway(envs: &[(&str, &str)]) -> Process {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcp-oauth-gateway"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("GATEWAY_") {
            cmd.env_remove(name);
        }
    }
    cmd.env("GATEWAY_BIND", "127.0.0.1:0")
        .env("DEMO_TOOLS_URL", "http://127.0.0.1:1")
        .env("RUST_LOG", "warn")
        .envs(envs.iter().copied())
        .stderr(Stdio::inherit());
    spawn_announcing(cmd, "the gateway", "mcp-oauth-gateway listening on")
}

/// A private `oidc-provider` (tests/idp/oidc_provider.mjs) on a port of its own choosing,
/// for tests that rotate its key or take its JWKS down; killed when dropped.
pub struct OidcProvider {
    _process: Process,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub issuer: String,
}

impl OidcProvider {
    /// Starts one that issues tokens for `resources`.
    pub fn spawn(resources: &[&str]) -> Self {
        Self::spawn_with(resources, &[])
    }

    /// Starts one that issues JWTs for `resources` and opaque tokens for `opaque`.
    pub fn spawn_with(resources: &[&str], opaque: &[&str]) -> Self {
        let root = env!("CARGO_MANIFEST_DIR");
        let mut cmd = Command::new(required_env("MCP_E2E_NODE"));
        cmd.arg(format!("{root}/tests/idp/oidc_provider.mjs"))
            // Port 0: the provider binds a free port itself and announces its issuer.
            .args(["--port", "0"])
            .current_dir(root)
            // Its request log is noise here; a failure to start shows as a missing line.
            .stderr(Stdio::null());
        for r in resources {
            cmd.args(["--resource", r]);
        }
        for r in opaque {
            cmd.args(["--opaque-resource", r]);
        }
        let process = spawn_announcing(cmd, "the OIDC provider", "oidc-provider listening on");
        Self {
            issuer: process.base.clone(),
            _process: process,
        }
    }
}

/// A fresh user pool in moto's Cognito (`AWS_ENDPOINT_URL`, `AWS_REGION`), seeded through the
/// Rust SDK: one app client the gateway trusts (and optionally another it does not), groups,
/// and users with permanent passwords in their groups.
///
/// moto serves the pool's JWKS at `$AWS_ENDPOINT_URL/<pool>/.well-known/jwks.json`, while its
/// tokens' `iss` is the real `https://cognito-idp.<region>.amazonaws.com/<pool>`.
pub struct TestPool {
    pub idp: Client,
    pub region: String,
    pub pool_id: String,
    /// The app client the gateway trusts.
    pub client_id: String,
    /// Another app client of the same pool, which the gateway does not trust (if asked for).
    pub other_client_id: Option<String>,
    pub jwks_url: String,
    /// username -> password, for `login`.
    passwords: Vec<(String, String)>,
}

/// What AdminInitiateAuth answered.
pub struct Tokens {
    pub access: String,
    pub id: String,
}

impl TestPool {
    /// Creates a pool named `<name>-<uuid>` with `groups` (and every group `users` names),
    /// then `users` as (username, password, groups), each with an `email` attribute.
    /// `other_client`: also create a second app client (`other_client_id`).
    pub async fn seed(
        name: &str,
        groups: &[&str],
        users: &[(&str, &str, &[&str])],
        other_client: bool,
    ) -> Self {
        let endpoint = required_env("AWS_ENDPOINT_URL");
        let region = required_env("AWS_REGION");
        // Follows AWS_ENDPOINT_URL (moto) and the dummy credentials `make test` exports.
        let config = aws_config::defaults(BehaviorVersion::latest()).load().await;
        let idp = Client::new(&config);
        let pool_id = idp
            .create_user_pool()
            .pool_name(format!("{name}-{}", uuid::Uuid::new_v4()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateUserPool against {endpoint}: {e:?}"))
            .user_pool()
            .and_then(|p| p.id())
            .expect("pool id")
            .to_owned();
        let client_id = Self::app_client(&idp, &pool_id, "gateway-client").await;
        let other_client_id = if other_client {
            Some(Self::app_client(&idp, &pool_id, "other-client").await)
        } else {
            None
        };
        let mut all_groups: Vec<&str> = Vec::new();
        for group in groups
            .iter()
            .chain(users.iter().flat_map(|(_, _, g)| g.iter()))
        {
            if !all_groups.contains(group) {
                all_groups.push(group);
            }
        }
        for group in all_groups {
            idp.create_group()
                .user_pool_id(&pool_id)
                .group_name(group)
                .send()
                .await
                .expect("CreateGroup");
        }
        for (user, password, groups) in users {
            idp.admin_create_user()
                .user_pool_id(&pool_id)
                .username(*user)
                .user_attributes(
                    AttributeType::builder()
                        .name("email")
                        .value(format!("{user}@example.com"))
                        .build()
                        .expect("attribute"),
                )
                .message_action(MessageActionType::Suppress)
                .send()
                .await
                .expect("AdminCreateUser");
            idp.admin_set_user_password()
                .user_pool_id(&pool_id)
                .username(*user)
                .password(*password)
                .permanent(true)
                .send()
                .await
                .expect("AdminSetUserPassword");
            for group in *groups {
                idp.admin_add_user_to_group()
                    .user_pool_id(&pool_id)
                    .username(*user)
                    .group_name(*group)
                    .send()
                    .await
                    .expect("AdminAddUserToGroup");
            }
        }
        let jwks_url = format!(
            "{}/{pool_id}/.well-known/jwks.json",
            endpoint.trim_end_matches('/')
        );
        Self {
            idp,
            region,
            pool_id,
            client_id,
            other_client_id,
            jwks_url,
            passwords: users
                .iter()
                .map(|(u, p, _)| ((*u).to_owned(), (*p).to_owned()))
                .collect(),
        }
    }

    /// An app client without a secret that allows ADMIN_USER_PASSWORD_AUTH.
    async fn app_client(idp: &Client, pool: &str, name: &str) -> String {
        idp.create_user_pool_client()
            .user_pool_id(pool)
            .client_name(name)
            .generate_secret(false)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
            .send()
            .await
            .expect("CreateUserPoolClient")
            .user_pool_client()
            .and_then(|c| c.client_id())
            .expect("app client id")
            .to_owned()
    }

    /// The second app client (panics unless the pool was seeded with one).
    pub fn other_client(&self) -> &str {
        self.other_client_id
            .as_deref()
            .expect("the pool was seeded without a second app client")
    }

    /// Logs seeded `user` in through `client` with ADMIN_USER_PASSWORD_AUTH.
    pub async fn login_with(&self, user: &str, client: &str) -> Tokens {
        let password = self
            .passwords
            .iter()
            .find(|(u, _)| u == user)
            .map(|(_, p)| p.as_str())
            .unwrap_or_else(|| panic!("{user} is not a seeded user"));
        let out = self
            .idp
            .admin_initiate_auth()
            .user_pool_id(&self.pool_id)
            .client_id(client)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", user)
            .auth_parameters("PASSWORD", password)
            .send()
            .await
            .expect("AdminInitiateAuth");
        let auth = out.authentication_result().unwrap_or_else(|| {
            panic!("no tokens for {user}, challenge {:?}", out.challenge_name())
        });
        Tokens {
            access: auth.access_token().expect("access token").to_owned(),
            id: auth.id_token().expect("ID token").to_owned(),
        }
    }

    /// Logs seeded `user` in through the trusted app client.
    pub async fn login(&self, user: &str) -> Tokens {
        self.login_with(user, &self.client_id).await
    }

    /// The `iss` of this pool's tokens.
    pub fn issuer(&self) -> String {
        format!(
            "https://cognito-idp.{}.amazonaws.com/{}",
            self.region, self.pool_id
        )
    }

    /// The standalone gateway trusting this pool's first app client only, plus `extra`.
    pub fn gateway(&self, extra: &[(&str, &str)]) -> Process {
        let mut envs = vec![
            ("GATEWAY_COGNITO_USER_POOL_ID", self.pool_id.as_str()),
            ("GATEWAY_COGNITO_CLIENT_IDS", self.client_id.as_str()),
            ("GATEWAY_COGNITO_JWKS_URL", self.jwks_url.as_str()),
        ];
        envs.extend_from_slice(extra);
        spawn_gateway(&envs)
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

/// A client-credentials access token (a JWT whose `aud` is `resource`) from `issuer`.
pub async fn oidc_token(
    issuer: &str,
    client_id: &str,
    secret: &str,
    resource: &str,
    scope: &str,
) -> String {
    let resp = http()
        .post(format!("{issuer}/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("resource", resource),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap_or_else(|e| panic!("token request to {issuer}: {e}"));
    let status = resp.status();
    let body: Value = resp.json().await.expect("token response is JSON");
    assert_eq!(status, StatusCode::OK, "token request refused: {body}");
    body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access_token: {body}"))
        .to_owned()
}

/// client-alice's token for `resource` with scope `mcp:tools`.
pub async fn alice_token(issuer: &str, resource: &str) -> String {
    oidc_token(
        issuer,
        "client-alice",
        "alice-secret",
        resource,
        "mcp:tools",
    )
    .await
}

/// Lets the provider issue tokens for one more resource.
pub async fn register_resource(issuer: &str, resource: &str) {
    let resp = http()
        .post(format!("{issuer}/__admin/resources"))
        .form(&[("resource", resource)])
        .send()
        .await
        .expect("register a resource");
    assert!(
        resp.status().is_success(),
        "registering {resource}: {}",
        resp.status()
    );
}

/// `POST /__admin/<action>` (rotate, jwks-down, jwks-up, reset-stats): its JSON answer.
pub async fn admin(issuer: &str, action: &str) -> Value {
    let resp = http()
        .post(format!("{issuer}/__admin/{action}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("/__admin/{action}: {e}"));
    assert!(
        resp.status().is_success(),
        "/__admin/{action}: {}",
        resp.status()
    );
    resp.json().await.expect("admin answer is JSON")
}

/// How often the provider's `jwks_uri` was requested since the last reset.
pub async fn jwks_hits(issuer: &str) -> u64 {
    let stats: Value = http()
        .get(format!("{issuer}/__admin/stats"))
        .send()
        .await
        .expect("/__admin/stats")
        .json()
        .await
        .expect("stats are JSON");
    stats["jwksHits"]
        .as_u64()
        .unwrap_or_else(|| panic!("no jwksHits in {stats}"))
}

/// `POST {base}/mcp` with a `tools/list` request and optionally a bearer token.
pub async fn tools_list(base: &str, token: Option<&str>) -> (StatusCode, HeaderMap, Value) {
    let mut req = http()
        .post(format!("{base}/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}).to_string());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("POST /mcp");
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("response body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, headers, body)
}

/// The tool names of a successful `tools/list` answer.
pub fn tool_names(body: &Value) -> Vec<String> {
    body["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("not a tools/list result: {body}"))
        .iter()
        .map(|t| t["name"].as_str().expect("tool name").to_owned())
        .collect()
}

/// The `WWW-Authenticate` header of a response (panics when absent).
pub fn challenge(headers: &HeaderMap) -> String {
    headers
        .get("www-authenticate")
        .expect("a 401 carries WWW-Authenticate")
        .to_str()
        .expect("ASCII challenge")
        .to_owned()
}

fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("a JWT has three parts");
    let bytes = URL_SAFE_NO_PAD.decode(part).expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// A JWT's header, unverified.
pub fn jwt_header(token: &str) -> Value {
    decode_part(token, 0)
}

/// A JWT's claims, unverified.
pub fn jwt_claims(token: &str) -> Value {
    decode_part(token, 1)
}

/// `token` with its header replaced by one naming `kid` (payload and signature kept; the
/// signature no longer matches, but a kid lookup fails before it is checked).
pub fn with_kid(token: &str, kid: &str) -> String {
    let header = json!({"alg": "RS256", "kid": kid, "typ": "at+jwt"}).to_string();
    let rest = token.split_once('.').expect("a JWT has three parts").1;
    format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header))
}

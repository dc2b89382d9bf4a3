//! Client ID Metadata Documents through the façade: a client whose `client_id` is the https
//! URL of its metadata document (served by tests/clients/cimd_host.mjs with a certificate
//! from a CA made here with `openssl`, which only this gateway trusts) signs in with no
//! registration; documents that misname themselves, are too large, want a secret or are
//! missing are refused without a redirect; redirect URIs are only the document's.
//!
//! Needs `MCP_E2E_NODE` and `OIDC_ISSUER`, which `make test` sets; without them these tests
//! fail, they never skip.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::json;

use crate::support::clients::*;
use crate::support::oauth::*;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is installed");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A throwaway CA and a certificate for 127.0.0.1 it signed: (ca.pem, leaf.pem, leaf.key).
fn test_pki(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut ca = vec![
        "req",
        "-x509",
        "-days",
        "1",
        "-subj",
        "/CN=cimd-test-ca",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ];
    ca.extend(ec);
    ca.extend([
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    openssl(dir, &ca);
    let mut csr = vec![
        "req",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
    ];
    csr.extend(ec);
    openssl(dir, &csr);
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "leaf.ext",
            "-out",
            "leaf.pem",
        ],
    );
}

/// The document host, killed on drop.
struct Host(Child, String);
impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn cimd_host(dir: &Path) -> Host {
    let mut child = Command::new(required_env("MCP_E2E_NODE"))
        .arg("tests/clients/cimd_host.mjs")
        .arg("--cert")
        .arg(dir.join("leaf.pem"))
        .arg("--key")
        .arg(dir.join("leaf.key"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the document host");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let origin = line.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(origin.starts_with("https://127.0.0.1:"), "{line:?}");
    Host(child, origin)
}

#[tokio::test]
async fn clients_identified_by_their_metadata_document_sign_in_without_registering() {
    let dir = std::env::temp_dir().join(format!("e2e-cimd-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    test_pki(&dir);
    let host = cimd_host(&dir);
    let ca = dir.join("ca.pem");
    // The document host is on loopback and not on 443: let through by the test-only
    // allow-list, exactly that host and port.
    let allow = host.1.trim_start_matches("https://").to_owned();
    let g = facade_gateway(&[
        ("GATEWAY_FACADE_CIMD", "true"),
        ("GATEWAY_FACADE_CIMD_CA_FILE", ca.to_str().unwrap()),
        ("GATEWAY_FACADE_CIMD_TEST_ALLOW", &allow),
    ])
    .await;
    let md: serde_json::Value = http()
        .get(format!("{}/.well-known/oauth-authorization-server", g.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(md["client_id_metadata_document_supported"], true, "{md}");

    let authorize = |client: String, redirect: &str| {
        let q = [
            ("response_type", "code"),
            ("client_id", client.as_str()),
            ("redirect_uri", redirect),
            ("state", "s1"),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ];
        let url = url::Url::parse_with_params(&format!("{}/authorize", g.base), &q).unwrap();
        http().get(url).send()
    };
    let good = format!("{}/client.json", host.1);
    for (client, redirect, status) in [
        (
            format!("{}/wrong-id.json", host.1),
            "http://127.0.0.1:9999/callback",
            401,
        ),
        (
            format!("{}/big.json", host.1),
            "http://127.0.0.1:9999/callback",
            401,
        ),
        (
            format!("{}/secret.json", host.1),
            "http://127.0.0.1:9999/callback",
            401,
        ),
        (
            format!("{}/missing.json", host.1),
            "http://127.0.0.1:9999/callback",
            401,
        ),
        (
            good.replace("https://", "http://"),
            "http://127.0.0.1:9999/callback",
            401,
        ),
        (good.clone(), "http://evil.example/callback", 400),
        (good.clone(), "http://127.0.0.1:9999/elsewhere", 400),
    ] {
        let resp = authorize(client.clone(), redirect).await.unwrap();
        assert_eq!(resp.status().as_u16(), status, "{client} {redirect}");
        assert!(resp.headers().get("location").is_none(), "{client}");
    }
    // A good document: the consent page names the document, then the IdP.
    let q = [
        ("response_type", "code"),
        ("client_id", good.as_str()),
        ("redirect_uri", "http://127.0.0.1:9999/callback"),
        ("state", "s1"),
        (
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        ),
        ("code_challenge_method", "S256"),
    ];
    let url = url::Url::parse_with_params(&format!("{}/authorize", g.base), &q).unwrap();
    let mut browser = Browser::default();
    let page = browser.get(url.as_str()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&good), "{}", page.body);
    let resp = browser.authorize(&g.base, url.as_str(), "approve").await;
    assert_eq!(resp.status, 302, "{}", resp.body);
    let to_idp = query(&resp.location().unwrap());
    assert_eq!(to_idp["client_id"], RELAY_CLIENT);

    // The TypeScript SDK uses the document URL as its client id when the metadata says so.
    let report = run_client(
        &required_env("MCP_E2E_NODE"),
        &[
            "tests/clients/ts_oauth_client.mjs",
            &g.resource,
            "--cimd-url",
            &good,
            "--call",
            r#"echo={"text":"from a CIMD client"}"#,
        ],
    );
    assert_eq!(report["clientIds"], json!([good]), "{report}");
    assert_eq!(report["signIns"], 1, "{report}");
    assert_eq!(report["calls"]["echo"]["isError"], false, "{report}");
    assert!(
        report["calls"]["echo"]["text"]
            .as_str()
            .unwrap()
            .contains("\"caller\":\"alice\""),
        "{report}"
    );
}

/// Finding 3: a `client_id` naming a loopback, private or link-local address used to make
/// the gateway connect there on every `/authorize` and `/token`. Now such a document is
/// never fetched: a listener on 127.0.0.1 counts no connection, however often it is named.
#[tokio::test]
async fn metadata_documents_on_non_public_addresses_are_never_fetched() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = hits.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(conn);
        }
    });
    // The test-only allow-list names another port: this listener is not on it.
    let g = facade_gateway(&[
        ("GATEWAY_FACADE_CIMD", "true"),
        (
            "GATEWAY_FACADE_CIMD_TEST_ALLOW",
            &format!("127.0.0.1:{}", port ^ 1),
        ),
    ])
    .await;
    for client in [
        format!("https://127.0.0.1:{port}/client.json"),
        format!("https://localhost:{port}/client.json"),
        format!("https://[::ffff:127.0.0.1]:{port}/client.json"),
        format!("https://[::1]:{port}/client.json"),
    ] {
        for _ in 0..3 {
            let q = [
                ("response_type", "code"),
                ("client_id", client.as_str()),
                ("redirect_uri", "http://127.0.0.1:9999/callback"),
                (
                    "code_challenge",
                    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                ),
                ("code_challenge_method", "S256"),
            ];
            let url = url::Url::parse_with_params(&format!("{}/authorize", g.base), &q).unwrap();
            let resp = http().get(url).send().await.unwrap();
            assert_eq!(resp.status(), 401, "{client}");
            assert!(resp.headers().get("location").is_none());
        }
        let resp = http()
            .post(format!("{}/token", g.base))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", client.as_str()),
                ("code", "c"),
                ("code_verifier", "v"),
                ("redirect_uri", "http://127.0.0.1:9999/callback"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{client}");
    }
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the gateway connected to a loopback address a client named"
    );
}

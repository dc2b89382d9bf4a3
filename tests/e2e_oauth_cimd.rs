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

#[path = "support/clients.rs"]
mod clients;
#[path = "support/oauth.rs"]
mod oauth;
use clients::*;
use oauth::*;

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
    let g = facade_gateway(&[
        ("GATEWAY_FACADE_CIMD", "true"),
        ("GATEWAY_FACADE_CIMD_CA_FILE", ca.to_str().unwrap()),
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
    let resp = authorize(good.clone(), "http://127.0.0.1:9999/callback")
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let to_idp = query(resp.headers()["location"].to_str().unwrap());
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

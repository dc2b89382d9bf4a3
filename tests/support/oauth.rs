//! For the façade tests (`tests/e2e/e2e_oauth*.rs`, beside `clients`): a standalone gateway
//! whose authorization-server façade fronts the local oidc-provider, demo tools that verify
//! who called, and small HTTP helpers that never follow redirects.

use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::Value;

use super::clients::*;

/// The relay's client at the local oidc-provider (tests/idp/oidc_provider.mjs).
pub const RELAY_CLIENT: &str = "mcp-gateway-relay";

pub const CATALOG: &str = "\
policies:
  - {group: '*', allow: [current_time]}
  - {group: engineering, allow: [echo]}
  - group: admins
    allow: ['*']
    scopes: [{tools: 'admin_*', scopes: ['mcp:admin']}]
tools:
  - {name: echo, inputSchema: {type: object}, target: {kind: http, url: '${DEMO_TOOLS_URL}/echo'}}
  - {name: admin_echo, inputSchema: {type: object}, target: {kind: http, url: '${DEMO_TOOLS_URL}/echo'}}
  - {name: current_time, inputSchema: {type: object}, target: {kind: http, url: '${DEMO_TOOLS_URL}/current_time'}}
";

pub struct Gateway {
    pub _tools: Server,
    pub gateway: Server,
    pub base: String,
    pub resource: String,
}

/// Demo tools (verifying who called) and a gateway whose façade fronts the local provider.
pub async fn facade_gateway(extra: &[(&str, &str)]) -> Gateway {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let resource = format!("{base}/mcp");
    let tools_port = free_port();
    let tools = spawn(
        env!("CARGO_BIN_EXE_demo-tools"),
        &[
            ("DEMO_TOOLS_BIND", &format!("127.0.0.1:{tools_port}")),
            ("DEMO_GATEWAY_ISSUER", &resource),
            (
                "DEMO_GATEWAY_JWKS_URL",
                &format!("{base}/.well-known/jwks.json"),
            ),
            (
                "DEMO_TOOLS_AUDIENCE",
                &format!("http://127.0.0.1:{tools_port}"),
            ),
        ],
    );
    let dir = std::env::temp_dir().join(format!("e2e-oauth-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let catalog = dir.join("catalog.yaml");
    std::fs::write(&catalog, CATALOG).unwrap();
    register_resource(&resource).await;
    let issuer = required_env("OIDC_ISSUER");
    let bind = format!("127.0.0.1:{port}");
    let mut env = vec![
        ("GATEWAY_BIND", bind.as_str()),
        ("DEMO_TOOLS_URL", tools.base.as_str()),
        ("GATEWAY_RESOURCE_URL", resource.as_str()),
        ("GATEWAY_OIDC_ISSUER", issuer.as_str()),
        ("GATEWAY_CATALOG_FILE", catalog.to_str().unwrap()),
        ("GATEWAY_SCOPES_SUPPORTED", "mcp:tools"),
        ("GATEWAY_FACADE_ISSUER", issuer.as_str()),
        ("GATEWAY_FACADE_CLIENT_ID", RELAY_CLIENT),
    ];
    env.extend_from_slice(extra);
    let gateway = spawn(env!("CARGO_BIN_EXE_mcp-oauth-gateway"), &env);
    Gateway {
        _tools: tools,
        gateway,
        base,
        resource,
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

pub async fn register(base: &str, body: Value) -> (StatusCode, Value) {
    let resp = http()
        .post(format!("{base}/register"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (resp.status(), resp.json().await.unwrap())
}

pub fn query(location: &str) -> std::collections::HashMap<String, String> {
    let url = url::Url::parse(location).unwrap();
    url.query_pairs().into_owned().collect()
}

/// The sealed token of a gateway consent page's form.
pub fn consent_token(html: &str) -> Option<String> {
    let at =
        html.find(r#"name="consent_token" value=""#)? + r#"name="consent_token" value=""#.len();
    let value = &html[at..at + html[at..].find('"')?];
    Some(value.replace("&quot;", "\"").replace("&amp;", "&"))
}

/// One browser at the gateway: keeps the cookies it is given (name -> value, with the
/// whole `Set-Cookie` line for assertions) and sends them back.
#[derive(Default)]
pub struct Browser {
    pub cookies: std::collections::BTreeMap<String, (String, String)>,
}

pub struct Page {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> Option<String> {
        self.headers
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned())
    }
}

impl Browser {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, (v, _))| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn keep(&mut self, resp: reqwest::Response) -> Page {
        for set in resp.headers().get_all("set-cookie") {
            let line = set.to_str().unwrap().to_owned();
            let pair = line.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.trim().is_empty() || line.contains("Max-Age=0") {
                self.cookies.remove(k.trim());
                continue;
            }
            self.cookies
                .insert(k.trim().to_owned(), (v.trim().to_owned(), line.clone()));
        }
        Page {
            status: resp.status(),
            headers: resp.headers().clone(),
            body: resp.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, url: &str) -> Page {
        let mut req = http().get(url);
        if !self.cookies.is_empty() {
            req = req.header("cookie", self.cookie_header());
        }
        let resp = req.send().await.unwrap();
        self.keep(resp).await
    }

    pub async fn post_form(&mut self, url: &str, form: &[(&str, &str)]) -> Page {
        self.post_form_with(url, form, &[]).await
    }

    /// As `post_form`, with extra request headers (`Origin`, `Sec-Fetch-Site`).
    pub async fn post_form_with(
        &mut self,
        url: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        let mut req = http().post(url).form(form);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if !self.cookies.is_empty() {
            req = req.header("cookie", self.cookie_header());
        }
        let resp = req.send().await.unwrap();
        self.keep(resp).await
    }

    /// Opens an `/authorize` URL and, on the consent page, answers `decision`.
    pub async fn authorize(&mut self, base: &str, url: &str, decision: &str) -> Page {
        let page = self.get(url).await;
        let Some(token) = consent_token(&page.body) else {
            return page;
        };
        assert_eq!(page.status, 200, "{}", page.body);
        self.post_form(
            &format!("{base}/authorize"),
            &[("consent_token", &token), ("decision", decision)],
        )
        .await
    }
}

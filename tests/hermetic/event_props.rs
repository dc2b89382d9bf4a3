//! Recorded API Gateway events with mangled fields, as a property test (issue #16): each
//! event of `events/` has fields replaced by other JSON values, deleted or added — headers,
//! the path and query, the request context, cookies, the body and its base64 flag — and
//! goes where the runtime sends it: deserialized, checked by `runtime::lambda_event`,
//! converted by lambda_http, served by the router. An event the runtime cannot read is its
//! refusal (an invocation error, never our code); one it reads gets a 4xx or a 200, never a
//! 5xx and never a panic, which under `panic = "abort"` would end the instance — lambda_http
//! 1.3's conversion panics on a host that is not one, and this found it. A good event right
//! after still answers 200.

use std::sync::OnceLock;

use axum::body::Body;
use http_body_util::BodyExt;
use lambda_http::request::LambdaRequest;
use mcp_oauth_gateway::runtime::lambda_event;
use proptest::prelude::*;
use serde_json::Value;
use tower::ServiceExt;

use crate::support::router;

const EVENTS: [&str; 6] = [
    "bad-request.json",
    "health.json",
    "initialize.json",
    "server-discover.json",
    "tools-call.json",
    "tools-list.json",
];

fn event(file: &str) -> Value {
    let path = format!("{}/events/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn fixture() -> &'static (tokio::runtime::Runtime, router::Gateway) {
    static FIXTURE: OnceLock<(tokio::runtime::Runtime, router::Gateway)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let gw = rt.block_on(router::gateway());
        (rt, gw)
    })
}

/// Every place in `v` a mutation can land: JSON pointers to each member and element.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m.iter().for_each(|(k, c)| {
            let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
            out.push(p.clone());
            pointers(c, p, out);
        }),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, c)| {
            let p = format!("{at}/{i}");
            out.push(p.clone());
            pointers(c, p, out);
        }),
        _ => {}
    }
}

/// Values an event field could wrongly hold: other types, edge numbers, text API Gateway
/// would never send (control bytes, non-ASCII, huge), half-valid JSON-RPC, bad base64.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        Just(Value::from(u64::MAX)),
        ".{0,40}".prop_map(Value::String),
        "[\\x00-\\x1f /%?#:;,=\"]{0,12}".prop_map(Value::String),
        Just(Value::String("é\u{0}\u{202e}".repeat(50))),
        Just(Value::String("a".repeat(70_000))),
        Just(Value::String("%%%not base64!!".into())),
        Just(Value::String("eyJqc29ucnBjIjoiMi4wIn0=".into())),
        Just(Value::String(
            r#"{"jsonrpc":"2.0","id":{},"method":7}"#.into()
        )),
        Just(Value::String("/../mcp//x?y=%zz".into())),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z-]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(prop::sample::Index, Value),
    Delete(prop::sample::Index),
    Add(prop::sample::Index, String, Value),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<prop::sample::Index>(), value()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        2 => any::<prop::sample::Index>().prop_map(Mutation::Delete),
        2 => (any::<prop::sample::Index>(), "[a-zA-Z-]{1,16}|cookies|isBase64Encoded|pathParameters|queryStringParameters", value())
            .prop_map(|(i, k, v)| Mutation::Add(i, k, v)),
    ]
}

fn apply(mut ev: Value, m: &Mutation) -> Value {
    let mut at = Vec::new();
    pointers(&ev, String::new(), &mut at);
    let split = |p: &str| {
        let cut = p.rfind('/').unwrap();
        (
            p[..cut].to_owned(),
            p[cut + 1..].replace("~1", "/").replace("~0", "~"),
        )
    };
    match m {
        Mutation::Replace(i, v) => {
            let p: &String = i.get(&at);
            *ev.pointer_mut(p).unwrap() = v.clone();
        }
        Mutation::Delete(i) => {
            let p: &String = i.get(&at);
            let (parent, key) = split(p);
            match ev.pointer_mut(&parent).unwrap() {
                Value::Object(o) => drop(o.remove(&key)),
                Value::Array(a) => drop(a.remove(key.parse::<usize>().unwrap())),
                _ => unreachable!("a parent holds children"),
            }
        }
        Mutation::Add(i, k, v) => {
            // Into the object the index lands in (or the event itself).
            let mut objects: Vec<&str> = vec![""];
            objects.extend(
                at.iter()
                    .map(String::as_str)
                    .filter(|p| ev.pointer(p).is_some_and(Value::is_object)),
            );
            let target = i.get(&objects).to_owned();
            if let Some(Value::Object(o)) = ev.pointer_mut(target) {
                o.insert(k.clone(), v.clone());
            }
        }
    }
    ev
}

/// The event as the Lambda runtime delivers it: deserialized (`None` when the runtime
/// refuses it, never our code), checked (`mcp_oauth_gateway::runtime::lambda_event`), then
/// either refused 400 — its stand-in must still convert — or converted by lambda_http and
/// served by the router. A panic anywhere fails the property.
async fn through(gw: &router::Gateway, ev: &Value) -> Option<(u16, Vec<u8>)> {
    let mut payload: LambdaRequest = serde_json::from_value(ev.clone()).ok()?;
    if let Err(e) = lambda_event::check(&payload) {
        lambda_event::stand_in(&mut payload);
        assert_eq!(
            lambda_event::check(&payload),
            Ok(()),
            "a stand-in always converts"
        );
        let _converted: lambda_http::Request = payload.into();
        return Some(status_and_body(lambda_event::refusal(&e)).await);
    }
    let req: lambda_http::Request = payload.into();
    let (parts, body) = req.into_parts();
    let req = axum::http::Request::from_parts(parts, Body::from(body.to_vec()));
    Some(status_and_body(gw.app.clone().oneshot(req).await.unwrap()).await)
}

async fn status_and_body(resp: axum::response::Response) -> (u16, Vec<u8>) {
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, bytes.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_mangled_event_never_gets_a_5xx_or_breaks_the_gateway(
        file in prop::sample::select(&EVENTS[..]),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let (rt, gw) = fixture();
        let ev = mutations.iter().fold(event(file), apply);
        if let Some((status, body)) = rt.block_on(through(gw, &ev)) {
            prop_assert!(status < 500, "{file} {mutations:?} -> {status}: {}", String::from_utf8_lossy(&body));
        }
        let after = rt.block_on(through(gw, &event("tools-list.json")));
        prop_assert_eq!(after.map(|a| a.0), Some(200), "a good event after {} {:?}", file, mutations);
    }
}

/// The property above is only worth something if mangled events get past the runtime's
/// reading: of 200 drawn the same way, a fair share must reach the router (about a quarter
/// do; a field of the wrong type makes the rest unreadable), and of those some must still
/// be answered 200 and some refused 4xx.
#[test]
fn most_mangled_events_reach_the_router() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let (rt, gw) = fixture();
    let strategy = (
        prop::sample::select(&EVENTS[..]),
        prop::collection::vec(mutation(), 1..4),
    );
    let mut runner = TestRunner::deterministic();
    let (mut reached, mut ok, mut refused) = (0, 0, 0);
    for _ in 0..200 {
        let (file, mutations) = strategy.new_tree(&mut runner).unwrap().current();
        let ev = mutations.iter().fold(event(file), apply);
        if let Some((status, _)) = rt.block_on(through(gw, &ev)) {
            reached += 1;
            ok += usize::from(status == 200);
            refused += usize::from((400..500).contains(&status));
        }
    }
    // A mangled field of the wrong type makes most events unreadable to the runtime.
    assert!(reached >= 40, "only {reached} of 200 reached the router");
    assert!(
        ok >= 10 && refused >= 10,
        "{ok} answered 200, {refused} refused"
    );
}

/// The events this property found: each used to panic in lambda_http's conversion (with
/// `panic = "abort"`, the end of the instance); each is now refused 400 before it.
#[test]
fn events_that_panicked_lambda_http_are_refused_400() {
    let (rt, gw) = fixture();
    let cases: [(&str, &str, Value); 5] = [
        (
            "a host idna refuses",
            "/headers/host",
            Value::String("a".repeat(70_000)),
        ),
        (
            "a host with a space",
            "/requestContext/domainName",
            Value::String("a b".into()),
        ),
        (
            "a path that makes a port",
            "/rawPath",
            Value::String(":99999".into()),
        ),
        (
            "a query the URI refuses",
            "/rawQueryString",
            Value::String("a=\"b\"".into()),
        ),
        (
            "a body marked base64 that is not",
            "/body",
            Value::String("%%%".into()),
        ),
    ];
    for (what, at, value) in cases {
        let mut ev = event("health.json");
        if at == "/requestContext/domainName" {
            ev["headers"].as_object_mut().unwrap().remove("host");
        }
        if at == "/body" {
            ev["isBase64Encoded"] = Value::Bool(true);
        }
        match ev.pointer_mut(at) {
            Some(v) => *v = value,
            None => {
                let (parent, key) = at.rsplit_once('/').unwrap();
                ev.pointer_mut(parent).unwrap()[key] = value;
            }
        }
        let payload: LambdaRequest = serde_json::from_value(ev.clone()).unwrap();
        assert!(
            lambda_event::check(&payload).is_err(),
            "{what}: passes the check"
        );
        let converted = std::panic::catch_unwind(|| {
            let _: lambda_http::Request = payload.into();
        });
        assert!(
            converted.is_err(),
            "{what}: lambda_http no longer panics on it"
        );
        let (status, body) = rt.block_on(through(gw, &ev)).unwrap();
        assert_eq!(status, 400, "{what}");
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"], "bad_request", "{what}: {v}");
    }
}

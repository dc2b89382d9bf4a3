//! HTTP and Lambda targets failing every way they fail: down, resetting, slow past the
//! tool's time-out, holding the request, a 5xx, an oversized, garbage or cut-off answer, a
//! function error. Each is a tool error with a correlation id only, within the time-out and
//! a margin, recorded with its `targetError`; the next call, the target back, runs.

use std::time::Duration;

use super::{Rig, assert_ok, assert_tool_error, rig};
use crate::support::fault_proxy::{Fault, http_answer};

/// The tools' `timeoutMs` (1.5 s) plus what a loaded CI machine may add.
const BOUND: Duration = Duration::from_millis(4_000);

struct Case {
    what: &'static str,
    fault: Fault,
    target_error: &'static str,
}

fn json_answer(body: &[u8]) -> Fault {
    Fault::Respond(http_answer("200 OK", "application/json", body))
}

/// What both kinds share: nothing there, a reset, slowness, silence.
fn transport_cases() -> Vec<Case> {
    vec![
        Case {
            what: "down",
            fault: Fault::Down,
            target_error: "Unreachable",
        },
        Case {
            what: "resetting",
            fault: Fault::Reset,
            target_error: "Unreachable",
        },
        Case {
            what: "slow",
            fault: Fault::Slow(Duration::from_secs(3)),
            target_error: "Timeout",
        },
        Case {
            what: "silent",
            fault: Fault::Blackhole,
            target_error: "Timeout",
        },
    ]
}

/// Runs `cases` against `tool` behind `proxy`, the target back in between.
async fn run(
    rig: &Rig,
    proxy: &crate::support::fault_proxy::FaultProxy,
    tool: &str,
    cases: Vec<Case>,
) {
    // The first call may start the target (a function under watch starts on its first
    // invocation, past the tools' time-out).
    rig.until(
        Duration::from_secs(60),
        &format!("{tool} answers"),
        || async {
            let a = rig.call(tool).await;
            (a.status == 200 && a.body["result"]["isError"] != true).then_some(a)
        },
    )
    .await;
    for case in cases {
        let before = rig.records().len();
        proxy.set(case.fault.clone());
        let a = rig.call(tool).await;
        assert_tool_error(&a);
        assert!(a.took < BOUND, "{tool} {}: {:?}", case.what, a.took);
        let r = rig.record(before + 1);
        assert_eq!(r["tool"], tool, "{r}");
        assert_eq!(r["decision"], "allow", "{r}");
        assert_eq!(r["targetOutcome"], "error", "{tool} {}: {r}", case.what);
        assert_eq!(
            r["targetError"], case.target_error,
            "{tool} {}: {r}",
            case.what
        );
        assert_eq!(r["username"], "alice", "{r}");

        proxy.set(Fault::Pass);
        let next = rig.call(tool).await;
        assert_ok(&next);
        let r = rig.record(before + 2);
        assert_eq!(r["targetOutcome"], "ok", "after {tool} {}: {r}", case.what);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_target_failing_every_way_is_a_tool_error_and_the_next_call_runs() {
    let rig = rig("faults-http", &[]).await;
    let mut cases = transport_cases();
    cases.extend([
        Case {
            what: "5xx with internals in its body",
            fault: Fault::Respond(http_answer("500 Internal Server Error", "text/plain",
                b"panic at 127.0.0.1:5432 /srv/app/secret.rs")),
            target_error: "Status",
        },
        Case {
            what: "oversized",
            fault: json_answer(format!("{{\"text\":\"{}\"}}", "a".repeat(70_000)).as_bytes()),
            target_error: "TooLarge",
        },
        Case { what: "garbage", fault: json_answer(b"{\"text\": nope"), target_error: "BadResponse" },
        Case {
            what: "closing mid-body",
            fault: Fault::Respond(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"text\":\"cut".to_vec(),
            ),
            target_error: "Unreachable",
        },
    ]);
    run(&rig, &rig.target, "echo", cases).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lambda_target_failing_every_way_is_a_tool_error_and_the_next_call_runs() {
    let rig = rig("faults-lambda", &[]).await;
    let mut cases = transport_cases();
    let invoke = |status: &str, headers: &str, body: &[u8]| {
        let mut v = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\nx-amzn-requestid: r-1\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        v.extend_from_slice(body);
        Fault::Respond(v)
    };
    cases.extend([
        Case {
            what: "the Invoke API failing",
            fault: invoke(
                "500 Internal Server Error",
                "x-amzn-errortype: ServiceException\r\n",
                br#"{"message":"internal at 127.0.0.1"}"#,
            ),
            target_error: "Unreachable",
        },
        Case {
            what: "a function error",
            fault: invoke(
                "200 OK",
                "x-amz-function-error: Unhandled\r\n",
                br#"{"errorMessage":"boom at /var/task","errorType":"Panic"}"#,
            ),
            target_error: "BadResponse",
        },
        Case {
            what: "oversized",
            fault: invoke(
                "200 OK",
                "",
                format!("{{\"text\":\"{}\"}}", "a".repeat(70_000)).as_bytes(),
            ),
            target_error: "TooLarge",
        },
        Case {
            what: "not UTF-8",
            fault: invoke("200 OK", "", b"\xff\xfe\x00garbage"),
            target_error: "BadResponse",
        },
    ]);
    run(&rig, &rig.lambda, "lambda___echo", cases).await;
}

/// An upstream MCP server dying mid-stream (its SSE answer cut after the headers and part
/// of the event) and coming back; down, resetting, slow and silent as the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_mcp_server_dying_mid_stream_is_a_tool_error_and_it_comes_back() {
    let rig = rig("faults-mcp", &[]).await;
    let mut cases = transport_cases();
    cases.push(Case {
        what: "dying mid-stream",
        fault: Fault::CutAfter(300),
        target_error: "Unreachable",
    });
    run(&rig, &rig.upstream, "mcp_echo", cases).await;
}

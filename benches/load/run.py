"""Load runs for `make bench` (scripts/bench.sh starts the services and calls this).

The standalone gateway (release build) in front of (a) the demo tools' HTTP echo and
(b) server-everything (its echo tool and tools/list, federated as everything___*), each
against the same target called directly, interleaved A/B (direct, gateway, direct, gateway…)
at concurrency 1, 8 and 32 with wrk; then the variants (rejected token, policy refresh every
second, JWKS refetch) on their own gateways. Every wrk run is bounded (-d). Gateway CPU per
request comes from /proc/<pid>/stat (utime + stime) read around each run, RSS from VmHWM.

Writes the results as JSON (--out) and prints a Markdown summary.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TICK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the command: state is field 3, utime 14 and stime 15 (1-based).
    return int(fields[11]) + int(fields[12])


def vm(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])  # kB
    return None


def post(url, body, headers, version="2025-06-18"):
    req = urllib.request.Request(url, data=body, method="POST")
    req.add_header("Content-Type", "application/json")
    req.add_header("Accept", "application/json, text/event-stream")
    req.add_header("MCP-Protocol-Version", version)
    for k, v in headers.items():
        req.add_header(k, v)
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, dict(r.headers), r.read().decode()


def everything_session(url, version="2025-06-18"):
    """initialize + notifications/initialized: server-everything needs a session. The
    gateway asks its upstreams for 2025-06-18 (crates/gateway-adapters/src/mcp_upstream), so the direct
    side speaks the same revision unless told otherwise."""
    init = {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": version, "capabilities": {},
                   "clientInfo": {"name": "bench", "version": "0"}},
    }
    _, headers, _ = post(url, json.dumps(init).encode(), {}, version)
    session = {k.lower(): v for k, v in headers.items()}["mcp-session-id"]
    note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    post(url, json.dumps(note).encode(), {"mcp-session-id": session}, version)
    return session


def call(tool, args, rid=1):
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": "tools/call",
                       "params": {"name": tool, "arguments": args}}).encode()


LIST = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}).encode()


def wrk(url, body, conc, secs, auth=None, session=None, pid=None, version="2025-06-18"):
    with tempfile.TemporaryDirectory() as d:
        body_file, out = os.path.join(d, "body"), os.path.join(d, "out.json")
        with open(body_file, "wb") as f:
            f.write(body)
        env = dict(os.environ, BENCH_BODY_FILE=body_file, BENCH_OUT=out,
                   BENCH_AUTH=auth or "", BENCH_SESSION=session or "",
                   BENCH_PROTOCOL=version)
        threads = min(conc, 2)
        # wrk now and then ends without its summary (an empty BENCH_OUT): that run is
        # repeated once, and reported, rather than the whole bench lost.
        for attempt in (1, 2):
            before = cpu_ticks(pid) if pid else None
            run = subprocess.run(
                ["wrk", "-t", str(threads), "-c", str(conc), "-d", f"{secs}s", "--timeout",
                 "5s", "-s", os.path.join(HERE, "post.lua"), url],
                env=env, check=True, capture_output=True, text=True, timeout=secs + 30)
            after = cpu_ticks(pid) if pid else None
            with open(out) as f:
                text = f.read()
            if text.strip():
                break
            print(f"wrk gave no summary (attempt {attempt}): {run.stdout[-500:]!r} "
                  f"{run.stderr[-500:]!r}", file=sys.stderr, flush=True)
            if attempt == 2:
                sys.exit("wrk gave no summary twice")
        r = json.loads(text)
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    if pid:
        r["gateway_cpu_us_per_req"] = (after - before) / TICK * 1e6 / max(r["requests"], 1)
    return r


def check(status, text, want):
    if status != 200 or want not in text:
        sys.exit(f"sanity check failed ({status}): {text[:300]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", required=True, help="http://127.0.0.1:PORT (the main gateway)")
    ap.add_argument("--gateway-pid", type=int, required=True)
    ap.add_argument("--demo", required=True, help="the demo tools' base URL")
    ap.add_argument("--everything", required=True, help="server-everything's /mcp URL")
    ap.add_argument("--token", required=True)
    ap.add_argument("--variant", action="append", default=[],
                    help="NAME=URL=PID: a gateway started for a variant")
    ap.add_argument("--secs", type=int, default=5, help="seconds per wrk run")
    ap.add_argument("--rounds", type=int, default=2, help="A/B rounds per cell")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    auth = f"Bearer {a.token}"
    gw = a.gateway + "/mcp"
    session = everything_session(a.everything)
    echo_args = {"text": "hello from the load bench"}
    # What each side is asked, and what its answer must contain (checked once, up front).
    pairs = {
        "http_echo": (
            (a.demo + "/echo", json.dumps(echo_args).encode(), {}, None),
            (gw, call("echo", echo_args), {"Authorization": auth}, auth),
            "hello from the load bench"),
        "everything_echo": (
            (a.everything, call("echo", {"message": "hello"}), {"mcp-session-id": session}, None),
            (gw, call("everything___echo", {"message": "hello"}), {"Authorization": auth}, auth),
            "Echo: hello"),
        "everything_tools_list": (
            (a.everything, LIST, {"mcp-session-id": session}, None),
            (gw, LIST, {"Authorization": auth}, auth),
            '"echo'),
    }
    for name, (direct, via, want) in pairs.items():
        for url, body, headers, _ in (direct, via):
            status, _, text = post(url, body, headers)
            check(status, text, want)
            if '"isError":true' in text:
                sys.exit(f"{name}: the call failed: {text[:300]}")

    results = {"pairs": {}, "variants": {}, "secs": a.secs, "rounds": a.rounds}
    for conc in (1, 8, 32):
        for name, (direct, via, _) in pairs.items():
            runs = {"direct": [], "gateway": []}
            for _ in range(a.rounds):
                runs["direct"].append(wrk(direct[0], direct[1], conc, a.secs,
                                          session=session if "everything" in name else None))
                runs["gateway"].append(wrk(via[0], via[1], conc, a.secs, auth=via[3],
                                           pid=a.gateway_pid))
            results["pairs"].setdefault(name, {})[str(conc)] = summarize(runs)
            print(f"{name} c={conc}: {json.dumps(results['pairs'][name][str(conc)]['summary'])}",
                  flush=True)

    # server-everything's own cost of the newest revision (2025-11-25: a stored priming event
    # per request, for SSE resumption), for a client that speaks it directly; the gateway
    # asks its upstreams for 2025-06-18.
    newest = "2025-11-25"
    session_new = everything_session(a.everything, newest)
    status, _, text = post(a.everything, call("echo", {"message": "hello"}),
                           {"mcp-session-id": session_new}, newest)
    check(status, text, "Echo: hello")
    results["variants"]["everything_echo_direct_2025_11_25_c1"] = statistics.median(
        (wrk(a.everything, call("echo", {"message": "hello"}), 1, a.secs,
             session=session_new, version=newest)["p50_us"] for _ in range(a.rounds)))
    print("server-everything echo direct, 2025-11-25, c=1, p50 us:",
          results["variants"]["everything_echo_direct_2025_11_25_c1"], flush=True)

    # Rejected token: the signature does not match (last character of the signature changed).
    bad = a.token[:-2] + ("A" if a.token[-2] != "A" else "B") + a.token[-1]
    status = None
    try:
        post(gw, call("echo", echo_args), {"Authorization": f"Bearer {bad}"})
    except urllib.error.HTTPError as e:
        status = e.code
    if status != 401:
        sys.exit(f"a bad token was answered with {status}, not 401")
    results["variants"]["rejected_token_c8"] = wrk(
        gw, call("echo", echo_args), 8, a.secs, auth=f"Bearer {bad}", pid=a.gateway_pid)
    print("rejected token c=8:", json.dumps(results["variants"]["rejected_token_c8"]), flush=True)

    for spec in a.variant:
        name, url, pid = spec.split("=", 2)
        pid = int(pid)
        status, _, text = post(url + "/mcp", call("echo", echo_args), {"Authorization": auth})
        check(status, text, "hello from the load bench")
        r = wrk(url + "/mcp", call("echo", echo_args), 8, 2 * a.secs, auth=auth, pid=pid)
        r["vm_hwm_kb"] = vm(pid, "VmHWM")
        results["variants"][name] = r
        print(f"{name} c=8:", json.dumps(r), flush=True)

    results["gateway_vm_hwm_kb"] = vm(a.gateway_pid, "VmHWM")
    results["gateway_vm_rss_kb"] = vm(a.gateway_pid, "VmRSS")
    with open(a.out, "w") as f:
        json.dump(results, f, indent=2)
    print(f"gateway VmHWM {results['gateway_vm_hwm_kb']} kB", flush=True)


def summarize(runs):
    def med(side, key):
        return statistics.median(r[key] for r in runs[side])

    s = {
        "direct_p50_us": med("direct", "p50_us"), "gateway_p50_us": med("gateway", "p50_us"),
        "direct_p99_us": med("direct", "p99_us"), "gateway_p99_us": med("gateway", "p99_us"),
        "direct_rps": round(med("direct", "rps")), "gateway_rps": round(med("gateway", "rps")),
        "gateway_cpu_us_per_req": round(med("gateway", "gateway_cpu_us_per_req"), 1),
        "errors": sum(sum(r["errors"].values()) for side in runs.values() for r in side),
    }
    s["added_p50_us"] = s["gateway_p50_us"] - s["direct_p50_us"]
    s["added_p99_us"] = s["gateway_p99_us"] - s["direct_p99_us"]
    s["throughput_ratio"] = round(s["gateway_rps"] / s["direct_rps"], 3)
    return {"summary": s, "runs": runs}


if __name__ == "__main__":
    main()

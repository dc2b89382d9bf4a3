"""The soak run (`make soak`; scripts/soak.sh starts moto and the demo tools, then this).

Starts the standalone gateway against a JWKS this script serves (two RSA keys, rotated
mid-run), moto's DynamoDB (policies re-read every second, the deny-list every second) and
the demo tools' echo behind a small delaying TCP proxy (the target slows down for a while).
Drives it with wrk (benches/soak/mix.lua) in slices at a fixed request rate: valid calls,
tools/list, denied calls, bad-signature, expired and missing tokens, oversized bodies.

Per slice: throughput, p50/p99/p99.9, answers by class against what was sent by kind,
wrk's socket errors, the gateway's RSS, open descriptors and threads. At the end: one audit
record per request sent (by count, by unique request id, and each instance's sequence
without a gap), RSS drift, descriptors flat. Any broken invariant fails the run.
"""

import argparse
import asyncio
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64(n):
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Key:
    def __init__(self, kid):
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pub = self.private.public_key().public_numbers()
        self.jwk = {"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
                    "n": b64(pub.n), "e": b64(pub.e)}

    def sign(self, claims, kid=None):
        return jwt.encode(claims, self.private, algorithm="RS256",
                          headers={"kid": kid or self.kid})


class Jwks:
    """The issuer's key set on 127.0.0.1; `publish` swaps it, `fetches` counts reads."""

    def __init__(self):
        self.keys, self.fetches = [], 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.fetches += 1
                body = json.dumps({"keys": [k.jwk for k in outer.keys]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, keys):
        self.keys = list(keys)


class SlowProxy:
    """A TCP proxy to the target that holds each chunk the gateway sends for `delay` s."""

    def __init__(self, upstream_port):
        self.delay, self.upstream = 0.0, upstream_port
        self.loop = asyncio.new_event_loop()
        self.port = free_port()
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait(10)

    def _run(self, ready):
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(
            asyncio.start_server(self._client, "127.0.0.1", self.port))
        ready.set()
        self.loop.run_until_complete(server.serve_forever())

    async def _pipe(self, reader, writer, hold):
        try:
            while chunk := await reader.read(65536):
                if hold and self.delay:
                    await asyncio.sleep(self.delay)
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _client(self, reader, writer):
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self.upstream)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self._pipe(reader, up_w, True), self._pipe(up_r, writer, False))


def proc(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def sample(pid):
    return {"rss_kb": proc(pid, "VmRSS"), "hwm_kb": proc(pid, "VmHWM"),
            "fds": len(os.listdir(f"/proc/{pid}/fd")),
            "threads": len(os.listdir(f"/proc/{pid}/task"))}


def wrk(url, secs, pause_ms, conns, threads, tokens):
    # Requests stop 2 s before wrk's end (whole seconds: Lua only has os.time), so every
    # request sent is answered within the run and counted.
    started = time.time()
    stop_at = int(started) + secs - 2
    env = dict(os.environ, SOAK_STOP_AT=str(stop_at),
               SOAK_PAUSE_MS=str(max(1, round(pause_ms))), **tokens)
    run = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{secs}s", "--timeout", "5s",
         "-s", os.path.join(HERE, "mix.lua"), url],
        capture_output=True, text=True, env=env, timeout=secs + 60)
    for line in run.stdout.splitlines():
        if line.startswith("SOAK_RESULT "):
            r = json.loads(line[len("SOAK_RESULT "):])
            # The rate over the time requests were sent (they stop before wrk's end).
            r["active_s"] = round(stop_at - started, 2)
            return r
    sys.exit(f"wrk gave no result ({run.returncode}): {run.stdout[-800:]} {run.stderr[-800:]}")


# What each kind of request must get back (mix.lua's classes).
EXPECT = {"200-result": ("call", "list"), "200-denied": ("denied",),
          "401": ("bad", "expired", "none"), "413": ("big",)}


def check_slice(r):
    problems = [f"socket errors {r['socket_errors']}"] if any(r["socket_errors"].values()) else []
    got, sent = dict(r["got"]), r["sent"]
    for cls, kinds in EXPECT.items():
        want = sum(sent.get(k, 0) for k in kinds)
        have = got.pop(cls, 0)
        if have != want:
            problems.append(f"{cls}: {have} answers for {want} requests of {'/'.join(kinds)}")
    if got:
        problems.append(f"unexpected answers {got}")
    if sum(sent.values()) != r["requests"]:
        problems.append(f"{sum(sent.values())} sent but {r['requests']} answered")
    return problems


def audit_records(path):
    records = []
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith('{"type":"audit"'):
                r = json.loads(line)
                # The chain's start record comes with the first request, not for one.
                if r.get("kind") != "start":
                    records.append(r)
    return records


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway-bin", required=True)
    ap.add_argument("--gatewayctl", required=True)
    ap.add_argument("--demo-port", type=int, required=True)
    ap.add_argument("--table", required=True)
    ap.add_argument("--secs", type=int, default=60)
    ap.add_argument("--slice", type=int, default=60, help="seconds per reported slice")
    ap.add_argument("--rps", type=int, default=1000)
    ap.add_argument("--conns", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--work", required=True, help="a folder for logs and the catalog")
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-rss-drift-kb", type=int, default=5 * 1024)
    ap.add_argument("--max-fd-growth", type=int, default=4)
    a = ap.parse_args()
    # Stopped with TERM (scripts stop what they start that way), the gateway this starts
    # is stopped too: the `finally` below runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    slices = max(4, a.secs // a.slice)
    slice_secs = max(5, a.secs // slices)

    old, new, stranger = Key("soak-1"), Key("soak-2"), Key("soak-x")
    jwks = Jwks()
    jwks.publish([old])
    proxy = SlowProxy(a.demo_port)
    gw_port = free_port()
    resource = f"http://127.0.0.1:{gw_port}/mcp"

    catalog = os.path.join(a.work, "soak-catalog.yaml")
    with open(catalog, "w") as f:
        f.write(f"""policies:
  - group: engineering
    allow: [echo]
tools:
  - name: echo
    inputSchema: {{type: object, properties: {{text: {{type: string}}}}, required: [text]}}
    target: {{kind: http, url: "http://127.0.0.1:{proxy.port}/echo", timeoutMs: 5000}}
""")
    ctl = [a.gatewayctl, "--table", a.table]
    subprocess.run(ctl + ["table", "create"], check=True, capture_output=True)
    subprocess.run(ctl + ["import", catalog], check=True, capture_output=True)

    stdout_path = os.path.join(a.work, "soak-gateway.out")
    log_path = os.path.join(a.work, "soak-gateway.log")
    env = dict(os.environ, GATEWAY_BIND=f"127.0.0.1:{gw_port}", GATEWAY_OIDC_ISSUER=jwks.url,
               GATEWAY_OIDC_JWKS_URL=f"{jwks.url}/jwks.json", GATEWAY_RESOURCE_URL=resource,
               GATEWAY_POLICY_TABLE=a.table, GATEWAY_POLICY_REFRESH_SECS="1",
               GATEWAY_POLICY_MAX_STALENESS_SECS="10", GATEWAY_METRICS="off",
               GATEWAY_AUDIT_STDOUT="on", RUST_LOG="info")
    out, log = open(stdout_path, "w"), open(log_path, "w")
    gw = subprocess.Popen([a.gateway_bin], env=env, stdout=out, stderr=log)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{gw_port}/health", timeout=1)
                break
            except OSError:
                if gw.poll() is not None:
                    sys.exit(f"the gateway exited: see {log_path}")
                time.sleep(0.1)
        report = run(a, gw, jwks, proxy, (old, new, stranger), resource, slices, slice_secs)
    finally:
        gw.terminate()
        try:
            gw.wait(10)
        except subprocess.TimeoutExpired:
            gw.kill()
        out.close()
        log.close()

    records = audit_records(stdout_path)
    sent = sum(s["requests"] for s in report["slices"])
    ids = {r["requestId"] for r in records}
    by_instance = {}
    for r in records:
        by_instance.setdefault(r["instance"], []).append(r["seq"])
    gaps = [i for i, seqs in by_instance.items() if sorted(seqs) != list(range(min(seqs), min(seqs) + len(seqs)))]
    report["audit"] = {"records": len(records), "requests_sent": sent, "unique_ids": len(ids),
                       "instances": len(by_instance), "sequence_gaps": gaps}
    if len(records) != sent or len(ids) != sent or gaps:
        report["problems"].append(f"audit: {report['audit']}")
    with open(a.out, "w") as f:
        json.dump(report, f, indent=1)
    print_report(report)
    if report["problems"]:
        sys.exit("soak failed:\n  " + "\n  ".join(report["problems"]))


def run(a, gw, jwks, proxy, keys, resource, slices, slice_secs):
    old, new, stranger = keys
    now = int(time.time())
    base = {"iss": jwks.url, "aud": resource, "iat": now, "nbf": now - 5,
            "exp": now + a.secs + 3600, "scope": "mcp:tools", "client_id": "soak"}
    good = dict(base, sub="user-soak", preferred_username="soak", groups=["engineering"])
    nobody = dict(base, sub="user-nobody", preferred_username="nobody", groups=[])
    expired = dict(good, iat=now - 7200, nbf=now - 7200, exp=now - 3600)

    def tokens(key):
        return {"SOAK_TOKEN": key.sign(good), "SOAK_TOKEN_NOBODY": key.sign(nobody),
                "SOAK_TOKEN_EXPIRED": key.sign(expired),
                # Signed by a key the issuer never published, under a published kid.
                "SOAK_TOKEN_BAD": stranger.sign(good, kid=key.kid)}

    # The run's events, by slice: the target slows down (20 ms a request) in the second
    # quarter; at the half the issuer publishes a new key and signs with it at once (an
    # unknown kid: the gateway must refetch); at three quarters the old key is withdrawn.
    slow = range(slices // 4, slices // 2)
    rotate, withdraw = slices // 2, (3 * slices) // 4
    report = {"config": {"secs": slices * slice_secs, "slice_secs": slice_secs, "rps": a.rps,
                         "conns": a.conns}, "slices": [], "problems": []}
    key = old
    pause_ms = a.conns * 1000 / a.rps
    for i in range(slices):
        events = []
        proxy.delay = 0.02 if i in slow else 0.0
        if i in slow:
            events.append("target +20 ms")
        if i == rotate:
            jwks.publish([old, new])
            key = new
            events.append("JWKS rotated")
        if i == withdraw:
            jwks.publish([new])
            events.append("old key withdrawn")
        r = wrk(f"http://127.0.0.1:{gw_port_of(resource)}/mcp", slice_secs, pause_ms, a.conns,
                a.threads, tokens(key))
        time.sleep(0.3)
        if gw.poll() is not None:
            report["problems"].append(f"slice {i}: the gateway exited ({gw.returncode})")
            break
        r.update(sample(gw.pid), slice=i, events=events, pause_ms=round(pause_ms),
                 rps=round(r["requests"] / max(r["active_s"], 0.1), 1))
        # wrk waits for each answer, then the pause: the pause makes room for the latency
        # seen, so the rate holds (not while the target is slowed on purpose).
        if i not in slow and r["rps"] > 0:
            latency_ms = a.conns * 1000 / r["rps"] - pause_ms
            pause_ms = max(1.0, a.conns * 1000 / a.rps - latency_ms)
        for p in check_slice(r):
            report["problems"].append(f"slice {i}: {p}")
        report["slices"].append(r)
        print(f"slice {i}: {r['rps']} req/s p50 {r['p50_us']} µs p99 {r['p99_us']} µs "
              f"rss {r['rss_kb']} kB fds {r['fds']} threads {r['threads']} {events}", flush=True)
    s = report["slices"]
    if len(s) >= 2:
        # Drift after the first slice's warm-up: the allocator and caches fill there.
        drift = s[-1]["rss_kb"] - s[0]["rss_kb"]
        # Descriptors follow the connections pooled to the target, which grow while it is
        # slow and age out later: a leak is growth from the first quarter to the last.
        quarter = max(1, len(s) // 4)
        first, last = [x["fds"] for x in s[:quarter]], [x["fds"] for x in s[-quarter:]]
        growth = max(last) - max(first)
        report["rss_drift_kb"], report["fd_growth"] = drift, growth
        if drift > a.max_rss_drift_kb:
            report["problems"].append(f"RSS grew {drift} kB after the first slice")
        if growth > a.max_fd_growth:
            report["problems"].append(f"open descriptors grew from {max(first)} to {max(last)}")
    report["jwks_fetches"] = jwks.fetches
    return report


def gw_port_of(resource):
    return resource.split(":")[2].split("/")[0]


def print_report(r):
    print("\n| slice | events | req/s | p50 µs | p99 µs | p99.9 µs | answers | RSS kB | fds | threads |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for s in r["slices"]:
        got = ", ".join(f"{k} {v}" for k, v in sorted(s["got"].items()))
        print(f"| {s['slice']} | {'; '.join(s['events'])} | {s['rps']} | {s['p50_us']} | {s['p99_us']} "
              f"| {s['p999_us']} | {got} | {s['rss_kb']} | {s['fds']} | {s['threads']} |")
    print(f"\naudit {r['audit']}; RSS drift {r.get('rss_drift_kb')} kB; descriptor growth "
          f"{r.get('fd_growth')}; JWKS fetches {r['jwks_fetches']}")


if __name__ == "__main__":
    main()

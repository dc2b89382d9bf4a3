"""Cold start for `make bench`: process spawn to the first authorized tools/call answer of the
standalone gateway (release build), N times, with the environment scripts/bench.sh gives it
(JWKS from moto's Cognito, policies and tools from moto's DynamoDB, the demo tools' echo as
the target). Prints and writes (--out) the median and the spread, with the time to the
"listening" line (start-up: configuration, AWS clients, JWKS and policy loads) apart from
the first answer (token verification, policy decision, identity statement, the target call
on a new connection).

With --runtime-api and --invoke-url the same binary runs as a Lambda function under
`cargo lambda watch --only-lambda-apis` (started by scripts/bench.sh): each run spawns it with
the AWS_LAMBDA_* variables watch names, sends the request to watch's function URL at once
(watch holds it until the function asks for its first invocation) and times spawn to answer:
init, the runtime API's next/response round trips and watch's relaying included.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import time
import urllib.error
import urllib.request


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--out", required=True)
    ap.add_argument("--label", default="standalone")
    ap.add_argument("--runtime-api", help="AWS_LAMBDA_RUNTIME_API of cargo lambda watch")
    ap.add_argument("--invoke-url", help="the function URL (…/lambda-url/_/mcp) under watch")
    a = ap.parse_args()
    if bool(a.runtime_api) != bool(a.invoke_url):
        raise SystemExit("--runtime-api and --invoke-url go together")

    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                       "params": {"name": "echo", "arguments": {"text": "cold"}}}).encode()
    listen_ms, answer_ms = [], []
    for _ in range(a.runs):
        port = free_port()
        env = dict(os.environ, GATEWAY_BIND=f"127.0.0.1:{port}", RUST_LOG="warn")
        url = f"http://127.0.0.1:{port}/mcp"
        if a.runtime_api:
            # What `cargo lambda watch --only-lambda-apis` says a function must be given.
            env.update(AWS_LAMBDA_RUNTIME_API=a.runtime_api, AWS_LAMBDA_FUNCTION_NAME="_",
                       AWS_LAMBDA_FUNCTION_VERSION="1", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="4096")
            url = a.invoke_url
        t0 = time.perf_counter()
        p = subprocess.Popen([a.binary], env=env, stderr=subprocess.DEVNULL, text=True,
                             stdout=subprocess.DEVNULL if a.runtime_api else subprocess.PIPE)
        try:
            if a.runtime_api:
                t_listen = None  # no listening line under Lambda: the request waits in watch
            else:
                line = p.stdout.readline()
                t_listen = time.perf_counter()
                if "listening on" not in line:
                    raise SystemExit(f"the gateway did not start: {line!r}")
            req = urllib.request.Request(url, data=body, method="POST")
            req.add_header("Content-Type", "application/json")
            req.add_header("Accept", "application/json, text/event-stream")
            req.add_header("Authorization", f"Bearer {a.token}")
            with urllib.request.urlopen(req, timeout=10) as r:
                text = r.read().decode()
            t_answer = time.perf_counter()
            if r.status != 200 or "cold" not in text or '"isError":true' in text:
                raise SystemExit(f"unexpected first answer ({r.status}): {text[:300]}")
        finally:
            p.terminate()
            p.wait(timeout=10)
        if t_listen is not None:
            listen_ms.append((t_listen - t0) * 1e3)
        answer_ms.append((t_answer - t0) * 1e3)

    res = {
        "label": a.label, "runs": a.runs,
        "spawn_to_listening_ms_median":
            round(statistics.median(listen_ms), 1) if listen_ms else None,
        "spawn_to_answer_ms_median": round(statistics.median(answer_ms), 1),
        "spawn_to_answer_ms_min": round(min(answer_ms), 1),
        "spawn_to_answer_ms_max": round(max(answer_ms), 1),
        "all_answer_ms": [round(x, 1) for x in answer_ms],
    }
    with open(a.out, "w") as f:
        json.dump(res, f, indent=2)
    print(json.dumps({k: v for k, v in res.items() if k != "all_answer_ms"}))


if __name__ == "__main__":
    main()

"""py_upstream.py - an upstream MCP server that answers in JSON, for tests/e2e/federation.rs.

The official Python SDK's MCPServer in stateless mode with JSON responses (the gateway must
read those as well as server-everything's SSE streams), on 127.0.0.1 only, behind a small
ASGI layer that
  * refuses (401) any request without `x-api-key: $PY_UPSTREAM_API_KEY`, so the gateway's
    outbound credentials are exercised;
  * records every JSON-RPC message with the headers the tests care about, served at
    GET /__received (the tests check that no caller token ever arrives, that the signed
    identity statement does, and that a call the gateway gave up on is cancelled);
  * answers `tools/call` of `jsonrpc_error` with a JSON-RPC error, as an upstream that
    fails at the protocol level does.

Usage: python py_upstream.py --port PORT   (prints "listening http://127.0.0.1:PORT")
"""

import argparse
import asyncio
import json
import os
import sys

import uvicorn
from mcp.server.mcpserver import MCPServer

server = MCPServer("py-upstream")
RECEIVED = []
WATCHED_HEADERS = ("authorization", "x-gateway-identity", "x-api-key", "x-request-id",
                   "mcp-protocol-version")


@server.tool()
def shout(text: str) -> str:
    """Returns the text in capitals."""
    return text.upper()


@server.tool()
def boom() -> str:
    """Always fails inside the tool."""
    raise ValueError("the upstream tool failed on purpose")


@server.tool()
async def slow(seconds: float) -> str:
    """Sleeps, then answers."""
    await asyncio.sleep(seconds)
    return "done"


@server.tool()
def jsonrpc_error() -> str:
    """Never runs: the ASGI layer answers for it with a JSON-RPC error."""
    return "unreachable"


def make_app(api_key):
    inner = server.streamable_http_app(json_response=True, stateless_http=True)

    async def send_json(send, status, payload):
        body = json.dumps(payload).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return await inner(scope, receive, send)
        if scope["method"] == "GET" and scope["path"] == "/__received":
            return await send_json(send, 200, RECEIVED)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        if headers.get("x-api-key") != api_key:
            return await send_json(send, 401, {"error": "missing or wrong x-api-key"})
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        try:
            msg = json.loads(body)
        except ValueError:
            msg = {}
        RECEIVED.append({
            "id": msg.get("id"),
            "method": msg.get("method"),
            "params": msg.get("params"),
            "headers": {h: headers[h] for h in WATCHED_HEADERS if h in headers},
        })
        params = msg.get("params") or {}
        if msg.get("method") == "tools/call" and params.get("name") == "jsonrpc_error":
            return await send_json(send, 200, {
                "jsonrpc": "2.0", "id": msg.get("id"),
                "error": {"code": -32603, "message": "upstream internal detail: db=10.9.8.7"},
            })
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await inner(scope, replay, send)

    return app


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    api_key = os.environ.get("PY_UPSTREAM_API_KEY")
    if not api_key:
        sys.exit("PY_UPSTREAM_API_KEY must be set")
    config = uvicorn.Config(make_app(api_key), host="127.0.0.1", port=args.port,
                            log_level="warning", lifespan="on")
    srv = uvicorn.Server(config)

    async def run():
        task = asyncio.create_task(srv.serve())
        while not srv.started:
            await asyncio.sleep(0.05)
        print(f"listening http://127.0.0.1:{args.port}", flush=True)
        await task

    asyncio.run(run())


if __name__ == "__main__":
    main()

"""py_client.py - owns the "real Python MCP client" check of the test suite.

Connects to an MCP endpoint over Streamable HTTP with the official Python SDK
(`mcp.Client` + `streamable_http_client`), lists tools, calls `echo`, and prints
one JSON line on stdout. Any failure: message on stderr, exit 1.

Usage: .venv/bin/python tests/clients/py_client.py <mcp-url> [--header 'Name: value']...
           [--echo-arg text] [--mode auto|legacy|2026-07-28] [--offer 2025-06-18]

--mode is passed to mcp.Client: "auto" (the SDK default) probes `server/discover`
at 2026-07-28 and falls back to the `initialize` handshake; "legacy" only does
`initialize`; "2026-07-28" skips negotiation and speaks that era directly.
--offer (with --mode legacy) makes the SDK offer that handshake revision at `initialize`
instead of its newest (the SDK has no setting for it, so the request body is rewritten on
its way out); the SDK then speaks whatever the server answered.
"""

import argparse
import asyncio
import json
import sys
from importlib.metadata import version

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

ECHO_TEXT = "hello from python"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("--header", action="append", default=[], help="'Name: value', sent on every request")
    p.add_argument("--echo-arg", default="text", help="argument name of the echo tool (default: text)")
    p.add_argument("--mode", default="auto", help="mcp.Client mode: auto (default), legacy, 2026-07-28")
    p.add_argument("--offer", help="protocol revision to offer at initialize (with --mode legacy)")
    args = p.parse_args()
    if args.offer and args.mode != "legacy":
        p.error("--offer needs --mode legacy")
    args.headers = {}
    for h in args.header:
        name, sep, value = h.partition(":")
        if not sep or not name.strip():
            p.error(f"bad --header {h!r}, want 'Name: value'")
        args.headers[name.strip()] = value.strip()
    return args


class Offering(httpx2.AsyncBaseTransport):
    """Rewrites the protocolVersion of `initialize` requests; passes everything else."""

    def __init__(self, offer: str) -> None:
        self.inner = httpx2.AsyncHTTPTransport()
        self.offer = offer

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        body = await request.aread()
        if request.method == "POST" and b'"initialize"' in body:
            msg = json.loads(body)
            if msg.get("method") == "initialize":
                msg["params"]["protocolVersion"] = self.offer
                headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
                request = httpx2.Request(request.method, request.url, headers=headers, content=json.dumps(msg).encode())
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def run(args: argparse.Namespace) -> dict:
    # Same timeouts as the SDK's own default client; headers go on every POST/GET/DELETE.
    timeout = httpx2.Timeout(30.0, read=300.0)
    transport = Offering(args.offer) if args.offer else None
    async with httpx2.AsyncClient(headers=args.headers, timeout=timeout, transport=transport) as http:
        transport = streamable_http_client(args.url, http_client=http)
        async with Client(transport, mode=args.mode) as client:
            tools = [t.name for t in (await client.list_tools()).tools]
            if "echo" not in tools:
                raise RuntimeError(f'tools/list has no "echo": {tools}')

            result = await client.call_tool("echo", {args.echo_arg: ECHO_TEXT})
            text = "\n".join(c.text for c in result.content if c.type == "text")
            if result.is_error:
                raise RuntimeError(f"echo returned isError: {text}")
            if ECHO_TEXT not in text:
                raise RuntimeError(f"echo text {text!r} lacks {ECHO_TEXT!r}")

            return {
                "client": "python-mcp",
                "sdkVersion": version("mcp"),
                "protocolVersion": client.protocol_version,
                "tools": tools,
                "echo": text,
            }


def leaves(e: BaseException) -> list[BaseException]:
    """The real errors inside anyio's (nested) ExceptionGroups."""
    if isinstance(e, BaseExceptionGroup):
        return [leaf for sub in e.exceptions for leaf in leaves(sub)]
    return [e]


def main() -> int:
    args = parse_args()
    try:
        out = asyncio.run(run(args))
    except BaseException as e:  # noqa: BLE001 - any failure is a test failure
        for err in leaves(e):
            print(f"py_client: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

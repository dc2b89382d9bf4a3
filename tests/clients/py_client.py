"""py_client.py - owns the "real Python MCP client" check of the test suite.

Connects to an MCP endpoint over Streamable HTTP with the official Python SDK
(`mcp.Client` + `streamable_http_client`), lists tools, calls `echo`, and prints
one JSON line on stdout. Any failure: message on stderr, exit 1.

Usage: .venv/bin/python tests/clients/py_client.py <mcp-url> [--header 'Name: value']...
           [--echo-arg text] [--mode auto|legacy|2026-07-28]

--mode is passed to mcp.Client: "auto" (the SDK default) probes `server/discover`
at 2026-07-28 and falls back to the `initialize` handshake; "legacy" only does
`initialize`; "2026-07-28" skips negotiation and speaks that era directly.
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
    args = p.parse_args()
    args.headers = {}
    for h in args.header:
        name, sep, value = h.partition(":")
        if not sep or not name.strip():
            p.error(f"bad --header {h!r}, want 'Name: value'")
        args.headers[name.strip()] = value.strip()
    return args


async def run(args: argparse.Namespace) -> dict:
    # Same timeouts as the SDK's own default client; headers go on every POST/GET/DELETE.
    timeout = httpx2.Timeout(30.0, read=300.0)
    async with httpx2.AsyncClient(headers=args.headers, timeout=timeout) as http:
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

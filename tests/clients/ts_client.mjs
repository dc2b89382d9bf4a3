// ts_client.mjs - owns the "real TypeScript MCP client" check of the test suite.
// Connects to an MCP endpoint over Streamable HTTP with the official TS SDK
// (Client + StreamableHTTPClientTransport), lists tools, calls `echo`, and
// prints one JSON line on stdout. Any failure: message on stderr, exit 1.
//
// With --call NAME=JSON (repeatable) it also calls those tools and reports, per tool,
// isError, the content block types, the text and the structured content.
//
// Usage: node tests/clients/ts_client.mjs <mcp-url> [--header 'Name: value']... [--echo-arg text]
//        [--call 'name={"arg": 1}']...
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const ECHO_TEXT = 'hello from ts';

function parseArgs(argv) {
  const opts = { url: undefined, headers: {}, echoArg: 'text', calls: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--header' || a === '--echo-arg' || a === '--call') {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      if (a === '--echo-arg') { opts.echoArg = v; continue; }
      if (a === '--call') {
        const eq = v.indexOf('=');
        if (eq <= 0) throw new Error(`bad --call ${JSON.stringify(v)}, want 'name={...}'`);
        opts.calls.push([v.slice(0, eq), JSON.parse(v.slice(eq + 1))]);
        continue;
      }
      const colon = v.indexOf(':');
      if (colon <= 0) throw new Error(`bad --header ${JSON.stringify(v)}, want 'Name: value'`);
      opts.headers[v.slice(0, colon).trim()] = v.slice(colon + 1).trim();
    } else if (a.startsWith('--')) {
      throw new Error(`unknown option ${a}`);
    } else if (opts.url === undefined) {
      opts.url = a;
    } else {
      throw new Error(`unexpected argument ${a}`);
    }
  }
  if (!opts.url) throw new Error('usage: ts_client.mjs <mcp-url> [--header "Name: value"]... [--echo-arg text]');
  return opts;
}

function sdkVersion() {
  // The package's "exports" hide package.json, so read it from the resolved entry's package root.
  const entry = createRequire(import.meta.url).resolve('@modelcontextprotocol/sdk/client/index.js');
  const root = entry.slice(0, entry.lastIndexOf('/dist/'));
  return JSON.parse(readFileSync(`${root}/package.json`, 'utf8')).version;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const transport = new StreamableHTTPClientTransport(new URL(opts.url), {
    requestInit: { headers: opts.headers },
  });
  const client = new Client({ name: 'mcp-oauth-gateway-ts-client', version: '0.1.0' });
  // Background failures (e.g. the optional GET SSE stream) are reported, not fatal.
  client.onerror = (e) => console.error(`ts_client: transport warning: ${e?.message ?? e}`);
  await client.connect(transport);
  try {
    const tools = (await client.listTools()).tools.map((t) => t.name);
    if (!tools.includes('echo')) throw new Error(`tools/list has no "echo": ${JSON.stringify(tools)}`);

    const result = await client.callTool({ name: 'echo', arguments: { [opts.echoArg]: ECHO_TEXT } });
    const text = (result.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
    if (result.isError) throw new Error(`echo returned isError: ${text}`);
    if (!text.includes(ECHO_TEXT)) throw new Error(`echo text ${JSON.stringify(text)} lacks ${JSON.stringify(ECHO_TEXT)}`);

    const calls = {};
    for (const [name, args] of opts.calls) {
      const r = await client.callTool({ name, arguments: args });
      calls[name] = {
        isError: r.isError === true,
        types: (r.content ?? []).map((c) => c.type),
        text: (r.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n'),
        structured: r.structuredContent ?? null,
      };
    }

    console.log(JSON.stringify({
      client: 'ts-sdk',
      sdkVersion: sdkVersion(),
      protocolVersion: transport.protocolVersion ?? null,
      tools,
      echo: text,
      calls,
    }));
  } finally {
    // Sends DELETE when the server gave an Mcp-Session-Id (405 is accepted); errors here are not the test's concern.
    await transport.terminateSession().catch((e) => console.error(`ts_client: DELETE warning: ${e?.message ?? e}`));
    await client.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`ts_client: ${err?.stack ?? err}`);
    process.exit(1);
  },
);

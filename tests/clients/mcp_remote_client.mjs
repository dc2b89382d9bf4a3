// mcp_remote_client.mjs - owns the "mcp-remote as a stdio bridge" check: the TypeScript SDK
// client talks stdio to `mcp-remote <gateway>/mcp`, which does the OAuth dance itself
// (registration, browser sign-in through $BROWSER = tests/clients/headless_browser.mjs, PKCE,
// token) and bridges to the gateway over Streamable HTTP. Lists tools, calls echo, prints one
// JSON line. mcp-remote keeps its tokens under $MCP_REMOTE_CONFIG_DIR.
//
// Usage: node tests/clients/mcp_remote_client.mjs <mcp-url> [--protocol 2025-06-18]
// --protocol makes the stdio client offer that revision at initialize (the bridge relays the
// handshake, so the gateway and the bridge then speak it); the report says what was agreed.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const [url, flag, protocol] = process.argv.slice(2);
if (!url || (flag !== undefined && (flag !== '--protocol' || !protocol))) {
  throw new Error('usage: mcp_remote_client.mjs <mcp-url> [--protocol <revision>]');
}

async function main() {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['node_modules/mcp-remote/dist/proxy.js', url, '--transport', 'http-only'],
    env: { ...process.env },
    stderr: 'inherit',
  });
  // The SDK has no setting for the revision it offers: the initialize request is rewritten on
  // its way out, and the answer's revision kept for the report.
  let agreed = null;
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    if (protocol && message.method === 'initialize') {
      message = { ...message, params: { ...message.params, protocolVersion: protocol } };
    }
    return send(message, options);
  };
  const client = new Client({ name: 'mcp-remote-bridge-test', version: '0.1.0' });
  const connected = client.connect(transport);
  const onmessage = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if (message.result?.protocolVersion) agreed = message.result.protocolVersion;
    return onmessage?.(message, extra);
  };
  await connected;
  try {
    const tools = (await client.listTools()).tools.map((t) => t.name);
    const r = await client.callTool({ name: 'echo', arguments: { text: 'through mcp-remote' } });
    const text = (r.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
    console.log(JSON.stringify({
      client: 'mcp-remote',
      protocolVersion: agreed,
      server: client.getServerVersion()?.name ?? null,
      tools,
      echo: { isError: r.isError === true, text },
    }));
  } finally {
    await client.close();
  }
}

main().then(() => process.exit(0), (e) => { console.error(`mcp_remote_client: ${e?.stack ?? e}`); process.exit(1); });

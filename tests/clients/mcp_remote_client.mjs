// mcp_remote_client.mjs - owns the "mcp-remote as a stdio bridge" check: the TypeScript SDK
// client talks stdio to `mcp-remote <gateway>/mcp`, which does the OAuth dance itself
// (registration, browser sign-in through $BROWSER = tests/clients/headless_browser.mjs, PKCE,
// token) and bridges to the gateway over Streamable HTTP. Lists tools, calls echo, prints one
// JSON line. mcp-remote keeps its tokens under $MCP_REMOTE_CONFIG_DIR.
//
// Usage: node tests/clients/mcp_remote_client.mjs <mcp-url>
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const url = process.argv[2];
if (!url) throw new Error('usage: mcp_remote_client.mjs <mcp-url>');

async function main() {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['node_modules/mcp-remote/dist/proxy.js', url, '--transport', 'http-only'],
    env: { ...process.env },
    stderr: 'inherit',
  });
  const client = new Client({ name: 'mcp-remote-bridge-test', version: '0.1.0' });
  await client.connect(transport);
  try {
    const tools = (await client.listTools()).tools.map((t) => t.name);
    const r = await client.callTool({ name: 'echo', arguments: { text: 'through mcp-remote' } });
    const text = (r.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
    console.log(JSON.stringify({
      client: 'mcp-remote',
      server: client.getServerVersion()?.name ?? null,
      tools,
      echo: { isError: r.isError === true, text },
    }));
  } finally {
    await client.close();
  }
}

main().then(() => process.exit(0), (e) => { console.error(`mcp_remote_client: ${e?.stack ?? e}`); process.exit(1); });

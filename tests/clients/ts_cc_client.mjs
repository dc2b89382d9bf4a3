// ts_cc_client.mjs - owns the "machine client" check: the TypeScript SDK's
// ClientCredentialsProvider gets its own token (client credentials at the IdP the Protected
// Resource Metadata names, with the resource indicator) when the gateway answers 401, then
// lists tools and calls echo. Prints one JSON line.
//
// Usage: node tests/clients/ts_cc_client.mjs <mcp-url> <issuer> <client-id> <client-secret>
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';

const [url, issuer, clientId, clientSecret] = process.argv.slice(2);
if (!clientSecret) throw new Error('usage: ts_cc_client.mjs <mcp-url> <issuer> <client-id> <client-secret>');

async function main() {
  const provider = new ClientCredentialsProvider({ clientId, clientSecret, expectedIssuer: issuer, scope: 'mcp:tools' });
  const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  const client = new Client({ name: 'mcp-oauth-gateway-ts-cc-client', version: '0.1.0' });
  await client.connect(transport);
  try {
    const tools = (await client.listTools()).tools.map((t) => t.name);
    const r = await client.callTool({ name: 'echo', arguments: { text: 'from a machine' } });
    const text = (r.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
    console.log(JSON.stringify({
      client: 'ts-sdk-client-credentials',
      protocolVersion: transport.protocolVersion ?? null,
      tools,
      echo: { isError: r.isError === true, text },
      tokenType: provider.tokens()?.token_type ?? null,
    }));
  } finally {
    await transport.terminateSession().catch(() => {});
    await client.close();
  }
}

main().then(() => process.exit(0), (e) => { console.error(`ts_cc_client: ${e?.stack ?? e}`); process.exit(1); });

// ts_oauth_client.mjs - owns the "real MCP client signs its user in" check: the official
// TypeScript SDK client with an OAuthClientProvider connects with no token, follows the 401
// to the Protected Resource Metadata and the authorization server's metadata, registers
// (dynamic client registration, or a Client ID Metadata Document with --cimd-url), completes
// authorization code + PKCE headlessly (tests/clients/oauth_browser.mjs signs in at the IdP),
// lists tools and calls them. A call answered 403 insufficient_scope makes the SDK
// re-authorize with the wider scope (step-up); the script finishes that sign-in and retries.
//
// Usage: node tests/clients/ts_oauth_client.mjs <mcp-url> [--login alice] [--cimd-url URL]
//        [--protocol 2025-06-18] [--call 'name={"arg": 1}']...
// --protocol makes the SDK offer that revision at initialize instead of its latest (the SDK
// has no setting for it, so the request body is rewritten on its way out).
// Prints one JSON line: protocolVersion, tools, calls (per tool: isError, text), and what the
// flow did (registrations, sign-ins, the scopes of each authorization, states returned intact,
// the metadata URLs tried with their statuses).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { signIn } from './oauth_browser.mjs';

function parseArgs(argv) {
  const opts = { url: undefined, login: 'alice', cimdUrl: undefined, protocol: undefined, calls: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => { if (argv[i + 1] === undefined) throw new Error(`${a} needs a value`); return argv[++i]; };
    if (a === '--login') opts.login = v();
    else if (a === '--cimd-url') opts.cimdUrl = v();
    else if (a === '--protocol') opts.protocol = v();
    else if (a === '--call') {
      const s = v();
      const eq = s.indexOf('=');
      opts.calls.push([s.slice(0, eq), JSON.parse(s.slice(eq + 1))]);
    } else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else opts.url = a;
  }
  if (!opts.url) throw new Error('usage: ts_oauth_client.mjs <mcp-url> [--login alice] [--cimd-url URL]');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const log = (...a) => console.error('ts_oauth_client:', ...a);
// Nothing listens here: the headless sign-in stops when the browser would land on it.
const REDIRECT = `http://127.0.0.1:${20000 + Math.floor(Math.random() * 20000)}/callback`;

const flow = { registrations: 0, signIns: 0, consents: 0, scopes: [], statesIntact: true, clientIds: [], discovery: [] };
// One browser for every sign-in of this run: the gateway's consent cookie is kept.
const jar = new Map();
let pendingCode;

class HeadlessProvider {
  #client; #tokens; #verifier; #state;
  get redirectUrl() { return REDIRECT; }
  get clientMetadataUrl() { return opts.cimdUrl; }
  get clientMetadata() {
    return {
      client_name: 'mcp-oauth-gateway test client',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state() { this.#state = crypto.randomUUID(); return this.#state; }
  clientInformation() { return this.#client; }
  saveClientInformation(info) {
    if (info.client_id !== this.#client?.client_id) { flow.registrations += 1; flow.clientIds.push(info.client_id); }
    this.#client = info;
  }
  tokens() { return this.#tokens; }
  saveTokens(tokens) { this.#tokens = tokens; flow.scopes.push(tokens.scope ?? null); }
  saveCodeVerifier(v) { this.#verifier = v; }
  codeVerifier() { return this.#verifier; }
  async redirectToAuthorization(url) {
    log(`authorizing at ${url.origin}${url.pathname} with scope ${url.searchParams.get('scope')}`);
    const landed = await signIn(url.href, REDIRECT, opts.login, {
      log, jar, onConsent: () => { flow.consents += 1; },
    });
    flow.signIns += 1;
    if (landed.searchParams.get('state') !== this.#state) flow.statesIntact = false;
    const error = landed.searchParams.get('error');
    if (error) throw new Error(`authorization refused: ${error} ${landed.searchParams.get('error_description')}`);
    pendingCode = landed.searchParams.get('code');
  }
}

// Offers --protocol at initialize; every other request goes out unchanged. The metadata
// documents the SDK looked for are kept (flow.discovery: "<status> <url>").
async function offering(input, init) {
  if (opts.protocol && typeof init?.body === 'string' && init.body.includes('"method":"initialize"')) {
    const msg = JSON.parse(init.body);
    msg.params.protocolVersion = opts.protocol;
    init = { ...init, body: JSON.stringify(msg) };
  }
  const resp = await fetch(input, init);
  const url = String(input instanceof Request ? input.url : input);
  if (url.includes('/.well-known/')) flow.discovery.push(`${resp.status} ${url}`);
  return resp;
}

// Runs `op`; when the SDK stopped for a sign-in, finishes it and runs `op` again.
async function withSignIn(transport, op) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await op();
    } catch (e) {
      if (!(e instanceof UnauthorizedError) || pendingCode === undefined || attempt > 2) throw e;
      const code = pendingCode;
      pendingCode = undefined;
      await transport.finishAuth(code);
    }
  }
}

async function main() {
  const provider = new HeadlessProvider();
  const url = new URL(opts.url);
  let transport;
  let client;
  // The first connect stops at the sign-in; a fresh transport connects with the new token.
  for (let attempt = 0; attempt < 3 && !client; attempt++) {
    transport = new StreamableHTTPClientTransport(url, { authProvider: provider, fetch: offering });
    const c = new Client({ name: 'mcp-oauth-gateway-ts-oauth-client', version: '0.1.0' });
    c.onerror = (e) => log(`transport warning: ${e?.message ?? e}`);
    try {
      await c.connect(transport);
      client = c;
    } catch (e) {
      if (!(e instanceof UnauthorizedError) || pendingCode === undefined) throw e;
      const code = pendingCode;
      pendingCode = undefined;
      await transport.finishAuth(code);
      await c.close().catch(() => {});
    }
  }
  if (!client) throw new Error('could not connect after signing in');
  try {
    const tools = (await withSignIn(transport, () => client.listTools())).tools.map((t) => t.name);
    const calls = {};
    for (const [name, args] of opts.calls) {
      const r = await withSignIn(transport, () => client.callTool({ name, arguments: args }));
      calls[name] = {
        isError: r.isError === true,
        text: (r.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n'),
      };
    }
    console.log(JSON.stringify({
      client: 'ts-sdk-oauth',
      protocolVersion: transport.protocolVersion ?? null,
      tools,
      calls,
      ...flow,
      clientIds: flow.clientIds.map((c) => (c.startsWith('https://') ? c : 'registered')),
    }));
  } finally {
    await transport.terminateSession().catch(() => {});
    await client.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`ts_oauth_client: ${err?.stack ?? err}`);
    process.exit(1);
  },
);

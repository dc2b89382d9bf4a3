// oauth_pkce_check.mjs - owns the "only the client's verifier redeems the code" check of the
// loopback relay, driven by hand (no SDK): registers at the gateway, sends the browser to the
// gateway's /authorize with its own PKCE pair and state, signs in at the IdP headlessly, then
// redeems the code at the gateway's /token with a wrong verifier, none and the right one,
// refreshes the token through the gateway, and redeems the code again. Prints one JSON line
// with what each step answered.
//
// Usage: node tests/clients/oauth_pkce_check.mjs <gateway-origin> <resource> [--login alice]
import { createHash, randomBytes } from 'node:crypto';
import { signIn } from './oauth_browser.mjs';

const [origin, resource] = process.argv.slice(2);
const login = process.argv.includes('--login') ? process.argv[process.argv.indexOf('--login') + 1] : 'alice';
const b64 = (buf) => buf.toString('base64url');
const redirect = `http://127.0.0.1:${40000 + Math.floor(Math.random() * 20000)}/cb`;

async function token(form) {
  const res = await fetch(`${origin}/token`, { method: 'POST', body: new URLSearchParams(form) });
  return { status: res.status, body: await res.json() };
}

async function main() {
  const reg = await fetch(`${origin}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [redirect], client_name: 'pkce check', token_endpoint_auth_method: 'none' }),
  });
  const client = await reg.json();
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${JSON.stringify(client)}`);
  const verifier = b64(randomBytes(32));
  const challenge = b64(createHash('sha256').update(verifier).digest());
  const state = `st-${b64(randomBytes(12))}/with+odd&chars=`;
  const auth = new URL(`${origin}/authorize`);
  for (const [k, v] of Object.entries({
    response_type: 'code', client_id: client.client_id, redirect_uri: redirect, state,
    code_challenge: challenge, code_challenge_method: 'S256', scope: 'mcp:tools offline_access',
    prompt: 'consent', resource,
  })) auth.searchParams.set(k, v);
  const landed = await signIn(auth.href, redirect, login);
  const code = landed.searchParams.get('code');
  if (!code) throw new Error(`no code: ${landed}`);
  const base = { grant_type: 'authorization_code', client_id: client.client_id, redirect_uri: redirect, code, resource };
  const wrong = await token({ ...base, code_verifier: b64(randomBytes(32)) });
  const none = await token({ ...base });
  const right = await token({ ...base, code_verifier: verifier });
  const refreshed = right.body.refresh_token
    ? await token({ grant_type: 'refresh_token', client_id: client.client_id, refresh_token: right.body.refresh_token, resource })
    : { status: null, body: {} };
  // Last: a reused code makes the IdP revoke what it issued for it (RFC 6749 §4.1.2).
  const again = await token({ ...base, code_verifier: verifier });
  console.log(JSON.stringify({
    stateReturned: landed.searchParams.get('state') === state,
    wrongVerifier: { status: wrong.status, error: wrong.body.error ?? null },
    noVerifier: { status: none.status, error: none.body.error ?? null },
    rightVerifier: { status: right.status, tokenType: right.body.token_type ?? null, hasAccessToken: typeof right.body.access_token === 'string' },
    codeReused: { status: again.status, error: again.body.error ?? null },
    refreshed: { status: refreshed.status, hasAccessToken: typeof refreshed.body.access_token === 'string' },
    accessToken: right.body.access_token ?? null,
  }));
}

main().then(() => process.exit(0), (e) => { console.error(`oauth_pkce_check: ${e?.stack ?? e}`); process.exit(1); });

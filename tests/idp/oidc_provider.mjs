#!/usr/bin/env node
// A real OpenID Connect provider (npm `oidc-provider`) for the test suite and `make dev`.
//
//   node tests/idp/oidc_provider.mjs --port P --resource URL [--resource URL2 ...]
//                                    [--opaque-resource URL ...]
//
// Issuer http://127.0.0.1:P (no trailing slash), bound to 127.0.0.1 only. A test gets a JWT
// access token headlessly with the client_credentials grant and a resource indicator:
//
//   curl -s http://127.0.0.1:P/token -d grant_type=client_credentials \
//     -d client_id=client-alice -d client_secret=alice-secret \
//     -d resource=http://127.0.0.1:9000/mcp -d 'scope=mcp:tools mcp:admin'
//
// Access tokens for a configured resource are JWTs (typ at+jwt, RS256, with a kid) whose aud
// is that resource; any other resource is refused (invalid_target). The fixed clients and the
// claims their tokens carry are in CLIENTS below. Tokens for an --opaque-resource are opaque
// (stored by the provider, so its RFC 7662 introspection and RFC 7009 revocation endpoints
// know them; it cannot introspect or revoke its JWTs), with that resource as their aud.
//
// Authorization code + PKCE (the gateway's loopback relay): the public client `mcp-gateway-relay`
// (application_type native, so its redirect URIs http://127.0.0.1/oauth/callback and, for the
// gateway under cargo lambda watch, .../lambda-url/mcp-oauth-gateway/oauth/callback match on any
// port, RFC 8252 §7.3) signs users in through the development login and consent pages (any
// login and password; the login names the account). Access tokens of a signed-in user carry
// that user's claims from USERS below; an unknown login gets no groups.
//
// Test-only side channel on the same port (loopback only, never in production):
//   POST /__admin/rotate       new RS256 signing key with a new kid; the JWKS serves only it
//   POST /__admin/jwks-down    the jwks_uri answers 503 until ...
//   POST /__admin/jwks-up      ... this
//   GET  /__admin/stats        {"jwksHits": N, "kid": "...", "jwksDown": false,
//                               "introspections": N (requests to the introspection endpoint)}
//   POST /__admin/reset-stats  jwksHits back to 0
//   POST /__admin/resources    accept one more resource (form `resource=URL` or JSON
//                              {"resource": "URL"}), for a test whose server URL is known late;
//   GET  /__admin/resources    the accepted resources
//
// Prints `oidc-provider listening on http://127.0.0.1:P` on stdout once ready; everything else
// goes to stderr. Keys are generated at start and live only in memory. SIGTERM/SIGINT stop it.
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { parseArgs } from 'node:util';

import Provider, { errors, interactionPolicy } from 'oidc-provider';

const HOST = '127.0.0.1';
const SCOPES = 'mcp:tools mcp:admin';

// client_id -> { secret, auth method, claims added to every access token it gets }
const CLIENTS = {
  'client-alice': {
    secret: 'alice-secret',
    claims: {
      username: 'alice',
      email: 'alice@example.com',
      groups: ['engineering', 'admins'],
      realm_access: { roles: ['tools-user'] },
    },
  },
  'client-bob': {
    secret: 'bob-secret',
    claims: { username: 'bob', email: 'bob@example.com', groups: ['finance'] },
  },
  'client-nogroups': {
    secret: 'nogroups-secret',
    claims: { username: 'nogroups' },
  },
  // Its tokens carry the granted scopes as an `scp` array and no `scope` claim.
  'client-scp': {
    secret: 'scp-secret',
    claims: { username: 'scp-user', groups: ['engineering'] },
    scpArray: true,
  },
  // The gateway itself, for RFC 7662 introspection of other clients' tokens (HTTP Basic, as
  // the gateway authenticates there).
  'gateway-introspector': {
    secret: 'introspector-secret',
    auth: 'client_secret_basic',
    claims: {},
  },
  // Same claims as alice, but authenticates with HTTP Basic instead of form fields.
  'client-basic': {
    secret: 'basic-secret',
    auth: 'client_secret_basic',
    claims: { username: 'alice', email: 'alice@example.com', groups: ['engineering', 'admins'] },
  },
};

// The gateway's relay client and any other public authorization-code clients.
const PUBLIC_CLIENTS = [
  {
    client_id: 'mcp-gateway-relay',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    // The standalone gateway's callback, and the one under `cargo lambda watch` (make dev).
    redirect_uris: [
      'http://127.0.0.1/oauth/callback',
      'http://127.0.0.1/lambda-url/mcp-oauth-gateway/oauth/callback',
    ],
    scope: `openid offline_access ${SCOPES}`,
  },
];

// account id (the login typed on the login page) -> claims added to that user's access tokens
const USERS = {
  alice: CLIENTS['client-alice'].claims,
  bob: CLIENTS['client-bob'].claims,
};

const log = (...args) => console.error('[oidc-provider]', ...args);

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string' },
    resource: { type: 'string', multiple: true, default: [] },
    'opaque-resource': { type: 'string', multiple: true, default: [] },
  },
});
if (opts.port === undefined || !/^\d+$/.test(opts.port)) {
  console.error('usage: oidc_provider.mjs --port P --resource URL [--resource URL2 ...]');
  process.exit(2);
}
if (opts.resource.length === 0) log('warning: no --resource given, every token request with a resource will be refused');
const resources = new Set(opts.resource.map((r) => new URL(r).href));
const opaqueResources = new Set(opts['opaque-resource'].map((r) => new URL(r).href));

function newSigningKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: `k-${crypto.randomBytes(8).toString('hex')}`, alg: 'RS256', use: 'sig' };
}

let signingKey = newSigningKey();
const cookieKeys = [crypto.randomBytes(32).toString('base64url')];
let jwksDown = false;
let jwksHits = 0;

function buildProvider(issuer) {
  // Like most hosted IdPs, a returning user who consented once is not asked again: the
  // library's default asks native clients every time (native_client_prompt). Without that
  // check a signed-in browser is answered at once, which is what makes a relay without its
  // own consent page a confused deputy (tests/e2e/e2e_oauth/attacks.rs).
  const policy = interactionPolicy.base();
  policy.get('consent').checks.remove('native_client_prompt');
  const provider = new Provider(issuer, {
    interactions: { policy },
    clients: [
      ...Object.entries(CLIENTS).map(([clientId, c]) => ({
        client_id: clientId,
        client_secret: c.secret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: c.auth ?? 'client_secret_post',
        scope: SCOPES,
      })),
      ...PUBLIC_CLIENTS,
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: cookieKeys },
    scopes: ['openid', 'offline_access', ...SCOPES.split(' ')],
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // With a single configured resource, an authorization-code client that names none gets it.
        defaultResource: (_ctx, _client, oneOf) => oneOf ?? (resources.size === 1 ? [...resources][0] : undefined),
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resourceIndicator) => {
          if (opaqueResources.has(resourceIndicator)) {
            return { scope: SCOPES, audience: resourceIndicator, accessTokenFormat: 'opaque', accessTokenTTL: 3600 };
          }
          if (!resources.has(resourceIndicator)) {
            throw new errors.InvalidTarget(`unknown resource ${resourceIndicator}`);
          }
          return {
            scope: SCOPES,
            audience: resourceIndicator,
            accessTokenFormat: 'jwt',
            accessTokenTTL: 3600,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    extraTokenClaims: (_ctx, token) => (token.accountId
      ? { username: token.accountId, ...USERS[token.accountId] }
      : CLIENTS[token.clientId]?.claims),
    formats: {
      customizers: {
        jwt: (_ctx, token, jwt) => {
          if (CLIENTS[token.clientId]?.scpArray) {
            const { scope } = jwt.payload;
            delete jwt.payload.scope;
            jwt.payload.scp = scope ? scope.split(' ') : [];
          }
        },
      },
    },
    ttl: { ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 600 },
  });
  for (const event of ['server_error', 'grant.error', 'authorization.error', 'introspection.error', 'revocation.error']) {
    provider.on(event, (_ctx, err) => log(event, err?.message ?? err, err?.error_description ?? ''));
  }
  return provider;
}

let provider;
let callback;
let issuer;
let jwksPath;
let introspectionPath;
// Requests to the introspection endpoint (GET /__admin/stats), to bound what the gateway asks.
let introspections = 0;

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function admin(req, res, path, body) {
  const post = req.method === 'POST';
  if (post && path === '/__admin/resources') {
    // body: `resource=URL` (form) or {"resource": "URL"} (JSON); adds it to the accepted resources.
    let resource;
    try {
      resource = body.trimStart().startsWith('{')
        ? JSON.parse(body).resource
        : new URLSearchParams(body).get('resource');
      resource = new URL(resource).href;
    } catch {
      return json(res, 400, { error: 'body must carry resource=<absolute URL>' });
    }
    resources.add(resource);
    log(`resource added: ${resource}`);
    return json(res, 200, { resources: [...resources] });
  }
  if (req.method === 'GET' && path === '/__admin/resources') {
    return json(res, 200, { resources: [...resources] });
  }
  if (post && path === '/__admin/rotate') {
    const old = signingKey.kid;
    signingKey = newSigningKey();
    provider = buildProvider(issuer);
    callback = provider.callback();
    log(`rotated signing key ${old} -> ${signingKey.kid}`);
    return json(res, 200, { kid: signingKey.kid, previous: old });
  }
  if (post && path === '/__admin/jwks-down') {
    jwksDown = true;
    return json(res, 200, { jwksDown });
  }
  if (post && path === '/__admin/jwks-up') {
    jwksDown = false;
    return json(res, 200, { jwksDown });
  }
  if (req.method === 'GET' && path === '/__admin/stats') {
    return json(res, 200, { jwksHits, kid: signingKey.kid, jwksDown, introspections });
  }
  if (post && path === '/__admin/reset-stats') {
    jwksHits = 0;
    return json(res, 200, { jwksHits });
  }
  return json(res, 404, { error: 'unknown admin endpoint' });
}

const server = http.createServer((req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  res.on('finish', () => log(req.method, req.url, res.statusCode));
  if (path.startsWith('/__admin/')) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => admin(req, res, path, Buffer.concat(chunks).toString('utf8')));
    return;
  }
  if (!callback) return json(res, 503, { error: 'starting' });
  if (path === introspectionPath) introspections += 1;
  if (path === jwksPath) {
    jwksHits += 1;
    if (jwksDown) return json(res, 503, { error: 'temporarily_unavailable', error_description: 'JWKS down (test switch)' });
  }
  return callback(req, res);
});

server.listen(Number(opts.port), HOST, () => {
  const { port } = server.address();
  issuer = `http://${HOST}:${port}`;
  provider = buildProvider(issuer);
  callback = provider.callback();
  jwksPath = new URL(provider.urlFor('jwks')).pathname;
  introspectionPath = new URL(provider.urlFor('introspection')).pathname;
  log(`issuer ${issuer}, resources: ${[...resources].join(', ') || '(none)'}, kid ${signingKey.kid}`);
  console.log(`oidc-provider listening on ${issuer}`);
});

function shutdown(signal) {
  log(`${signal}: stopping`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

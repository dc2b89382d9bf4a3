// cimd_host.mjs - owns the "client publishes its metadata document" side of the Client ID
// Metadata Document tests: an HTTPS server on 127.0.0.1 (certificate from the test's own CA)
// serving
//   /client.json    a good document: client_id is its own URL, redirect URI http://127.0.0.1/callback
//   /wrong-id.json  a document naming another client_id
//   /big.json       a good document padded past the gateway's 5 KiB limit
//   /secret.json    a document asking for client_secret_basic
//   /missing.json   404
// Prints `cimd host listening on https://127.0.0.1:PORT` once ready.
//
// Usage: node tests/clients/cimd_host.mjs --cert leaf.pem --key leaf.key
import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({ options: { cert: { type: 'string' }, key: { type: 'string' } } });
let origin;
const doc = (path, extra = {}) => ({
  client_id: `${origin}${path}`,
  client_name: 'CIMD test client',
  redirect_uris: ['http://127.0.0.1/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
  ...extra,
});
const docs = {
  '/client.json': () => doc('/client.json'),
  '/wrong-id.json': () => ({ ...doc('/wrong-id.json'), client_id: 'https://other.example/client.json' }),
  '/big.json': () => doc('/big.json', { padding: 'x'.repeat(6000) }),
  '/secret.json': () => doc('/secret.json', { token_endpoint_auth_method: 'client_secret_basic' }),
};
const server = https.createServer({ cert: readFileSync(opts.cert), key: readFileSync(opts.key) }, (req, res) => {
  const make = docs[new URL(req.url, origin).pathname];
  console.error(`[cimd host] ${req.method} ${req.url} ${make ? 200 : 404}`);
  if (!make) { res.writeHead(404); res.end(); return; }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(make()));
});
server.listen(0, '127.0.0.1', () => {
  origin = `https://127.0.0.1:${server.address().port}`;
  console.log(`cimd host listening on ${origin}`);
});
process.on('SIGTERM', () => process.exit(0));

#!/usr/bin/env node
// Prints a JWT's header and payload as JSON; with --jwks URL also checks its RS256 signature
// against the key of the same kid in that JWKS (exit 1 if none matches or it does not verify).
//
//   node tests/idp/decode_jwt.mjs TOKEN [--jwks URL]      (TOKEN `-` reads it from stdin)
//
// Node built-ins only: a debugging aid for the local identity providers, not a validator.
import * as crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ options: { jwks: { type: 'string' } }, allowPositionals: true });
let token = positionals[0];
if (!token) {
  console.error('usage: decode_jwt.mjs TOKEN [--jwks URL]');
  process.exit(2);
}
if (token === '-') token = readFileSync(0, 'utf8');
token = token.trim();

const parts = token.split('.');
if (parts.length !== 3) {
  console.error(`not a JWS compact token (${parts.length} parts)`);
  process.exit(1);
}
const part = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
const header = part(parts[0]);
const payload = part(parts[1]);
const out = { header, payload };

if (values.jwks) {
  const res = await fetch(values.jwks);
  if (!res.ok) {
    console.error(`${values.jwks}: HTTP ${res.status}`);
    process.exit(1);
  }
  const { keys } = await res.json();
  const jwk = keys.find((k) => k.kid === header.kid);
  if (!jwk) {
    console.error(`kid ${header.kid} not in ${values.jwks} (has ${keys.map((k) => k.kid).join(', ')})`);
    process.exit(1);
  }
  if (header.alg !== 'RS256') {
    console.error(`only RS256 is checked here, token has ${header.alg}`);
    process.exit(1);
  }
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  const ok = crypto.verify('RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`), key, Buffer.from(parts[2], 'base64url'));
  out.signature = ok ? 'valid' : 'INVALID';
  out.key = { kid: jwk.kid, kty: jwk.kty, alg: jwk.alg, use: jwk.use, bits: key.asymmetricKeyDetails?.modulusLength };
  if (!ok) {
    console.log(JSON.stringify(out, null, 2));
    process.exit(1);
  }
}
console.log(JSON.stringify(out, null, 2));

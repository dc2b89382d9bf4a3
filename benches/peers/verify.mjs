// The peers side by side: verifies the very tokens that `cargo bench --bench verify` measured
// (written by it to the file MCP_BENCH_TOKENS names) with AWS's own verifier, aws-jwt-verify,
// and with jose, the most used JOSE library for Node.js. CPU time per verification
// (process.cpuUsage, user + system), median of several rounds after a warm-up; one JSON
// object on stdout.
//
//   MCP_BENCH_TOKENS=target/bench/tokens.json cargo bench --bench verify
//   node benches/peers/verify.mjs target/bench/tokens.json
//
// Both verifiers get the JWKS up front (no network): aws-jwt-verify through cacheJwks, jose
// through createLocalJWKSet (key chosen by kid per call, as the gateway does) and, as its
// fastest form, a key imported once.
import { readFileSync } from "node:fs";
import { JwtVerifier } from "aws-jwt-verify";
import { createLocalJWKSet, importJWK, jwtVerify } from "jose";

const file = process.argv[2] ?? process.env.MCP_BENCH_TOKENS;
if (!file) throw new Error("usage: node verify.mjs TOKENS.json (written by the Rust bench)");
const { issuer, audience, jwks, tokens } = JSON.parse(readFileSync(file, "utf8"));
const ROUNDS = Number(process.env.PEER_ROUNDS ?? 7);
const PER_ROUND = Number(process.env.PEER_ITERATIONS ?? 2000);

function cpuMicros() {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function measure(fn) {
  for (let i = 0; i < PER_ROUND; i++) await fn(); // warm-up: JIT, key objects
  const perRound = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = cpuMicros();
    for (let i = 0; i < PER_ROUND; i++) await fn();
    perRound.push((cpuMicros() - start) / PER_ROUND);
  }
  perRound.sort((a, b) => a - b);
  return Number(perRound[Math.floor(perRound.length / 2)].toFixed(2));
}

const algOf = { rs256: "RS256", ps256: "PS256", es256: "ES256", eddsa: "EdDSA" };
// aws-jwt-verify 5 verifies RS*, ES* and EdDSA; it has no PS256.
const awsAlgs = new Set(["RS256", "ES256", "EdDSA"]);

const results = {};
for (const [kid, token] of Object.entries(tokens)) {
  const alg = algOf[kid];
  const row = {};
  if (awsAlgs.has(alg)) {
    const verifier = JwtVerifier.create({ issuer, audience, jwksUri: `${issuer}/jwks` });
    verifier.cacheJwks(jwks);
    verifier.verifySync(token); // throws if it does not verify
    row["aws-jwt-verify"] = await measure(() => verifier.verifySync(token));
  }
  const set = createLocalJWKSet(jwks);
  const opts = { issuer, audience, algorithms: [alg] };
  await jwtVerify(token, set, opts);
  row["jose (local JWKS)"] = await measure(() => jwtVerify(token, set, opts));
  const key = await importJWK(jwks.keys.find((k) => k.kid === kid), alg);
  row["jose (imported key)"] = await measure(() => jwtVerify(token, key, opts));
  results[kid] = row;
}
console.log(JSON.stringify({ node: process.version, unit: "us CPU per verify", results }, null, 2));

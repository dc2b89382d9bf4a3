#!/usr/bin/env node
// confused_deputy.mjs - replays issue #14's first finding against a running gateway façade and
// the local oidc-provider, as the victim's one browser and an attacker would:
//
//   node tests/clients/confused_deputy.mjs <facade base> <resource> <evil loopback callback>
//
// 1. The victim signs in once through a legitimate client (approving it on the gateway's
//    consent page, logging in and consenting at the IdP): the IdP now has a session and the
//    victim's consent for the gateway's one relay client.
// 2. Proof of the precondition: a second sign-in for that client goes through the IdP with no
//    form at all (the IdP answers at once), so a relay without its own consent would hand
//    any registered client a code.
// 3. The attacker registers clients whose redirect URIs are its own (https://evil.example/cb
//    and a loopback listener standing for a local attacker) and sends the victim the
//    /authorize link with its own PKCE challenge. The victim's browser follows it.
// 4. The attacker tries to submit the consent form for the victim: with no cookie (a
//    cross-site POST carries no SameSite cookie) and with a token from its own browser.
// 5. The attacker approves its own client in its own browser and sends the victim the IdP
//    link the gateway gave it (the relay state inside): the IdP answers the victim's browser
//    at once, but the callback needs the flow cookie of the browser that approved.
// Prints one JSON report; the Rust test (tests/e2e/e2e_oauth/attacks.rs) asserts on it.
import { createHash, randomBytes } from 'node:crypto';
import { signIn } from './oauth_browser.mjs';

const [base, resource, evilLoopback] = process.argv.slice(2);
const b64 = (b) => b.toString('base64url');

async function register(redirect, name) {
  const r = await fetch(`${base}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [redirect], client_name: name }),
  });
  const body = await r.json();
  if (r.status !== 201) throw new Error(`register: ${r.status} ${JSON.stringify(body)}`);
  return body.client_id;
}

function authorizeUrl(clientId, redirect) {
  const verifier = b64(randomBytes(32));
  const u = new URL(`${base}/authorize`);
  for (const [k, v] of Object.entries({
    response_type: 'code', client_id: clientId, redirect_uri: redirect, state: b64(randomBytes(8)),
    code_challenge: b64(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256', scope: 'mcp:tools', resource,
  })) u.searchParams.set(k, v);
  return u.href;
}

// Where a sign-in stopped (oauth_browser.mjs throws "sign-in stopped at METHOD URL: HTTP N").
function stopped(e) {
  const m = String(e?.message ?? e).match(/^sign-in stopped at (GET|POST) (\S+): HTTP (\d+)/);
  if (!m) throw e;
  return { stoppedAt: `${m[1]} ${new URL(m[2]).pathname}`, status: Number(m[3]) };
}

function cookieHeader(jar, host) {
  const c = jar.get(host);
  return c && c.size ? [...c].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
}

async function main() {
  const victim = new Map();
  const gatewayHost = new URL(base).host;
  const legitRedirect = `http://127.0.0.1:${30000 + Math.floor(Math.random() * 9000)}/callback`;
  const legit = await register(legitRedirect, 'Legitimate assistant');

  // 1. First sign-in: gateway consent approved, IdP login and consent.
  let consents = 0;
  const first = await signIn(authorizeUrl(legit, legitRedirect), legitRedirect, 'alice', {
    jar: victim, onConsent: () => { consents += 1; },
  });
  // 2. Second sign-in in the same browser: no form anywhere on the way.
  let forms = 0;
  const secondPath = [];
  const second = await signIn(authorizeUrl(legit, legitRedirect), legitRedirect, 'alice', {
    jar: victim,
    log: (line) => { secondPath.push(line); if (/^POST /.test(line)) forms += 1; },
    onConsent: () => { consents += 1; },
  });

  // 3. The attacker's links, opened in the victim's browser.
  const evil = await register('https://evil.example/cb', 'Legitimate assistant');
  const evilResult = await signIn(authorizeUrl(evil, 'https://evil.example/cb'), 'https://evil.example/cb',
    'alice', { jar: victim, consent: 'stop' });
  const local = await register(evilLoopback, 'Legitimate assistant');
  const localResult = await signIn(authorizeUrl(local, evilLoopback), null, 'alice',
    { jar: victim, consent: 'stop' });

  // 4. Forged consent answers. The attacker's own consent page gives it a token bound to
  // the attacker's CSRF cookie.
  const attackerJar = new Map();
  const own = await signIn(authorizeUrl(evil, 'https://evil.example/cb'), 'https://evil.example/cb',
    'mallory', { jar: attackerJar, consent: 'stop' });
  const token = own.html.match(/name="consent_token" value="([^"]*)"/)[1].replace(/&amp;/g, '&');
  const post = async (cookie) => {
    const headers = { 'content-type': 'application/x-www-form-urlencoded' };
    if (cookie) headers.cookie = cookie;
    const r = await fetch(`${base}/authorize`, {
      method: 'POST', headers, redirect: 'manual',
      body: new URLSearchParams({ consent_token: token, decision: 'approve' }).toString(),
    });
    return { status: r.status, location: r.headers.get('location') };
  };
  const crossSite = await post(undefined);
  const withVictimCookies = await post(cookieHeader(victim, gatewayHost));

  // 5. The attacker approves its own client in its own browser and forwards the IdP link the
  // gateway sent it to (relay state included); the victim's IdP session answers at once.
  const page = await fetch(authorizeUrl(evil, 'https://evil.example/cb'), { redirect: 'manual' });
  const csrf = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const ownToken = (await page.text()).match(/name="consent_token" value="([^"]*)"/)[1].replace(/&amp;/g, '&');
  const approved = await fetch(`${base}/authorize`, {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrf },
    body: new URLSearchParams({ consent_token: ownToken, decision: 'approve' }).toString(),
  });
  const idpLink = approved.headers.get('location');
  const forwarded = await signIn(idpLink, 'https://evil.example/cb', 'alice', { jar: victim })
    .catch(stopped);

  // The victim denies the attacker's client: nothing is sent to evil.example.
  const denied = await signIn(authorizeUrl(evil, 'https://evil.example/cb'), 'https://evil.example/cb',
    'alice', { jar: victim, consent: 'deny' }).catch(stopped);

  const landedOn = (r) => (r instanceof URL ? `${r.origin}${r.pathname}` : null);
  console.log(JSON.stringify({
    firstLanded: landedOn(first), firstHasCode: first instanceof URL && first.searchParams.has('code'),
    secondLanded: landedOn(second), secondHasCode: second instanceof URL && second.searchParams.has('code'),
    formsOnSecondSignIn: forms, secondPath, consentPagesForLegit: consents,
    evil: { landed: landedOn(evilResult), consentPage: evilResult.consentPage ? true : false,
      frameOptions: evilResult.headers?.['x-frame-options'] ?? null,
      csp: evilResult.headers?.['content-security-policy'] ?? null,
      namesEvil: /another website, evil\.example/.test(evilResult.html ?? '') },
    local: { landed: landedOn(localResult), consentPage: localResult.consentPage ? true : false,
      saysThisComputer: /this computer/.test(localResult.html ?? '') },
    forgedCrossSite: crossSite, forgedWithVictimCookies: withVictimCookies,
    denied: denied instanceof URL ? { landed: landedOn(denied) } : denied,
    attackerApproved: approved.status,
    forwardedIdpLink: forwarded instanceof URL ? { landed: landedOn(forwarded) } : forwarded,
  }));
}

main().then(() => process.exit(0), (e) => { console.error(`confused_deputy: ${e?.stack ?? e}`); process.exit(1); });

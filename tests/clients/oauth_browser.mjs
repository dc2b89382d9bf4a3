// oauth_browser.mjs - owns the "user in a browser" part of the OAuth tests: follows an
// authorization URL headlessly (redirects, cookies per host, the gateway's consent page, the
// local oidc-provider's login and consent forms) until the browser would land on the
// client's redirect URI, and returns that URL. Nothing is listening there: the test reads
// the code and state from it.
//
//   import { signIn } from './oauth_browser.mjs';
//   const landed = await signIn(authorizationUrl, 'http://127.0.0.1:5555/callback', 'alice');
//   landed.searchParams.get('code'), landed.searchParams.get('state')
//
// Options: `consent` says what the user does on the gateway's consent page: 'approve'
// (default), 'deny', or 'stop' (signIn then returns { consentPage: URL, html, headers });
// `jar` is the browser's cookie store (a Map host -> Map name -> value), kept across calls to
// stand for one browser; `onConsent(url, html)` is called for every consent page seen.

function formOf(html) {
  const form = html.match(/<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i);
  if (!form) return undefined;
  const fields = {};
  for (const input of form[2].matchAll(/<input[^>]*>/gi)) {
    const name = input[0].match(/name="([^"]*)"/)?.[1];
    const value = input[0].match(/value="([^"]*)"/)?.[1] ?? '';
    if (name) fields[name] = value.replace(/&amp;/g, '&').replace(/&quot;/g, '"');
  }
  return { action: form[1].replace(/&amp;/g, '&'), fields };
}

// With `redirectUri` null the browser goes all the way: the client's own callback page is
// loaded too (a client such as mcp-remote listens there), and its URL is returned.
export async function signIn(startUrl, redirectUri, login,
  { log = () => {}, consent = 'approve', jar = new Map(), onConsent = () => {} } = {}) {
  const landing = redirectUri ? new URL(redirectUri) : undefined;
  let url = startUrl;
  let method = 'GET';
  let body;
  const visited = [];
  for (let step = 0; step < 25; step++) {
    const u = new URL(url);
    if (landing && u.origin === landing.origin && u.pathname === landing.pathname) return u;
    visited.push(`${method} ${u.origin}${u.pathname}`);
    const cookies = jar.get(u.host) ?? new Map();
    jar.set(u.host, cookies);
    const headers = {};
    if (cookies.size) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(url, { method, body, headers, redirect: 'manual' });
    for (const set of res.headers.getSetCookie()) {
      const [pair, ...attrs] = set.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const gone = !value || attrs.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (gone) cookies.delete(name); else cookies.set(name, value);
    }
    log(`${method} ${u.pathname} -> ${res.status}`);
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location'), url).href;
      method = 'GET';
      body = undefined;
      continue;
    }
    const text = await res.text();
    const form = res.status === 200 ? formOf(text) : undefined;
    if (!landing && res.status === 200 && !form) return u;
    if (!form) throw new Error(`sign-in stopped at ${method} ${url}: HTTP ${res.status} ${text.slice(0, 400)} (path: ${visited.join(' | ')})`);
    const fields = { ...form.fields };
    if (/data-gateway-consent/.test(text)) {
      onConsent(u, text);
      log(`gateway consent page: ${consent}`);
      if (consent === 'stop') {
        return { consentPage: u, html: text, headers: Object.fromEntries(res.headers) };
      }
      fields.decision = consent;
    }
    if ('login' in fields || fields.prompt === 'login') {
      fields.login = login;
      fields.password = 'any-password';
    }
    url = new URL(form.action, url).href;
    method = 'POST';
    body = new URLSearchParams(fields).toString();
  }
  throw new Error(`sign-in did not reach ${redirectUri}: ${visited.join(' | ')}`);
}

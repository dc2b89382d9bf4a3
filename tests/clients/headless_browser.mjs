#!/usr/bin/env node
// headless_browser.mjs - owns "the user's browser" for clients that open one themselves
// (mcp-remote): set BROWSER to this file and the client's `open <url>` lands here. It signs
// in at the IdP as $HEADLESS_LOGIN (default alice) through tests/clients/oauth_browser.mjs and
// loads the client's callback page, as a browser would. Exits 0 when done, 1 on failure; a
// log of each step is appended to $HEADLESS_BROWSER_LOG when set.
import { appendFileSync } from 'node:fs';
import { signIn } from './oauth_browser.mjs';

const logFile = process.env.HEADLESS_BROWSER_LOG;
const log = (line) => { if (logFile) appendFileSync(logFile, `${line}\n`); };
const url = process.argv[2];
signIn(url, null, process.env.HEADLESS_LOGIN ?? 'alice', { log }).then(
  (landed) => { log(`landed ${landed.origin}${landed.pathname}`); process.exit(0); },
  (e) => { log(`failed: ${e?.stack ?? e}`); process.exit(1); },
);

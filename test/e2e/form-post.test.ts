/**
 * `response_mode=form_post` in real Chromium with the OP's CSP on: the page oidc-provider renders
 * with the code carries no `unsafe-inline`, only the SHA-256 of its auto-submit script, and the
 * browser still runs that script and posts the code to the RP's own callback server on loopback,
 * which redeems it with openid-client. No header is set by the test; the browser's console must
 * report no CSP violation.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import type { Browser } from 'playwright-core';
import type { OpServer } from '../../functions/op/local-server.js';
import type { CardIdentity } from '../../reader-helper/virtual-card/identity.js';
import { useLocalTables } from '../storage/local-table.js';
import {
  launchChromium,
  signInWithHelperWindow,
  startVirtualHelper,
  type VirtualHelper,
} from '../support/browser.js';
import { aliceCard } from '../support/card.js';
import { authorizationRequest, relyingParty } from '../support/oidc-flow.js';
import { startTestOp, TEST_CLIENTS } from '../support/op-stack.js';

/** A POST the RP's callback received. */
interface Callback {
  readonly headers: IncomingHttpHeaders;
  readonly fields: URLSearchParams;
}

const newTable = useLocalTables();
let identity: CardIdentity;
let helper: VirtualHelper;
let op: OpServer;
let browser: Browser;
let rpSite: { server: Server; url: string; callbacks: Callback[] };
let rp: client.Configuration;
const FORM_POST_RP = {
  client_id: 'rp-form-post',
  client_secret: 'rp-form-post-secret-0123456789abcdef012',
  client_name: 'Form Post RP',
  myna_first_party: true,
};

/** The RP's site on loopback: its callback takes the form_post POST and records it. */
async function startRpSite(): Promise<{ server: Server; url: string; callbacks: Callback[] }> {
  const callbacks: Callback[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method === 'POST') {
        callbacks.push({
          headers: request.headers,
          fields: new URLSearchParams(Buffer.concat(chunks).toString('utf8')),
        });
      }
      response.setHeader('content-type', 'text/html; charset=utf-8');
      response.end('<h1>Signed in at the RP</h1>');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, callbacks };
}

beforeAll(async () => {
  identity = (await aliceCard()).identity;
  helper = await startVirtualHelper({ identity });
  rpSite = await startRpSite();
  op = await startTestOp({
    table: await newTable(),
    helperPort: helper.port,
    clients: [...Object.values(TEST_CLIENTS), { ...FORM_POST_RP, redirect_uris: [`${rpSite.url}/cb`] }],
  });
  rp = await relyingParty({
    issuer: op.url,
    clientId: FORM_POST_RP.client_id,
    clientSecret: FORM_POST_RP.client_secret,
  });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await op?.close();
  await new Promise((resolve) => rpSite?.server.close(resolve));
  await helper?.close();
});

describe('form_post in Chromium with the CSP on', () => {
  it("the page's hashed script posts the code to the RP, which redeems it", async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    const console: string[] = [];
    page.on('console', (message) => console.push(message.text()));
    const formPostPages: { csp: string | undefined }[] = [];
    page.on('response', (response) => {
      if (new URL(response.url()).pathname.startsWith('/auth/')) {
        formPostPages.push({ csp: response.headers()['content-security-policy'] });
      }
    });
    const redirectUri = `${rpSite.url}/cb`;
    const { url, checks } = await authorizationRequest(rp, redirectUri, { response_mode: 'form_post' });
    await page.goto(url.href);
    await signInWithHelperWindow(page, helper.person, identity.userAuthPin);
    await page.waitForURL(redirectUri, { timeout: 20_000 });
    await expect(page.locator('h1').textContent()).resolves.toBe('Signed in at the RP');

    // The form_post page was served under a CSP that admits its script by hash only.
    expect(formPostPages).toHaveLength(1);
    const csp = formPostPages[0]?.csp ?? '';
    expect(csp).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(console.filter((text) => /Content Security Policy/i.test(text))).toEqual([]);

    // The browser posted the code (Origin: null under the pages' same-origin referrer policy).
    expect(rpSite.callbacks).toHaveLength(1);
    const callback = rpSite.callbacks[0] as Callback;
    expect(callback.headers.origin).toBe('null');
    expect(callback.headers.referer).toBeUndefined();
    const posted = new Request(redirectUri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: callback.fields.toString(),
    });
    const tokens = await client.authorizationCodeGrant(rp, posted, { ...checks, idTokenExpected: true });
    expect(tokens.claims()?.aud).toBe(FORM_POST_RP.client_id);
    await context.close();
  }, 60_000);
});

/**
 * Consent of a third-party client in real Chromium and real Firefox, with the OP's CSRF protection
 * on: the login page's script talks to a reader-helper with a virtual card, the person types the
 * PIN into the helper's own window (zenity on Xvfb), the consent page's buttons are clicked, and
 * the relying party (openid-client) redeems the code or sees `access_denied`. No test sets a header a browser sets. A form posted by another site in the same
 * browser is refused.
 * The last test compares the headers the scripted TestBrowser sends (the OP tests use it) with
 * the ones Chromium sent for the same flow, so the two cannot drift apart.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import type { Page as FirefoxPage } from 'puppeteer-core';
import { createOpApp } from '../../functions/op/app.js';
import type { CardIdentity } from '../../reader-helper/virtual-card/identity.js';
import { useLocalTables } from '../storage/local-table.js';
import {
  launchChromium,
  launchFirefox,
  signInWithHelperWindow,
  startVirtualHelper,
  type VirtualHelper,
} from '../support/browser.js';
import { aliceCard } from '../support/card.js';
import {
  type AuthorizationChecks,
  authorizationRequest,
  relyingParty,
  signIn,
  TestBrowser,
  VirtualCardSigner,
} from '../support/oidc-flow.js';
import { TEST_CLIENTS, testOpConfig } from '../support/op-stack.js';

const newTable = useLocalTables();
const THIRD = TEST_CLIENTS.thirdParty;
const REDIRECT_URI = THIRD.redirect_uris[0] as string;
let identity: CardIdentity;
let helper: VirtualHelper;
let op: { url: string; server: Server };
let browser: Browser;
let rp: client.Configuration;
/** The RP's own callback server on loopback (Firefox navigates there for real). */
let rpSite: { server: Server; url: string; callbacks: URL[] };
let loopbackRp: client.Configuration;
const LOOPBACK = {
  client_id: 'rp-loopback',
  client_secret: 'rp-loopback-secret-0123456789abcdef0123',
  client_name: 'Loopback RP',
};
const loopbackRedirect = () => `${rpSite.url}/cb`;

beforeAll(async () => {
  identity = (await aliceCard()).identity;
  helper = await startVirtualHelper({ identity });
  rpSite = await startRpSite();
  op = await startRecordingOp();
  rp = await relyingParty({ issuer: op.url, clientId: THIRD.client_id, clientSecret: THIRD.client_secret });
  loopbackRp = await relyingParty({
    issuer: op.url,
    clientId: LOOPBACK.client_id,
    clientSecret: LOOPBACK.client_secret,
  });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => op?.server.close(resolve));
  await new Promise((resolve) => rpSite?.server.close(resolve));
  await helper?.close();
});

/** A request that reached the OP, with every header it carried (cookies included). */
interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}

/** Every request the OP received, in order (the browsers' headers as they arrived). */
let received: SeenRequest[] = [];

/** The test OP on a server that records each request before the OP answers it. */
async function startRecordingOp(): Promise<{ url: string; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const app = await createOpApp(
    await testOpConfig(url, {
      table: await newTable(),
      helperPort: helper.port,
      clients: [...Object.values(TEST_CLIENTS), { ...LOOPBACK, redirect_uris: [loopbackRedirect()] }],
    }),
  );
  server.on('request', (request, response) => {
    received.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers });
    app.listener(request, response);
  });
  return { url, server };
}

/** An RP's site on loopback that records the callbacks it gets. */
async function startRpSite(): Promise<{ server: Server; url: string; callbacks: URL[] }> {
  const callbacks: URL[] = [];
  const server = createServer((request, response) => {
    callbacks.push(new URL(request.url ?? '/', `http://${request.headers.host}`));
    response.setHeader('content-type', 'text/html; charset=utf-8');
    response.end('<h1>Loopback RP</h1>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, callbacks };
}

/** A consent page reached in Chromium by signing in with the card; the RP's callbacks recorded. */
interface AtConsent {
  readonly page: Page;
  readonly callbacks: URL[];
  readonly checks: AuthorizationChecks;
}

async function signInToConsent(): Promise<AtConsent> {
  const context = await browser.newContext({ locale: 'en-US' });
  const callbacks: URL[] = [];
  const page = await context.newPage();
  // The RP's redirect URI: the browser really navigates there; the page is answered here.
  await page.route(`${new URL(REDIRECT_URI).origin}/**`, (route) => {
    callbacks.push(new URL(route.request().url()));
    return route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>RP</h1>' });
  });
  const { url, checks } = await authorizationRequest(rp, REDIRECT_URI);
  await page.goto(url.href);
  await signInWithHelperWindow(page, helper.person, identity.userAuthPin);
  await page.getByRole('button', { name: 'Allow', exact: true }).waitFor({ timeout: 20_000 });
  return { page, callbacks, checks };
}

async function landAtRp(page: Page): Promise<URL> {
  await page.waitForURL((url) => url.href.startsWith(REDIRECT_URI), { timeout: 20_000 });
  return new URL(page.url());
}

/**
 * A page of another site (127.0.0.2: another site than the OP's 127.0.0.1) with a form posting
 * to `action`.
 */
async function attackerSite(action: string): Promise<{ url: string; server: Server }> {
  const server = createServer((_request, response) => {
    response.setHeader('content-type', 'text/html; charset=utf-8');
    response.end(
      `<form method="post" action="${action}"><button id="prize">Claim your prize</button></form>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  return { url: `http://127.0.0.2:${(server.address() as AddressInfo).port}/`, server };
}

describe('third-party consent in Chromium', () => {
  it('allow: the RP gets a code and redeems it', async () => {
    const { page, checks } = await signInToConsent();
    expect(await page.locator('main').textContent()).toContain('Third <Party>');
    await page.getByRole('button', { name: 'Allow', exact: true }).click();
    const callback = await landAtRp(page);
    const tokens = await client.authorizationCodeGrant(rp, callback, { ...checks, idTokenExpected: true });
    expect(tokens.claims()?.aud).toBe(THIRD.client_id);
    await page.context().close();
  }, 60_000);

  it('deny: the RP gets access_denied', async () => {
    const { page, checks } = await signInToConsent();
    await page.getByRole('button', { name: 'Do not allow', exact: true }).click();
    const callback = await landAtRp(page);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    await expect(client.authorizationCodeGrant(rp, callback, checks)).rejects.toMatchObject({
      error: 'access_denied',
    });
    await page.context().close();
  }, 60_000);

  it('refuses the consent form posted by another site; the real one still works', async () => {
    const { page, callbacks, checks } = await signInToConsent();
    const attacker = await attackerSite(`${new URL(page.url()).href}/confirm`);
    try {
      const lure = await page.context().newPage();
      await lure.goto(attacker.url);
      const [answer] = await Promise.all([
        lure.waitForResponse((response) => response.url().endsWith('/confirm')),
        lure.getByRole('button', { name: 'Claim your prize' }).click(),
      ]);
      expect(answer.status()).toBe(403);
      expect(await answer.text()).toContain('CROSS_ORIGIN_REQUEST');
      expect(callbacks).toEqual([]);
      await lure.close();
      await page.getByRole('button', { name: 'Allow', exact: true }).click();
      const callback = await landAtRp(page);
      await client.authorizationCodeGrant(rp, callback, { ...checks, idTokenExpected: true });
    } finally {
      attacker.server.close();
      await page.context().close();
    }
  }, 60_000);
});

describe('third-party consent in Firefox', () => {
  let firefox: Awaited<ReturnType<typeof launchFirefox>>;
  beforeAll(async () => {
    firefox = await launchFirefox();
  }, 60_000);
  afterAll(async () => {
    await firefox?.close();
  });

  /** Signs in with the card in a fresh Firefox context and stops on the consent page. */
  async function toConsent() {
    const context = await firefox.browser.createBrowserContext();
    const page = await context.newPage();
    const { url, checks } = await authorizationRequest(loopbackRp, loopbackRedirect());
    await page.goto(url.href);
    await page.waitForSelector('#start', { visible: true, timeout: 20_000 });
    await page.click('#start');
    await helper.person.enterPin(identity.userAuthPin);
    await page.waitForSelector('form[action$="/confirm"] button', { visible: true, timeout: 20_000 });
    return { context, page, checks };
  }

  /** Clicks `selector` on the consent page and returns the callback the RP's site got. */
  async function answer(page: FirefoxPage, selector: string): Promise<URL> {
    const before = rpSite.callbacks.length;
    await Promise.all([page.waitForNavigation({ timeout: 20_000 }), page.click(selector)]);
    const callback = rpSite.callbacks[before];
    if (!callback) throw new Error('the RP got no callback');
    return callback;
  }

  it('allow: the RP gets a code and redeems it', async () => {
    const { context, page, checks } = await toConsent();
    const callback = await answer(page, 'form[action$="/confirm"] button');
    const tokens = await client.authorizationCodeGrant(loopbackRp, callback, {
      ...checks,
      idTokenExpected: true,
    });
    expect(tokens.claims()?.aud).toBe(LOOPBACK.client_id);
    await context.close();
  }, 60_000);

  it('deny: the RP gets access_denied', async () => {
    const { context, page } = await toConsent();
    const callback = await answer(page, 'form[action$="/abort"] button');
    expect(callback.searchParams.get('error')).toBe('access_denied');
    await context.close();
  }, 60_000);

  it("refuses another site's form in the same browser", async () => {
    const { context, page } = await toConsent();
    const attacker = await attackerSite(`${page.url()}/confirm`);
    try {
      const before = rpSite.callbacks.length;
      const lure = await context.newPage();
      await lure.goto(attacker.url);
      const [refusal] = await Promise.all([lure.waitForNavigation(), lure.click('#prize')]);
      expect(refusal?.status()).toBe(403);
      expect(await lure.content()).toContain('CROSS_ORIGIN_REQUEST');
      expect(rpSite.callbacks.length).toBe(before);
    } finally {
      attacker.server.close();
      await context.close();
    }
  }, 60_000);
});

/** The headers a browser sets itself, of one request; cookies as their sorted names. */
function browserSet(method: string, path: string, headers: Headers | IncomingHttpHeaders) {
  const get = (name: string) =>
    headers instanceof Headers ? (headers.get(name) ?? undefined) : (headers[name] as string | undefined);
  const uid = (text: string) => text.replace(/\/[A-Za-z0-9_-]{16,}(?=\/|$)/g, '/:uid');
  const referer = get('referer');
  return {
    request: `${method} ${uid(new URL(path, 'http://op').pathname)}`,
    origin: get('origin'),
    referer: referer === undefined ? undefined : uid(new URL(referer).pathname),
    'sec-fetch-site': get('sec-fetch-site'),
    'sec-fetch-mode': get('sec-fetch-mode'),
    'sec-fetch-dest': get('sec-fetch-dest'),
    'sec-fetch-user': get('sec-fetch-user'),
    cookies: (get('cookie') ?? '')
      .split('; ')
      .filter(Boolean)
      .map((pair) => pair.split('=')[0])
      .sort(),
  };
}

/** Page loads and script fetches only (not the style sheet, script or icon). */
const isDocumentOrFetch = (headers: Headers | IncomingHttpHeaders) => {
  const dest = headers instanceof Headers ? headers.get('sec-fetch-dest') : headers['sec-fetch-dest'];
  return dest === 'document' || dest === 'empty';
};

describe('TestBrowser', () => {
  it('sends the same Origin, Referer, Sec-Fetch-* and cookies as Chromium, request by request', async () => {
    const browserSent = () =>
      received
        .filter((request) => isDocumentOrFetch(request.headers))
        .map((request) => browserSet(request.method, request.path, request.headers));
    received = [];
    const { page } = await signInToConsent();
    await page.getByRole('button', { name: 'Allow', exact: true }).click();
    await landAtRp(page);
    await page.context().close();
    const chromium = browserSent();

    received = [];
    const card = new VirtualCardSigner(identity);
    try {
      const { url } = await authorizationRequest(rp, REDIRECT_URI);
      const result = await signIn({
        browser: new TestBrowser(),
        authorizationUrl: url,
        redirectUri: REDIRECT_URI,
        card,
        consent: true,
      });
      expect(result.callback?.searchParams.get('code')).toEqual(expect.any(String));
    } finally {
      await card.close();
    }
    expect(chromium.map((request) => request.request)).toEqual([
      'GET /auth',
      'GET /interaction/:uid',
      'POST /interaction/:uid/login',
      'GET /auth/:uid',
      'GET /interaction/:uid',
      'POST /interaction/:uid/confirm',
      'GET /auth/:uid',
    ]);
    expect(browserSent()).toEqual(chromium);
  }, 90_000);
});

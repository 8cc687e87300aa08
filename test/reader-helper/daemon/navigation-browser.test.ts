/**
 * The navigation path in real Chromium: a site's page sends the browser to the helper, the person
 * answers the helper's PIN window (scripted here; the real zenity window is tested with the
 * login page in test/e2e), and the browser comes back to the site's card-answer page with the
 * answer in the fragment. And what Chromium itself sends when another page tries to use the path
 * in a way a login page does not: inside a frame, with fetch(), under a rebound host name, with a
 * return address of its choice, or from a popup it keeps a handle to.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  authenticateNavigationUrl,
  type CardAnswer,
  decodeCardAnswer,
} from '../../../protocol/helper-protocol.js';
import { launchChromium } from '../../support/browser.js';
import { devPki, newNonce } from '../../support/dev-pki.js';
import { type Fixture, startFixture, verifySignedAnswer } from './daemon-fixture.js';

const REBOUND_HOST = 'rebind.test';
const UID = 'uid_1';

let browser: Browser;
let context: BrowserContext;
let fixture: Fixture | undefined;
let site: Server;
let siteOrigin: string;
/** What the site's server saw: path and query, and the Referer, of each request. */
let siteRequests: { url: string; referer: string | undefined }[] = [];

/** The helper URL a login page on the site navigates to. */
function helperUrl(nonce: string, returnUrl = `${siteOrigin}/interaction/${UID}/card-answer`): string {
  return authenticateNavigationUrl((fixture as Fixture).port, { nonce, returnUrl, language: 'en' });
}

/** The site: a login page linking to the helper, its card-answer page, and pages that misuse the path. */
function sitePage(request: IncomingMessage): string {
  const url = new URL(request.url ?? '/', siteOrigin);
  const target = url.searchParams.get('target') ?? '';
  switch (url.pathname) {
    case '/login':
      return `<!doctype html><title>login</title><a id="go" href="${target}">Sign in</a>`;
    case `/interaction/${UID}/card-answer`:
      return `<!doctype html><title>answer</title><pre id="hash"></pre>
<script>document.getElementById('hash').textContent = location.hash;</script>`;
    case '/frame':
      return `<!doctype html><title>frame</title><iframe src="${target}"></iframe>`;
    case '/fetch':
      return `<!doctype html><title>fetch</title><script>
window.fetched = fetch(${JSON.stringify(target)}, { mode: 'no-cors' }).then(() => 'answered', () => 'failed');
</script>`;
    case '/popup':
      return `<!doctype html><title>popup</title><script>
window.openHelper = () => { window.helper = window.open(${JSON.stringify(target)}); };
window.readHelper = () => { try { return window.helper.closed ? 'closed' : String(window.helper.location.href); } catch { return 'blocked'; } };
</script>`;
    default:
      return '<!doctype html><title>other</title>';
  }
}

beforeAll(async () => {
  await devPki();
  site = createServer((request, response) => {
    siteRequests.push({ url: request.url ?? '', referer: request.headers.referer });
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(sitePage(request));
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteOrigin = `http://localhost:${(site.address() as AddressInfo).port}`;
  browser = await launchChromium([`--host-resolver-rules=MAP ${REBOUND_HOST} 127.0.0.1`]);
}, 30_000);

afterAll(async () => {
  await browser?.close();
  site?.close();
});

afterEach(async () => {
  await context?.close();
  await fixture?.close();
  fixture = undefined;
  siteRequests = [];
});

/** A helper admitting the site (development mode: http loopback pages), and a fresh browser context. */
async function start(
  options: Parameters<typeof startFixture>[0] = {},
): Promise<{ fixture: Fixture; page: Page }> {
  fixture = await startFixture({ dev: true, ...options });
  context = await browser.newContext({ locale: 'en-US' });
  return { fixture, page: await context.newPage() };
}

/** Resolves once `condition` holds (checked every 20 ms; the test's timeout bounds it). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await delay(20);
}

/** Opens the site's login page and clicks its link to the helper. */
async function clickSignIn(page: Page, target: string): Promise<void> {
  await page.goto(`${siteOrigin}/login?target=${encodeURIComponent(target)}`);
  await page.click('#go');
}

/**
 * Resolves with the body of the first waiting page (200 from /authenticate/wait) the helper sends
 * Chromium. Taken on its way to the browser (Chromium drops a page's body as soon as its meta
 * refresh starts the next GET, so reading it afterwards races): each wait GET is passed on to the
 * helper as the browser sent it, and its answer — 200 or the 303 back — to the browser unchanged.
 */
async function tapWaitingPage(page: Page): Promise<{ readonly body: Promise<string> }> {
  let resolveBody: (body: string) => void = () => {};
  const body = new Promise<string>((resolve) => {
    resolveBody = resolve;
  });
  await page.route(/\/authenticate\/wait\?/, async (route) => {
    const response = await route.fetch({ maxRedirects: 0 });
    if (response.status() === 200) resolveBody(await response.text());
    await route.fulfill({ response });
  });
  return { body };
}

/** The answer the card-answer page read from its own fragment. */
async function answerOnPage(page: Page): Promise<CardAnswer> {
  await page.waitForURL(`${siteOrigin}/interaction/${UID}/card-answer#myna-answer=*`, { timeout: 15_000 });
  const answer = decodeCardAnswer((await page.locator('#hash').textContent()) ?? '');
  if (!answer) throw new Error(`no answer on ${page.url()}`);
  return answer;
}

describe('navigation path in Chromium', () => {
  it('a link from the site’s login page comes back to its card-answer page with a signature for the site', async () => {
    const { page, fixture } = await start();
    const nonce = newNonce();
    await clickSignIn(page, helperUrl(nonce));
    const answer = await answerOnPage(page);
    if (!('certificate' in answer)) throw new Error(JSON.stringify(answer));
    expect(answer.nonce).toBe(nonce);
    const verified = await verifySignedAnswer(answer, siteOrigin, nonce);
    expect(verified.kind).toBe('user-auth');
    expect(fixture.person.requests[0]).toMatchObject({ origin: siteOrigin, language: 'en' });
    // The fragment never reaches the site's server, and the helper's URL (with the nonce) is not its Referer.
    const arrival = siteRequests.find((request) => request.url.startsWith(`/interaction/${UID}/card-answer`));
    expect(arrival).toEqual({ url: `/interaction/${UID}/card-answer`, referer: undefined });
  }, 30_000);

  it('shows the waiting page while the person types, refreshes itself, then comes back', async () => {
    const { page, fixture } = await start({ navigation: { holdMs: 300 } });
    fixture.person.typesAfter(1500, '1234');
    const waiting = await tapWaitingPage(page);
    await clickSignIn(page, helperUrl(newNonce()));
    const body = await waiting.body;
    expect(body).toContain(
      '<p id="state" class="ok">Enter your PIN in the window of the card helper (myna-helper).</p>',
    );
    expect(body).toContain(`<p id="site" class="site">${siteOrigin}</p>`);
    expect(await answerOnPage(page)).toHaveProperty('signature');
  }, 30_000);

  it('“Cancel and go back” on the waiting page closes the PIN window and comes back with USER_CANCELLED', async () => {
    // Each waiting page stays on screen for one hold (the next wait GET is held that long), so a
    // hold of 3 s leaves the person's two key presses well inside one page's lifetime; with a
    // short hold a fresh page could replace the focused one between Tab and Enter.
    const { page, fixture } = await start({ navigation: { holdMs: 3000 } });
    const window = fixture.person.leavesOpen();
    const shown = page.waitForEvent('framenavigated', {
      predicate: (frame) => frame.url().includes('/authenticate/wait'),
    });
    await clickSignIn(page, helperUrl(newNonce()));
    await shown;
    // The page's only link, reached from the keyboard (while the page's own refresh is pending,
    // Playwright cannot query the document, but a person can still use it).
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    expect(await answerOnPage(page)).toMatchObject({ error: { code: 'USER_CANCELLED' } });
    expect(await window.closed).toMatchObject({ code: 'USER_CANCELLED' });
  }, 30_000);

  it.each([
    ['goes to another page', (page: Page) => page.goto(`${siteOrigin}/other`).then(() => undefined)],
    ['closes the tab', (page: Page) => page.close()],
  ])(
    'the person %s while the PIN window is open: the window closes and the helper is free again',
    async (_, leave) => {
      const { page, fixture } = await start({ navigation: { holdMs: 300, abandonMs: 1000 } });
      const window = fixture.person.leavesOpen();
      await clickSignIn(page, helperUrl(newNonce()));
      await window.opened;
      // On the waiting page (the first hold has ended), refreshing itself.
      await delay(500);
      expect(page.url()).toContain('/authenticate/wait?op=');
      await leave(page);
      expect(await window.closed).toMatchObject({ code: 'CANCELLED' });
      // Not BUSY: the next sign-in gets its PIN window and its signature.
      const next = await context.newPage();
      fixture.person.types('1234');
      await clickSignIn(next, helperUrl(newNonce()));
      expect(await answerOnPage(next)).toHaveProperty('signature');
    },
    30_000,
  );

  it('a return address of another page’s choice gets a page saying nothing was signed, and no redirect', async () => {
    const { page, fixture } = await start();
    const target = helperUrl(newNonce(), `${siteOrigin}/interaction/${UID}/card-answer/..`);
    await clickSignIn(page, target);
    await page.waitForLoadState();
    expect(page.url()).toBe(target);
    expect(await page.locator('#state').textContent()).toBe('Nothing was signed');
    expect(fixture.person.requests).toHaveLength(0);
    expect(fixture.card.apduCount).toBe(0);
  }, 30_000);

  it('refuses to run inside a frame (Sec-Fetch-Dest: iframe): no PIN window', async () => {
    const { page, fixture } = await start();
    await page.goto(`${siteOrigin}/frame?target=${encodeURIComponent(helperUrl(newNonce()))}`);
    await until(() => fixture.logLines.join('').includes('"reason":"NOT_NAVIGATION"'));
    expect(fixture.person.requests).toHaveLength(0);
    const frame = page.frames().find((candidate) => candidate.parentFrame() !== null);
    const text = await frame?.evaluate<string>("document.body?.innerText ?? ''").catch(() => '');
    expect(text ?? '').not.toContain('Enter your PIN');
  }, 30_000);

  it('refuses a fetch() from a page (Sec-Fetch-Dest: empty): no PIN window', async () => {
    const { page, fixture } = await start();
    await page.goto(`${siteOrigin}/fetch?target=${encodeURIComponent(helperUrl(newNonce()))}`);
    expect(await page.evaluate('window.fetched')).toMatch(/^(answered|failed)$/);
    expect(fixture.logLines.join('')).toContain('"reason":"NOT_NAVIGATION"');
    expect(fixture.person.requests).toHaveLength(0);
  }, 30_000);

  it('refuses a rebound host name (DNS rebinding): no PIN window', async () => {
    const { page, fixture } = await start();
    const rebound = helperUrl(newNonce()).replace('127.0.0.1', REBOUND_HOST);
    const response = await page.goto(rebound);
    expect(response?.status()).toBe(403);
    expect(await page.locator('#reason').textContent()).toContain(`http://127.0.0.1:${fixture.port}/`);
    expect(fixture.person.requests).toHaveLength(0);
    expect(fixture.logLines.join('')).toContain('"reason":"HOST_REFUSED"');
  }, 30_000);

  it('a page that opens the helper in a popup cannot read the answer delivered to the site', async () => {
    const { fixture } = await start();
    const phishing = await context.newPage();
    // Another site (127.0.0.1 is another origin than localhost) opens the helper for our site.
    const phishingOrigin = siteOrigin.replace('localhost', '127.0.0.1');
    await phishing.goto(`${phishingOrigin}/popup?target=${encodeURIComponent(helperUrl(newNonce()))}`);
    const [popup] = await Promise.all([
      context.waitForEvent('page'),
      phishing.evaluate('window.openHelper()'),
    ]);
    expect(await answerOnPage(popup)).toHaveProperty('signature');
    expect(await phishing.evaluate('window.readHelper()')).toMatch(/^(closed|blocked)$/);
    expect(fixture.person.requests[0]?.origin).toBe(siteOrigin);
  }, 30_000);
});

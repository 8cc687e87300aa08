/**
 * Every state of the pages people see, in Japanese and English, in real Chromium with Japanese
 * fonts (fonts-noto-cjk): each page must load with no failed request, no CSP violation or script
 * error, no sideways scrolling in a phone-sized window, and the relying party's logo within
 * 48 px. Each state is also saved as a phone and a desktop screenshot, in $MYNA_SCREENSHOTS when set (else in a
 * temporary folder that is removed): look at them after changing a page.
 *
 *   MYNA_SCREENSHOTS=/tmp/myna-shots npm run jest -- test/e2e/screenshots.test.ts
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import type { OpServer } from '../../functions/op/local-server.js';
import { type Locale, message } from '../../functions/op/login-page/messages.js';
import type { CardIdentity } from '../../reader-helper/virtual-card/identity.js';
import { useLocalTables } from '../storage/local-table.js';
import { freePort, launchChromium, startVirtualHelper, type VirtualHelper } from '../support/browser.js';
import { aliceCard } from '../support/card.js';
import { authorizationRequest, relyingParty } from '../support/oidc-flow.js';
import { BRANDED_CLIENT, startTestOp, TEST_CLIENTS } from '../support/op-stack.js';

const newTable = useLocalTables();
const SHOP = BRANDED_CLIENT;
const CLIENTS = [...Object.values(TEST_CLIENTS), SHOP];
/** The shop's logo (served by the test in place of its CDN): a wide mark, to check the size cap. */
const LOGO = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 60"><rect width="120" height="60" rx="12" fill="#e4572e"/><text x="60" y="40" font-size="28" text-anchor="middle" fill="#fff" font-family="sans-serif">SHOP</text></svg>`;

let identity: CardIdentity;
let helpers: VirtualHelper[] = [];
let ops: OpServer[] = [];
let withCard: OpServer;
let withoutCard: OpServer;
let withoutHelper: OpServer;
let browser: Browser;
let folder: string;
const keep = process.env.MYNA_SCREENSHOTS;

beforeAll(async () => {
  identity = (await aliceCard()).identity;
  const cardHelper = await startVirtualHelper(identity);
  const emptyHelper = await startVirtualHelper();
  helpers = [cardHelper, emptyHelper];
  withCard = await startTestOp({ table: await newTable(), clients: CLIENTS, helperPort: cardHelper.port });
  withoutCard = await startTestOp({
    table: await newTable(),
    clients: CLIENTS,
    helperPort: emptyHelper.port,
  });
  withoutHelper = await startTestOp({
    table: await newTable(),
    clients: CLIENTS,
    helperPort: await freePort(),
  });
  ops = [withCard, withoutCard, withoutHelper];
  browser = await launchChromium();
  folder = keep ?? (await mkdtemp(join(tmpdir(), 'myna-shots-')));
  await mkdir(folder, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  for (const op of ops) await op.close();
  for (const helper of helpers) await helper.close();
  if (!keep && folder) await rm(folder, { recursive: true, force: true });
});

async function authorizationUrl(op: OpServer, params: Record<string, string> = {}): Promise<string> {
  const rp = await relyingParty({
    issuer: op.url,
    clientId: SHOP.client_id,
    clientSecret: SHOP.client_secret,
  });
  return (await authorizationRequest(rp, SHOP.redirect_uris[0] as string, params)).url.href;
}

const PHONE = { width: 400, height: 800 };
const DESKTOP = { width: 1280, height: 800 };

/** A phone-sized Chromium tab in `locale`; the shop's site and CDN answered by the test. */
async function openTab(locale: Locale): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({
    locale: locale === 'ja' ? 'ja-JP' : 'en-US',
    viewport: PHONE,
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`script error: ${error.message}`));
  page.on('console', (entry) => {
    if (entry.type() === 'error') problems.push(`console: ${entry.text()}`);
  });
  page.on('response', (response) => {
    const type = response.request().resourceType();
    if (response.status() >= 400 && type !== 'document')
      problems.push(`${response.status()} ${response.url()}`);
  });
  await page.route('https://cdn.shop.example/**', (route) =>
    route.fulfill({ status: 200, contentType: 'image/svg+xml', body: LOGO }),
  );
  await page.route('https://shop.example/**', (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>Example Shop</h1>' }),
  );
  return { page, problems };
}

/** Checks the page as a person sees it, then saves it as `<state>-<locale>-{phone,desktop}.png`. */
async function look(page: Page, problems: string[], state: string, locale: Locale, allowed?: RegExp) {
  await page.evaluate(
    () =>
      (globalThis as unknown as { document: { fonts: { ready: Promise<unknown> } } }).document.fonts.ready,
  );
  const sideways = await page.evaluate(() => {
    const root = (
      globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }
    ).document.documentElement;
    return root.scrollWidth > root.clientWidth;
  });
  expect({ state, locale, sideways }).toEqual({ state, locale, sideways: false });
  const logo = page.locator('.rp-logo');
  if ((await logo.count()) > 0) {
    const box = await logo.boundingBox();
    expect(box?.width).toBeLessThanOrEqual(48);
    expect(box?.height).toBeLessThanOrEqual(48);
    expect(
      await logo.evaluate((image) => (image as unknown as { naturalWidth: number }).naturalWidth),
    ).toBeGreaterThan(0);
  }
  expect({ state, locale, problems: problems.filter((line) => !allowed?.test(line)) }).toEqual({
    state,
    locale,
    problems: [],
  });
  await page.screenshot({ path: join(folder, `${state}-${locale}-phone.png`), fullPage: true });
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: join(folder, `${state}-${locale}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
}

const t = (locale: Locale, key: Parameters<typeof message>[1]) => message(locale, key);
/** The console line Chromium writes for the refused WebSocket when no helper listens. */
/** The console line Chromium writes for a page answered 400 (the error page itself). */
const DOCUMENT_400 = /Failed to load resource: the server responded with a status of 400/;
const NO_HELPER_SOCKET = /WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/' failed/;

describe.each(['ja', 'en'] as const)('pages in %s', (locale) => {
  it('login: PIN, wrong PIN, last try, consent, Back after signing in, logout', async () => {
    const { page, problems } = await openTab(locale);
    await page.goto(await authorizationUrl(withCard));
    const pin = page.getByLabel(t(locale, 'pinLabel'));
    await pin.waitFor({ timeout: 20_000 });
    await look(page, problems, 'login-pin', locale);

    for (const left of [2, 1]) {
      await pin.fill('0000');
      await page.getByRole('button', { name: t(locale, 'submit'), exact: true }).click();
      await page.locator('#alert', { hasText: String(left) }).waitFor({ timeout: 20_000 });
    }
    await look(page, problems, 'login-one-try-left', locale);
    await pin.fill(identity.userAuthPin);
    await page.getByRole('button', { name: t(locale, 'submit'), exact: true }).click();
    await page.locator('#last-try').waitFor({ state: 'visible', timeout: 20_000 });
    await look(page, problems, 'login-last-try', locale);

    await page.locator('#confirm-last-try').check();
    await pin.fill(identity.userAuthPin);
    await page.getByRole('button', { name: t(locale, 'submit'), exact: true }).click();
    const allow = page.getByRole('button', { name: t(locale, 'consentAllow'), exact: true });
    await allow.waitFor({ timeout: 20_000 });
    await look(page, problems, 'consent', locale);

    await allow.click();
    await page.waitForURL(/^https:\/\/shop\.example\/cb/, { timeout: 20_000 });
    await page.goBack();
    await page.getByRole('heading', { name: t(locale, 'doneTitle') }).waitFor({ timeout: 20_000 });
    await look(page, problems, 'back-after-sign-in', locale);

    await page.goto(`${withCard.url}/session/end`);
    const signOut = page.getByRole('button', { name: t(locale, 'logoutYes'), exact: true });
    await signOut.waitFor();
    await look(page, problems, 'logout', locale);
    await signOut.click();
    await page.getByRole('heading', { name: t(locale, 'logoutDone'), exact: true }).waitFor();
    await look(page, problems, 'logout-done', locale);
    await page.context().close();
  }, 120_000);

  it('login: no card on the reader', async () => {
    const { page, problems } = await openTab(locale);
    await page.goto(await authorizationUrl(withoutCard));
    await page.locator('#status', { hasText: t(locale, 'stateNoCard') }).waitFor({ timeout: 20_000 });
    await look(page, problems, 'login-no-card', locale);
    await page.context().close();
  }, 60_000);

  it('login: the helper cannot be reached', async () => {
    const { page, problems } = await openTab(locale);
    await page.goto(await authorizationUrl(withoutHelper));
    await page.locator('#guide').waitFor({ state: 'visible', timeout: 20_000 });
    expect(await page.locator('#alert').textContent()).toBe(t(locale, 'stateNoHelperReasons'));
    await look(page, problems, 'login-no-helper', locale, NO_HELPER_SOCKET);
    await page.context().close();
  }, 60_000);

  it("error page for the RP's bad request", async () => {
    const { page, problems } = await openTab(locale);
    await page.goto(await authorizationUrl(withCard, { redirect_uri: 'https://evil.example/cb' }));
    await page.getByRole('heading', { name: t(locale, 'errorTitle') }).waitFor();
    await look(page, problems, 'error', locale, DOCUMENT_400);
    await page.context().close();
  }, 60_000);
});

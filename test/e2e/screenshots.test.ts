/**
 * Every state of the pages people see, in Japanese and English, in real Chromium with Japanese
 * fonts (fonts-noto-cjk): each page must load with no failed request, no CSP violation or script
 * error, no sideways scrolling in a phone-sized window, and the relying party's logo within
 * 48 px. Each state is also saved as a phone and a desktop screenshot, in $MYNA_SCREENSHOTS when set (else in a
 * temporary folder that is removed): look at them after changing a page. The helper's own PIN
 * windows (zenity on a private Xvfb) are saved as screenshots of that display (ImageMagick
 * `import -window root`), `helper-*.png`; its navigation waiting page like any page. The identity
 * step's states (its page, the signing-password window, the consent, a blocked password) too.
 *
 *   MYNA_SCREENSHOTS=/tmp/myna-shots npm run jest -- test/e2e/screenshots.test.ts
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import type { OpServer } from '../../functions/op/local-server.js';
import { fill, type Locale, type MessageKey, message } from '../../functions/op/login-page/messages.js';
import { SIGNING_PIN, USER_AUTH_PIN } from '../../protocol/jpki-profile.js';
import type { CardIdentity } from '../../reader-helper/virtual-card/identity.js';
import { startIdentityOp } from '../op/identity-op.js';
import { useLocalTables } from '../storage/local-table.js';
import { freePort, launchChromium, startVirtualHelper, type VirtualHelper } from '../support/browser.js';
import { denyLoopbackAccess, launchChromiumForPublicSite } from '../support/browsers/chromium.js';
import { type EngineLoginHarness, startEngineLoginHarness } from '../support/browsers/login-harness.js';
import { aliceCard, cardWithSpentTries } from '../support/card.js';
import { authorizationRequest, relyingParty } from '../support/oidc-flow.js';
import { BRANDED_CLIENT, startTestOp, TEST_CLIENTS } from '../support/op-stack.js';
import type { PinDialogUser } from '../support/pin-dialog-user.js';
import type { XDisplay } from '../support/xvfb.js';

const newTable = useLocalTables();
const SHOP = BRANDED_CLIENT;
const CLIENTS = [...Object.values(TEST_CLIENTS), SHOP];
/** The shop's logo (served by the test in place of its CDN): a wide mark, to check the size cap. */
const LOGO = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 60"><rect width="120" height="60" rx="12" fill="#e4572e"/><text x="60" y="40" font-size="28" text-anchor="middle" fill="#fff" font-family="sans-serif">SHOP</text></svg>`;

let identity: CardIdentity;
let helpers: VirtualHelper[] = [];
let ops: OpServer[] = [];
let cardHelper: VirtualHelper;
let withCard: OpServer;
let withBlockedCard: OpServer;
let withoutCard: OpServer;
let withoutHelper: OpServer;
let browser: Browser;
let folder: string;
const keep = process.env.MYNA_SCREENSHOTS;

beforeAll(async () => {
  identity = (await aliceCard()).identity;
  cardHelper = await startVirtualHelper({ identity });
  const blockedHelper = await startVirtualHelper({
    card: await cardWithSpentTries(identity, USER_AUTH_PIN.maxTries),
  });
  const emptyHelper = await startVirtualHelper();
  helpers = [cardHelper, blockedHelper, emptyHelper];
  withCard = await startTestOp({ table: await newTable(), clients: CLIENTS, helperPort: cardHelper.port });
  withBlockedCard = await startTestOp({
    table: await newTable(),
    clients: CLIENTS,
    helperPort: blockedHelper.port,
  });
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
  ops = [withCard, withBlockedCard, withoutCard, withoutHelper];
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

/** A phone-sized tab of `on` (default: the test's Chromium) in `locale`; the shop's site and CDN answered by the test. */
async function openTab(locale: Locale, on: Browser = browser): Promise<{ page: Page; problems: string[] }> {
  const context = await on.newContext({
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

const t = (locale: Locale, key: MessageKey) => message(locale, key);
/** The console line Chromium writes for a page answered 400 (the error page itself). */
const DOCUMENT_400 = /Failed to load resource: the server responded with a status of 400/;
/** The console line Chromium writes for the refused WebSocket when no helper listens. */
const NO_HELPER_SOCKET = /WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/' failed/;
const run = promisify(execFile);

/**
 * Saves the helper's window on `display` as `helper-<state>-<locale>.png`, once the window is shown
 * (zenity maps it before it has painted its text, hence the short pause).
 */
async function lookAtHelperWindow(display: XDisplay, person: PinDialogUser, state: string, locale: Locale) {
  const deadline = Date.now() + 10_000;
  while ((await person.helperWindows()).length === 0) {
    if (Date.now() > deadline) throw new Error(`no helper window for ${state} on ${display.display}`);
    await sleep(25);
  }
  await sleep(500);
  await run('import', ['-window', 'root', join(folder, `helper-${state}-${locale}.png`)], {
    env: display.env,
  });
}

/** Waits until the page's status line shows `key` (filled with `params`). */
async function statusShows(page: Page, locale: Locale, key: MessageKey, params: Record<string, string> = {}) {
  await page.locator('#status', { hasText: fill(t(locale, key), params) }).waitFor({ timeout: 20_000 });
}

/** The alert after a wrong PIN with `left` tries left. */
const wrongPinAlert = (locale: Locale, left: number) =>
  fill(t(locale, left === 1 ? 'triesLeftOne' : 'triesLeft'), {
    message: t(locale, 'HELPER_PIN_INCORRECT'),
    n: left,
  });

describe.each(['ja', 'en'] as const)('pages in %s', (locale) => {
  it('login: ready, PIN window, cancelled, wrong PIN, one try left, last try, consent, Back after signing in, logout', async () => {
    const { person, display } = cardHelper;
    const { page, problems } = await openTab(locale);
    await page.goto(await authorizationUrl(withCard));
    const start = page.getByRole('button', { name: t(locale, 'start'), exact: true });
    await start.waitFor({ timeout: 20_000 });
    await look(page, problems, 'login-ready', locale);

    await start.click();
    await statusShows(page, locale, 'statePinWindow', { site: withCard.url });
    await lookAtHelperWindow(display, person, 'pin-window', locale);
    await look(page, problems, 'login-pin-window', locale);
    await person.cancel();
    await page
      .locator('#alert', { hasText: t(locale, 'HELPER_USER_CANCELLED') })
      .waitFor({ timeout: 20_000 });
    await look(page, problems, 'login-cancelled', locale);

    const retry = page.getByRole('button', { name: t(locale, 'retry'), exact: true });
    for (const left of [2, 1]) {
      await retry.click();
      await person.enterPin('0000');
      await page.locator('#alert', { hasText: wrongPinAlert(locale, left) }).waitFor({ timeout: 20_000 });
      await look(page, problems, left === 1 ? 'login-one-try-left' : 'login-wrong-pin', locale);
    }
    await retry.click();
    await lookAtHelperWindow(display, person, 'last-try', locale);
    await person.acceptLastTry();
    await person.enterPin(identity.userAuthPin);
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

  it('login: the PIN is blocked (no PIN entry offered)', async () => {
    const { page, problems } = await openTab(locale);
    await page.goto(await authorizationUrl(withBlockedCard));
    await page.getByRole('button', { name: t(locale, 'start'), exact: true }).click();
    await statusShows(page, locale, 'statePinBlocked');
    expect(await page.locator('#alert').textContent()).toBe(t(locale, 'HELPER_PIN_BLOCKED'));
    expect(await page.locator('#start, #retry').filter({ visible: true }).count()).toBe(0);
    await look(page, problems, 'login-blocked', locale);
    await page.context().close();
  }, 60_000);

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
    expect(await page.locator('#hint').textContent()).toBe(t(locale, 'stateNoHelperReasons'));
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

/**
 * The states only a page on a public site has (Chromium's Local Network Access permission): the
 * explanation before the browser asks, the way back after a denial, and the navigation path — the
 * helper's own waiting page and its PIN window naming the site.
 */
describe('the OP as a public https site', () => {
  let harness: EngineLoginHarness;
  let publicBrowser: Browser;
  beforeAll(async () => {
    harness = await startEngineLoginHarness();
    publicBrowser = await launchChromiumForPublicSite(harness.site);
  }, 60_000);
  afterAll(async () => {
    await publicBrowser?.close();
    await harness?.close();
  });

  /** From the demo RP's sign-in button to the OP's login page on the public site. */
  async function toPublicLoginPage(page: Page): Promise<void> {
    await page.goto(harness.stack.rpUrl);
    await page.getByRole('button', { name: 'Sign in with MyNumber card' }).click();
    await page.waitForURL((url) => url.href.startsWith(`${harness.site.origin}/interaction/`));
  }

  it.each(['ja', 'en'] as const)(
    '%s: the permission prompt explained before the click',
    async (locale) => {
      const { page, problems } = await openTab(locale, publicBrowser);
      await toPublicLoginPage(page);
      await page.locator('#hint', { hasText: t(locale, 'hintPromptChromium') }).waitFor({ timeout: 20_000 });
      await look(page, problems, 'login-permission-prompt', locale);
      await page.context().close();
    },
    60_000,
  );

  it.each(['ja', 'en'] as const)(
    "%s: denied — how to re-allow, then the helper's waiting page and its PIN window",
    async (locale) => {
      const { page, problems } = await openTab(locale, publicBrowser);
      const permissions = await denyLoopbackAccess(publicBrowser, page, harness.site.origin);
      try {
        await toPublicLoginPage(page);
        await page
          .locator('#hint', { hasText: t(locale, 'hintDeniedChromium') })
          .waitFor({ timeout: 20_000 });
        await look(page, problems, 'login-permission-denied', locale);
        // Headless Chromium paints nothing while a navigation is pending, and the waiting page's
        // refresh starts one at once (held by the helper up to ~20 s): every wait after the first
        // is cancelled (ERR_ABORTED keeps the page as it is) so the page can be looked at. The
        // helper then sees no pending wait and, after 3 s, closes its PIN window by itself.
        let waits = 0;
        let refreshCancelled: () => void = () => {};
        const refreshed = new Promise<void>((resolve) => {
          refreshCancelled = resolve;
        });
        await page.route(/\/authenticate\/wait\?/, async (route) => {
          if (waits++ === 0) return route.continue();
          await route.abort('aborted');
          refreshCancelled();
        });
        await page.getByRole('button', { name: t(locale, 'start'), exact: true }).click();
        await lookAtHelperWindow(harness.display, harness.person, 'pin-window-navigation', locale);
        // /authenticate answers 303 to its wait URL at once; that GET holds ~20 s for the card,
        // then the waiting page comes.
        await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/authenticate\/wait\?/, { timeout: 40_000 });
        await refreshed;
        await page.waitForLoadState('load');
        await look(page, problems, 'helper-waiting-page', locale);
      } finally {
        if ((await harness.person.helperWindows()).length > 0) await harness.person.cancel();
        await permissions.detach();
        await page.context().close();
      }
    },
    90_000,
  );
});

/**
 * The identity step (issue #14): its page, the helper's signing-password window, a wrong password,
 * the claim-by-claim consent (the shop states its purpose; one claim optional; it gets the
 * evidence bundle, which the sign-in service keeps too: the certificate's required line and the
 * retention text), and a blocked signing password.
 */
describe.each(['ja', 'en'] as const)('identity step pages in %s', (locale) => {
  const PURPOSED_SHOP = {
    ...SHOP,
    myna_purpose: 'To check your age and address before your first order',
    'myna_purpose#ja': '初回注文前の年齢と住所の確認のため',
    myna_identity_evidence: true,
    myna_retain_identity_evidence: true,
  };
  let helper: VirtualHelper;
  let blockedHelper: VirtualHelper;
  let identityOp: OpServer;
  let blockedOp: OpServer;
  beforeAll(async () => {
    helper = await startVirtualHelper({ identity });
    blockedHelper = await startVirtualHelper({
      card: await cardWithSpentTries(identity, SIGNING_PIN.maxTries, SIGNING_PIN),
    });
    identityOp = await startIdentityOp({
      table: await newTable(),
      clients: [PURPOSED_SHOP],
      helperPort: helper.port,
    });
    blockedOp = await startIdentityOp({
      table: await newTable(),
      clients: [PURPOSED_SHOP],
      helperPort: blockedHelper.port,
    });
  }, 60_000);
  afterAll(async () => {
    await identityOp?.close();
    await blockedOp?.close();
    await helper?.close();
    await blockedHelper?.close();
  });

  /** The shop's identity request at `op`, signed in with the card through `on`'s window: the identity page. */
  async function toIdentityPage(op: OpServer, on: VirtualHelper) {
    const tab = await openTab(locale);
    const claims = JSON.stringify({
      id_token: { age_over_20: { essential: true }, address: { region: null } },
    });
    await tab.page.goto(await authorizationUrl(op, { scope: 'openid name', claims }));
    await tab.page.getByRole('button', { name: t(locale, 'start'), exact: true }).click({ timeout: 20_000 });
    await on.person.enterPin(identity.userAuthPin, { timeoutMs: 20_000 });
    await tab.page.getByRole('heading', { name: t(locale, 'identityTitle') }).waitFor({ timeout: 20_000 });
    return tab;
  }

  it('ready, the signing-password window, a wrong password, the consent', async () => {
    const { page, problems } = await toIdentityPage(identityOp, helper);
    const start = page.getByRole('button', { name: t(locale, 'identityStart'), exact: true });
    await start.waitFor({ timeout: 20_000 });
    await look(page, problems, 'identity-ready', locale);
    await start.click();
    await statusShows(page, locale, 'identityStatePinWindow', { site: identityOp.url });
    await lookAtHelperWindow(helper.display, helper.person, 'identity-password-window', locale);
    await look(page, problems, 'identity-password-window', locale);
    await helper.person.enterPin('WRONG1');
    const wrong = fill(t(locale, 'triesLeft'), { message: t(locale, 'IDENTITY_PIN_INCORRECT'), n: 4 });
    await page.locator('#alert', { hasText: wrong }).waitFor({ timeout: 20_000 });
    await look(page, problems, 'identity-wrong-password', locale);
    await page.getByRole('button', { name: t(locale, 'retry'), exact: true }).click();
    await helper.person.enterPin(identity.signingPin, { timeoutMs: 20_000 });
    const share = page.getByRole('button', { name: t(locale, 'identityConsentAllow'), exact: true });
    await share.waitFor({ timeout: 20_000 });
    // The certificate the shop gets whatever is unticked: a fixed, ticked box with its label.
    const certificate = page.getByRole('checkbox', { name: t(locale, 'identityConsentCertificate') });
    expect(await certificate.isChecked()).toBe(true);
    expect(await certificate.isDisabled()).toBe(true);
    await look(page, problems, 'identity-consent', locale);
    await share.click();
    await page.waitForURL(/^https:\/\/shop\.example\/cb/, { timeout: 20_000 });
    await page.context().close();
  }, 120_000);

  it('the signing password is blocked', async () => {
    const { page, problems } = await toIdentityPage(blockedOp, blockedHelper);
    await page.getByRole('button', { name: t(locale, 'identityStart'), exact: true }).click();
    await statusShows(page, locale, 'identityStatePinBlocked');
    expect(await page.locator('#alert').textContent()).toBe(t(locale, 'IDENTITY_PIN_BLOCKED'));
    await look(page, problems, 'identity-blocked', locale);
    await page.context().close();
  }, 60_000);
});

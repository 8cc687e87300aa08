/**
 * "My account" end to end in real Chromium (Debian's, playwright-core): the person opens
 * <issuer>/account, signs in with the card through the OP's own login page — the reader-helper
 * in-process with the virtual card, its real PIN window (zenity on a private Xvfb) typed into
 * with xdotool — using the keyboard alone, and uses every action: withdraw (the RP's back-channel
 * endpoint receives a logout token that verifies against the OP's JWKS, its refresh token stops
 * working), sign out everywhere, export (the download matches the page), delete (a dump of the
 * table finds nothing of the account) and sign out; a form from another site is refused. Every
 * state passes axe-core with 0 violations, under the CSP it is served with, and no page breaks its
 * CSP. The RPs' own sign-ins before are made by openid-client with the scripted browser and the
 * same card (test/op/account.test.ts covers the page over HTTP). Fails loudly without Chromium,
 * Xvfb, zenity or xdotool. To look at the pages:
 *   MYNA_SCREENSHOTS=/tmp/myna-shots npm run jest -- test/e2e/account.test.ts
 */

import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { ClientMetadata } from 'oidc-provider';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { accountText } from '../../functions/op/account/texts.js';
import type { OpServer } from '../../functions/op/local-server.js';
import { fill } from '../../functions/op/login-page/messages.js';
import { ReleaseHistory } from '../../functions/storage/release-history.js';
import { pseudonymFingerprint } from '../../functions/subject/pseudonym-fingerprint.js';
import type { CardIdentity } from '../../reader-helper/virtual-card/identity.js';
import {
  accountTestClients,
  BackchannelEndpoint,
  expectWithdrawn,
  itemsNaming,
  rpSignIn as rpSignInWith,
} from '../op/account-world.js';
import { type TestTable, useLocalTables } from '../storage/local-table.js';
import { axeViolations, recordCspViolations } from '../support/axe.js';
import { launchChromium, startVirtualHelper, type VirtualHelper } from '../support/browser.js';
import { aliceCard } from '../support/card.js';
import { VirtualCardSigner } from '../support/oidc-flow.js';
import { startTestOp } from '../support/op-stack.js';

const newTable = useLocalTables();
let identity: CardIdentity;
let helper: VirtualHelper;
let browser: Browser;
let card: VirtualCardSigner;
let backchannel: BackchannelEndpoint;
let clients: ReturnType<typeof accountTestClients>;
let table: TestTable;
let op: OpServer;
const contexts: BrowserContext[] = [];

/** The shop's logo, answered inside the browser (the tests have no network). */
const LOGO_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48"><rect width="48" height="48" rx="8" fill="#c0392b"/></svg>';

beforeAll(async () => {
  identity = (await aliceCard()).identity;
  helper = await startVirtualHelper({ identity });
  browser = await launchChromium();
  card = new VirtualCardSigner(identity);
  backchannel = new BackchannelEndpoint();
  await backchannel.start();
  clients = accountTestClients(backchannel);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await helper?.close();
  await card?.close();
  await backchannel?.close();
});
beforeEach(async () => {
  backchannel.reset();
  table = await newTable();
  op = await startTestOp({
    table,
    clients: Object.values(clients),
    privateRpHosts: ['127.0.0.1'],
    helperPort: helper.port,
  });
});
afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
  await op?.close();
});

const en = (key: Parameters<typeof accountText>[1], values: Record<string, string> = {}) =>
  fill(accountText('en', key), values);

/** An RP sign-in with the same card (openid-client, scripted browser), consent given where asked. */
const rpSignIn = (metadata: ClientMetadata) => rpSignInWith(op.url, card, metadata);

/** A page in a fresh Chromium context (its own cookies) that records CSP violations. */
async function newPage(locale = 'en-US'): Promise<{ page: Page; csp: string[] }> {
  const context = await browser.newContext({ locale, acceptDownloads: true });
  contexts.push(context);
  await context.route('https://cdn.shop.example/**', (route) =>
    route.fulfill({ contentType: 'image/svg+xml', body: LOGO_SVG }),
  );
  const page = await context.newPage();
  return { page, csp: await recordCspViolations(page) };
}

/** Presses Tab until `target` has the focus (a person reaching it with the keyboard); fails when it never does. */
async function tabTo(page: Page, target: Locator, maxPresses = 60): Promise<void> {
  for (let presses = 0; presses < maxPresses; presses++) {
    await page.keyboard.press('Tab');
    if (await target.evaluate((element) => element === element.ownerDocument.activeElement)) {
      const outline = await target.evaluate(
        (element) => element.ownerDocument.defaultView?.getComputedStyle(element).outlineStyle,
      );
      expect(outline).not.toBe('none');
      return;
    }
  }
  throw new Error(`${target} never got the keyboard focus`);
}

/** Where each checked state is also saved as a screenshot, when set (to look at the pages). */
const screenshots = process.env.MYNA_SCREENSHOTS;
let shot = 0;

/** Expects axe to find nothing on the page as it is now (and saves a screenshot with MYNA_SCREENSHOTS). */
async function expectAccessible(page: Page): Promise<void> {
  expect({ url: page.url(), violations: await axeViolations(page) }).toEqual({
    url: page.url(),
    violations: [],
  });
  if (screenshots) {
    const name = `account-${String(++shot).padStart(2, '0')}-${new URL(page.url()).pathname.replace(/\W+/g, '-')}.png`;
    await page.screenshot({ path: join(screenshots, name), fullPage: true });
  }
}

/**
 * Opens /account and signs in with the keyboard alone: Tab to the login page's button, Enter,
 * the PIN typed into the helper's window; ends on the overview.
 */
async function signInToAccount(page: Page): Promise<void> {
  await page.goto(`${op.url}/account`);
  await page.waitForURL(/\/interaction\//);
  const start = page.locator('#start');
  await start.waitFor({ state: 'visible', timeout: 20_000 });
  await expectAccessible(page);
  await tabTo(page, start);
  await page.keyboard.press('Enter');
  await helper.person.enterPin(identity.userAuthPin, { timeoutMs: 20_000 });
  await page.waitForURL(`${op.url}/account`, { timeout: 20_000 });
}

/** Activates `control` from the keyboard (Tab to it, Enter) and waits for the navigation it starts. */
async function pressWithKeyboard(page: Page, control: Locator): Promise<void> {
  await tabTo(page, control);
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
}

/** Downloads the export by the keyboard (Tab to the link, Enter) and reads the file. */
async function downloadExport(page: Page): Promise<unknown> {
  await tabTo(page, page.getByRole('link', { name: en('export') }));
  const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
  expect(download.suggestedFilename()).toBe('myna-account.json');
  return JSON.parse(await readFile(await download.path(), 'utf8'));
}

describe('the checks themselves', () => {
  it('axe reports what is wrong and CSP violations are recorded (so an empty list means something)', async () => {
    const broken = await servePage(
      "img-src 'none'",
      '<!DOCTYPE html><html><title>x</title><img src="/pic.svg"><button></button></html>',
    );
    try {
      const { page, csp } = await newPage();
      await page.goto(broken.url);
      const rules = (await axeViolations(page)).map((violation) => violation.id);
      expect(rules).toEqual(expect.arrayContaining(['image-alt', 'button-name', 'html-has-lang']));
      expect(csp).toEqual([expect.stringMatching(/^img-src /)]);
    } finally {
      await broken.close();
    }
  }, 30_000);
});

describe('My account in Chromium', () => {
  it('signs in with the card by keyboard; overview in English and Japanese passes axe, every control reachable by Tab', async () => {
    const news = await rpSignIn(clients.news);
    await rpSignIn(clients.shop);
    const { page, csp } = await newPage();
    await signInToAccount(page);
    await expect(page.getByRole('heading', { level: 1, name: en('heading') }).count()).resolves.toBe(1);
    await expect(page.getByText(pseudonymFingerprint(news.sub)).count()).resolves.toBe(1);
    // The shop's logo is shown (loaded under the page's CSP, which admits its origin).
    const logo = page.locator('.service img.rp-logo');
    await expect(
      logo.evaluate((image) => (image as unknown as { naturalWidth: number }).naturalWidth),
    ).resolves.toBeGreaterThan(0);
    await expectAccessible(page);
    // Every control of the page in order, by the keyboard alone.
    for (const control of [
      page.getByRole('button', { name: en('withdraw', { name: 'Daily News' }) }),
      page.getByRole('button', { name: en('withdraw', { name: 'Example Shop' }) }),
      page.getByRole('link', { name: en('export') }),
      page.getByRole('button', { name: en('signOutEverywhere') }),
      page.getByRole('link', { name: en('deleteAccount') }),
      page.getByRole('button', { name: en('signOut') }),
    ]) {
      await tabTo(page, control);
    }
    const { page: japanese } = await newPage('ja-JP');
    await signInToAccount(japanese);
    await expect(
      japanese.getByRole('heading', { level: 1, name: accountText('ja', 'heading') }).count(),
    ).resolves.toBe(1);
    await expect(japanese.getByRole('heading', { level: 3, name: '毎日ニュース' }).count()).resolves.toBe(1);
    await expectAccessible(japanese);
    expect(csp).toEqual([]);
  }, 120_000);

  it('withdraw: the RP receives a valid logout token for its sub and its refresh token stops working', async () => {
    const news = await rpSignIn(clients.news);
    const { page, csp } = await newPage();
    await signInToAccount(page);
    await pressWithKeyboard(page, page.getByRole('button', { name: en('withdraw', { name: 'Daily News' }) }));
    await page
      .getByRole('status')
      .filter({ hasText: en('doneWithdrawn', { name: 'Daily News' }) })
      .waitFor();
    await expectAccessible(page);
    await expectWithdrawn(backchannel, op.url, news);
    // Nothing left to withdraw for it.
    await expect(
      page.getByRole('button', { name: en('withdraw', { name: 'Daily News' }) }).count(),
    ).resolves.toBe(0);
    expect(csp).toEqual([]);
  }, 90_000);

  it('sign out everywhere: the session the RP knows ends with a logout token naming it', async () => {
    const news = await rpSignIn(clients.news);
    const { page, csp } = await newPage();
    await signInToAccount(page);
    await pressWithKeyboard(page, page.getByRole('button', { name: en('signOutEverywhere') }));
    await page
      .getByRole('status')
      .filter({ hasText: en('doneSignedOutEverywhere') })
      .waitFor();
    await expectAccessible(page);
    const [logout] = await backchannel.verifiedFor('rp-news', op.url);
    expect(logout).toMatchObject({ sub: news.sub, sid: news.tokens.claims()?.sid });
    expect(csp).toEqual([]);
  }, 90_000);

  it('export: the downloaded file holds the services and fingerprints the page shows', async () => {
    await rpSignIn(clients.news);
    await rpSignIn(clients.shop);
    const { page, csp } = await newPage();
    await signInToAccount(page);
    const exported = (await downloadExport(page)) as {
      services: { clientId: string; name?: string; pseudonymFingerprint?: string }[];
    };
    const shown = await page.locator('.fingerprint').allTextContents();
    expect(shown).toEqual(exported.services.map((service) => service.pseudonymFingerprint));
    const names = await page.locator('.service h3').allTextContents();
    expect(names).toEqual(exported.services.map((service) => service.name));
    expect(csp).toEqual([]);
  }, 90_000);

  it('delete: the confirmation explains (a record the service must keep stays, unlinked), needs the box ticked, and then a dump of the table finds nothing of the account', async () => {
    await rpSignIn(clients.news);
    const { page, csp } = await newPage();
    await signInToAccount(page);
    const exported = (await downloadExport(page)) as {
      accountId: string;
      account: { certificates: { certificateKey: string }[] };
    };
    const needles = [
      exported.accountId,
      ...exported.account.certificates.map((entry) => entry.certificateKey),
    ];
    // A record of an identity check the service must keep (the link the OP writes when it retains one).
    await new ReleaseHistory(table).recordEvidence({
      accountId: exported.accountId,
      clientId: 'rp-news',
      recordId: 'record-0001',
      createdAt: new Date(),
      keptUntil: new Date(Date.now() + 400 * 24 * 3600 * 1000),
    });
    await page.reload();
    await expect(page.getByText(en('retainedEvidenceHelp', { name: 'Daily News' })).count()).resolves.toBe(1);
    await expectAccessible(page);
    await pressWithKeyboard(page, page.getByRole('link', { name: en('deleteAccount') }));
    await page.getByRole('heading', { level: 1, name: en('deleteTitle') }).waitFor();
    await expect(page.getByText(en('deleteConsequencePseudonym')).count()).resolves.toBe(1);
    await expect(
      page.getByText(/^Daily News must keep a record of your identity check until /).count(),
    ).resolves.toBe(1);
    await expectAccessible(page);
    // Without the box ticked the browser does not send the form.
    const submit = page.getByRole('button', { name: en('deleteSubmit') });
    await tabTo(page, submit);
    await page.keyboard.press('Enter');
    await page.waitForTimeout(300);
    expect(new URL(page.url()).pathname).toBe('/account/delete');
    expect((await itemsNaming(table, needles)).length).toBeGreaterThan(0);
    await tabTo(page, page.getByRole('checkbox', { name: en('deleteConfirm') }));
    await page.keyboard.press('Space');
    await pressWithKeyboard(page, submit);
    await page.waitForURL(`${op.url}/account/deleted`);
    await expect(page.getByText(en('deletedText')).count()).resolves.toBe(1);
    await expectAccessible(page);
    expect(await itemsNaming(table, needles)).toEqual([]);
    expect(backchannel.tokens.map((entry) => entry.clientId)).toEqual(['rp-news']);
    expect(csp).toEqual([]);
  }, 90_000);

  it('sign out of the page; a form from another site is refused (no forged headers: what Chromium sends)', async () => {
    const { page, csp } = await newPage();
    await signInToAccount(page);
    await expectAccessible(page);
    const token = await page.locator('input[name="csrf"]').first().getAttribute('value');
    // Another site (localhost is another site than 127.0.0.1) posts a form at the page, even with the token.
    const evil = await evilSite(`${op.url}/account/sign-out-everywhere`, token ?? '');
    try {
      const other = await page.context().newPage();
      await other.goto(evil.url);
      await Promise.all([other.waitForNavigation(), other.getByRole('button').click()]);
      expect(new URL(other.url()).pathname).toBe('/account/sign-out-everywhere');
      await expect(other.getByText('FORM_REFUSED').count()).resolves.toBe(1);
      await expectAccessible(other);
    } finally {
      await evil.close();
    }
    await pressWithKeyboard(page, page.getByRole('button', { name: en('signOut') }));
    await page.waitForURL(`${op.url}/account/signed-out`);
    await expectAccessible(page);
    // Signed out: the page asks for the card again.
    await page.goto(`${op.url}/account`);
    await page.waitForURL(/\/interaction\//);
    expect(csp).toEqual([]);
  }, 90_000);
});

/** A page of another site (http://localhost) with a form posting `csrf` to `action`. */
function evilSite(action: string, csrf: string): Promise<{ url: string; close(): Promise<void> }> {
  return servePage(
    "default-src 'none'",
    `<!DOCTYPE html><html lang="en"><title>Win a prize</title><form method="post" action="${action}"><input type="hidden" name="csrf" value="${csrf}"><button>Claim</button></form></html>`,
  );
}

/** Serves `html` with the CSP `csp` at http://localhost:<port>/ (another site than the OP's 127.0.0.1). */
async function servePage(csp: string, html: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp });
    response.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

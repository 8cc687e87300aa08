/**
 * The login page's DOM binding in real Chromium (playwright-core, /usr/bin/chromium): the page
 * served by a test OP on http://127.0.0.1 (a loopback page: Local Network Access does not apply,
 * so the page connects at once), the real reader-helper daemon with a virtual card (a right PIN
 * resets its tries, so the tests share it), and the person
 * at the PC scripted as the helper's PIN window (ScriptedPinEntry). Covers the wiring the state
 * machine tests (login-flow.test.ts) cannot: the click, the texts shown, the socket, the posts,
 * the card-answer page clearing its fragment before it posts; and the identity step (the signing
 * password in the helper window, the consent page by keyboard, its card-answer page). The three
 * engines over https on a public address are test/e2e's.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { readerWithVirtualCard, ScriptedPinEntry } from '../../dev-card/virtual-card-tools.js';
import type { OpServer } from '../../functions/op/local-server.js';
import { fill, message } from '../../functions/op/login-page/messages.js';
import { encodeCardAnswer } from '../../protocol/helper-protocol.js';
import { CardService } from '../../reader-helper/card/card-service.js';
import { type HelperDaemon, startHelperDaemon } from '../../reader-helper/daemon/server.js';
import { createLogger } from '../../reader-helper/log.js';
import { PinEntryError, type PinRequest } from '../../reader-helper/pin-entry/pin-entry.js';
import type { CardIdentity } from '../../reader-helper/virtual-card/identity.js';
import { useLocalTables } from '../storage/local-table.js';
import { freePort, launchChromium } from '../support/browser.js';
import { aliceCard } from '../support/card.js';
import {
  authorizationRequest,
  CHALLENGE_NONCE,
  relyingParty,
  VirtualCardSigner,
} from '../support/oidc-flow.js';
import { startTestOp, TEST_CLIENTS } from '../support/op-stack.js';
import { startIdentityOp } from './identity-op.js';

const newTable = useLocalTables();
const A = TEST_CLIENTS.firstParty;
const REDIRECT_URI = A.redirect_uris[0] as string;
const en = (key: Parameters<typeof message>[1]) => message('en', key);

/** One PIN window the person has in front of them: what it asks, and the PIN they type. */
interface OpenWindow {
  readonly request: PinRequest;
  type(pin: string): void;
}

/** The person at the PC: each PIN window waits until the test types into it. */
class Person {
  readonly #waiting: ((window: OpenWindow) => void)[] = [];
  readonly #open: OpenWindow[] = [];
  readonly pinEntry = new ScriptedPinEntry(
    (request) =>
      new Promise<string>((resolve, reject) => {
        // The helper closes the window when the page goes away (the test ended early).
        request.signal.addEventListener('abort', () =>
          reject(new PinEntryError('CANCELLED', 'window closed')),
        );
        const window = { request, type: resolve };
        const waiter = this.#waiting.shift();
        if (waiter) waiter(window);
        else this.#open.push(window);
      }),
  );

  /** The next PIN window (waits for it). */
  nextWindow(): Promise<OpenWindow> {
    const open = this.#open.shift();
    return open ? Promise.resolve(open) : new Promise((resolve) => this.#waiting.push(resolve));
  }
}

let identity: CardIdentity;
let op: OpServer;
let helper: HelperDaemon;
let cards: CardService;
let person: Person;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: string[];
/** Every request the tab made to the relying party (its redirect URI is never reached: no network). */
let rpRequests: string[];
/** Every request the tab made to the helper's navigation path. */
let helperRequests: URL[];

beforeAll(async () => {
  identity = (await aliceCard()).identity;
  browser = await launchChromium();
  person = new Person();
  cards = new CardService(readerWithVirtualCard('Virtual Reader 0', identity));
  helper = await startHelperDaemon({
    cards,
    port: 0,
    allowedOrigins: [],
    dev: true,
    helperVersion: 'test',
    logger: createLogger({ level: 'error' }),
    pinEntry: person.pinEntry,
  });
  op = await startTestOp({ table: await newTable(), helperPort: helper.port });
});
afterAll(async () => {
  await browser?.close();
  await op?.close();
  await helper?.close();
  await cards?.close();
});

/** A fresh tab per test. */
beforeEach(async () => {
  context = await browser.newContext({ locale: 'en-US' });
  page = await context.newPage();
  problems = [];
  rpRequests = [];
  helperRequests = [];
  page.on('pageerror', (error) => problems.push(String(error)));
  page.on('request', (request) => {
    if (request.url().startsWith(REDIRECT_URI)) rpRequests.push(request.url());
    if (request.url().startsWith(`http://127.0.0.1:${helper.port}/authenticate?`)) {
      helperRequests.push(new URL(request.url()));
    }
  });
});
afterEach(async () => {
  await context?.close();
});

async function openLoginPage(server = op): Promise<void> {
  const rp = await relyingParty({ issuer: server.url, clientId: A.client_id, clientSecret: A.client_secret });
  const { url } = await authorizationRequest(rp, REDIRECT_URI);
  await page.goto(url.href);
  await page.locator('#myna-login').waitFor();
}

const status = () => page.locator('#status');
/** The URL the page sent the browser to at the relying party (with the code). */
async function atRelyingParty(): Promise<URL> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const [reached] = rpRequests;
    if (reached) return new URL(reached);
    if (Date.now() > deadline)
      throw new Error(`not back at the RP; the page says: ${await status().textContent()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the login page in Chromium', () => {
  it('signs in over the WebSocket: click, PIN in the helper window (the page names the site), back at the RP', async () => {
    await openLoginPage();
    await status()
      .filter({ hasText: en('stateReady') })
      .waitFor();
    await page.getByRole('button', { name: en('start'), exact: true }).click();
    const window = await person.nextWindow();
    expect(window.request).toMatchObject({
      origin: op.url,
      language: 'en',
      triesLeft: 3,
      purpose: 'sign-in',
    });
    await status()
      .filter({ hasText: fill(en('statePinWindow'), { site: op.url }) })
      .waitFor();
    // Nothing on the page takes a PIN.
    expect(await page.locator('input, textarea, [contenteditable]').count()).toBe(0);
    window.type(identity.userAuthPin);
    expect((await atRelyingParty()).searchParams.get('code')).toEqual(expect.any(String));
    expect(problems).toEqual([]);
  });

  it('the first page uses the challenge its ticket names and takes the ticket out of the address: a reload gets a new one', async () => {
    const renewals: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().endsWith('/challenge')) renewals.push(request.url());
    });
    const ticketed: string[] = [];
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame() && frame.url().includes('ticket=')) ticketed.push(frame.url());
    });
    await openLoginPage();
    expect(ticketed).toHaveLength(1);
    await status()
      .filter({ hasText: en('stateReady') })
      .waitFor();
    expect(new URL(page.url()).searchParams.has('ticket')).toBe(false);
    const first = await page.locator('#myna-login').getAttribute('data-nonce');
    await page.reload();
    await page.locator('#myna-login').waitFor();
    // Made from the interaction this time, with a new challenge of its own.
    const second = await page.locator('#myna-login').getAttribute('data-nonce');
    expect(second).toMatch(CHALLENGE_NONCE);
    expect(second).not.toBe(first);
    await page.getByRole('button', { name: en('start'), exact: true }).click();
    (await person.nextWindow()).type(identity.userAuthPin);
    expect((await atRelyingParty()).searchParams.get('code')).toEqual(expect.any(String));
    expect(renewals).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('a wrong PIN: tries left on the page, "Try again" opens the helper window again', async () => {
    await openLoginPage();
    await page.getByRole('button', { name: en('start'), exact: true }).click();
    (await person.nextWindow()).type('0000');
    const wrong = fill(en('triesLeft'), { message: en('HELPER_PIN_INCORRECT'), n: 2 });
    await page.locator('#alert').filter({ hasText: wrong }).waitFor();
    const retry = page.getByRole('button', { name: en('retry'), exact: true });
    expect(await page.locator('#retry:focus').count()).toBe(1);
    await retry.click();
    const second = await person.nextWindow();
    expect(second.request.triesLeft).toBe(2);
    second.type(identity.userAuthPin);
    await atRelyingParty();
    expect(problems).toEqual([]);
  });

  it('the helper not running: says both causes, links its status page, offers "Try again"', async () => {
    // An OP whose page looks for the helper on a port where nothing listens.
    const lonely = await startTestOp({ table: await newTable(), helperPort: await freePort() });
    try {
      await openLoginPage(lonely);
      await status()
        .filter({ hasText: en('stateNoHelper') })
        .waitFor({ timeout: 20_000 })
        .catch(async (error: unknown) => {
          throw new Error(`the page says: ${await status().textContent()}`, { cause: error });
        });
      expect(await page.locator('#hint').textContent()).toBe(en('stateNoHelperReasons'));
      expect(await page.locator('#status-link').isVisible()).toBe(true);
      expect(await page.getByRole('button', { name: en('retry'), exact: true }).isVisible()).toBe(true);
      expect(await page.locator('#start').isVisible()).toBe(false);
    } finally {
      await lonely.close();
    }
  }, 45_000);
});

describe('the card-answer page in Chromium', () => {
  it('takes the answer out of the address bar before posting it, then signs in', async () => {
    await openLoginPage();
    const root = page.locator('#myna-login');
    const data = {
      nonce: await root.getAttribute('data-nonce'),
      returnUrl: await root.getAttribute('data-return-url'),
    };
    const signer = new VirtualCardSigner(identity);
    const answer = await signer.sign(op.url, data.nonce as string).finally(() => signer.close());
    let urlWhenPosted: string | undefined;
    await page.route('**/login', (route) => {
      urlWhenPosted = page.url();
      return route.continue();
    });
    await page.goto(
      `${data.returnUrl}#${encodeCardAnswer({ v: 2, nonce: data.nonce as string, ...answer })}`,
    );
    await atRelyingParty();
    expect(urlWhenPosted).toBe(data.returnUrl);
    expect(problems).toEqual([]);
  });

  it('the navigation path: "Try again" takes a new challenge, goes to the helper’s page, a wrong PIN comes back, then the right one signs in', async () => {
    await openLoginPage();
    const returnUrl = (await page.locator('#myna-login').getAttribute('data-return-url')) as string;
    // The card-answer page without an answer (nothing to post): it offers to go to the helper.
    await page.goto(returnUrl);
    const retry = page.getByRole('button', { name: en('retry'), exact: true });
    // Chromium reports the request to the test over CDP, which may come after the helper (in this
    // process) has already opened its window: wait for the report itself.
    const navigation = page.waitForRequest((request) =>
      request.url().startsWith(`http://127.0.0.1:${helper.port}/authenticate?`),
    );
    await retry.click();
    const first = await person.nextWindow();
    expect(first.request).toMatchObject({ origin: op.url, language: 'en', triesLeft: 3 });
    // The browser went to the helper's page with the renewed challenge and this page as the way back.
    const toHelper = new URL((await navigation).url());
    expect(helperRequests).toHaveLength(1);
    expect(toHelper.searchParams.get('return')).toBe(returnUrl);
    expect(toHelper.searchParams.get('nonce')).toMatch(CHALLENGE_NONCE);
    first.type('0000');
    const wrong = fill(en('triesLeft'), { message: en('HELPER_PIN_INCORRECT'), n: 2 });
    await page.locator('#alert').filter({ hasText: wrong }).waitFor({ timeout: 20_000 });
    // Back on the OP, the answer already out of the address bar.
    expect(page.url()).toBe(returnUrl);
    await retry.click();
    const second = await person.nextWindow();
    expect(second.request.triesLeft).toBe(2);
    second.type(identity.userAuthPin);
    expect((await atRelyingParty()).searchParams.get('code')).toEqual(expect.any(String));
    expect(problems).toEqual([]);
  });

  it('a navigation to the helper that leaves the page where it was (no answer, Esc) offers "Try again" after a while', async () => {
    await page.clock.install();
    await openLoginPage();
    const returnUrl = (await page.locator('#myna-login').getAttribute('data-return-url')) as string;
    await page.goto(returnUrl);
    // The helper's answer that does not replace the page (as after Esc, or a helper that never answers).
    let asked = 0;
    await page.route(`http://127.0.0.1:${helper.port}/authenticate?*`, (route) => {
      asked++;
      return route.fulfill({ status: 204 });
    });
    const retry = page.getByRole('button', { name: en('retry'), exact: true });
    await retry.click();
    await status()
      .filter({ hasText: en('stateNavigating') })
      .waitFor();
    await page.clock.runFor(20_000);
    expect(await retry.isVisible()).toBe(false);
    await page.clock.runFor(6_000);
    await page
      .locator('#alert')
      .filter({ hasText: en('stateNavigationStalled') })
      .waitFor();
    expect(await retry.isVisible()).toBe(true);
    expect(page.url()).toBe(returnUrl);
    expect(asked).toBe(1);
    await retry.click();
    await status()
      .filter({ hasText: en('stateNavigating') })
      .waitFor();
    expect(asked).toBe(2);
    expect(problems).toEqual([]);
  });

  it('an unreadable answer: cleared from the address bar, says so, offers "Try again"', async () => {
    await openLoginPage();
    const returnUrl = await page.locator('#myna-login').getAttribute('data-return-url');
    await page.goto(`${returnUrl}#myna-answer=garbage`);
    await page
      .locator('#alert')
      .filter({ hasText: en('stateAnswerUnreadable') })
      .waitFor();
    expect(page.url()).toBe(returnUrl);
    expect(await page.getByRole('button', { name: en('retry'), exact: true }).isVisible()).toBe(true);
  });
});

describe('the identity step in Chromium', () => {
  let identityOp: OpServer;
  beforeAll(async () => {
    identityOp = await startIdentityOp({ table: await newTable(), helperPort: helper.port });
  });
  afterAll(async () => {
    await identityOp?.close();
  });

  /** Opens an authorization of RP A asking for `params` at the identity OP and signs in with the card. */
  async function signInForIdentity(params: Record<string, string>): Promise<void> {
    const rp = await relyingParty({
      issuer: identityOp.url,
      clientId: A.client_id,
      clientSecret: A.client_secret,
    });
    const { url } = await authorizationRequest(rp, REDIRECT_URI, params);
    await page.goto(url.href);
    await page.getByRole('button', { name: en('start'), exact: true }).click();
    (await person.nextWindow()).type(identity.userAuthPin);
    await page.getByRole('heading', { name: en('identityTitle') }).waitFor({ timeout: 20_000 });
  }

  it('over the WebSocket: the signing password in the helper window, its tries, the consent page by keyboard, back at the RP', async () => {
    await signInForIdentity({ scope: 'openid name', claims: JSON.stringify({ id_token: { gender: null } }) });
    await page.getByRole('button', { name: en('identityStart'), exact: true }).click();
    const first = await person.nextWindow();
    expect(first.request).toMatchObject({
      origin: identityOp.url,
      secret: 'signing-password',
      purpose: 'verify-identity',
      triesLeft: 5,
    });
    await status()
      .filter({ hasText: fill(en('identityStatePinWindow'), { site: identityOp.url }) })
      .waitFor();
    first.type('WRONG1');
    const wrong = fill(en('triesLeft'), { message: en('IDENTITY_PIN_INCORRECT'), n: 4 });
    await page.locator('#alert').filter({ hasText: wrong }).waitFor({ timeout: 20_000 });
    await page.getByRole('button', { name: en('retry'), exact: true }).click();
    const second = await person.nextWindow();
    expect(second.request.triesLeft).toBe(4);
    const pinWindow = fill(en('identityStatePinWindow'), { site: identityOp.url });
    await status()
      .filter({ hasText: fill(en('identityTriesBefore'), { message: pinWindow, n: 4 }) })
      .waitFor();
    second.type(identity.signingPin);
    // The consent page (server-rendered, no script): required name fixed, optional gender ticked.
    const share = page.getByRole('button', { name: en('identityConsentAllow'), exact: true });
    await share.waitFor({ timeout: 20_000 });
    const name = page.getByRole('checkbox', { name: /^Name/ });
    const gender = page.getByRole('checkbox', { name: /^Gender/ });
    expect([await name.isChecked(), await name.isDisabled()]).toEqual([true, true]);
    expect([await gender.isChecked(), await gender.isDisabled()]).toEqual([true, false]);
    expect(await page.getByRole('group', { name: 'What RP A receives' }).count()).toBe(1);
    // By keyboard: Space unticks the focused box, Tab reaches "share", Enter sends.
    await gender.focus();
    await page.keyboard.press('Space');
    expect(await gender.isChecked()).toBe(false);
    await page.keyboard.press('Tab');
    expect(await share.evaluate((button) => button === button.ownerDocument.activeElement)).toBe(true);
    await page.keyboard.press('Enter');
    expect((await atRelyingParty()).searchParams.get('code')).toEqual(expect.any(String));
    expect(problems).toEqual([]);
  });

  it('the card-answer page of the identity step posts the identity answer from the fragment', async () => {
    await signInForIdentity({ scope: 'openid birthdate' });
    const root = page.locator('#myna-login');
    expect(await root.getAttribute('data-purpose')).toBe('verify-identity');
    const data = {
      nonce: (await root.getAttribute('data-nonce')) as string,
      returnUrl: (await root.getAttribute('data-return-url')) as string,
    };
    // The helper's answer, made with the card as the helper makes it, brought back in the fragment.
    const signer = new VirtualCardSigner(identity);
    const answer = await signer.verifyIdentity(identityOp.url, data.nonce).finally(() => signer.close());
    const fragment = encodeCardAnswer({
      v: 2,
      nonce: data.nonce,
      purpose: 'verify-identity',
      ...answer,
    });
    await page.goto(`${data.returnUrl}#${fragment}`);
    await page
      .getByRole('button', { name: en('identityConsentAllow'), exact: true })
      .click({ timeout: 20_000 });
    expect((await atRelyingParty()).searchParams.get('code')).toEqual(expect.any(String));
    expect(problems).toEqual([]);
  });
});

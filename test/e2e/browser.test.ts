/**
 * End to end in a real browser: Debian's Chromium opens the demo RP, signs in through the OP's
 * login page, whose script talks to the reader-helper, which reaches the virtual card through a
 * REAL pcscd with the vsmartcard vpcd driver; the person types the PIN into the helper's own
 * window (zenity on a private Xvfb, typed into with xdotool), never into the page. Fails loudly
 * (never skips) without pcscd, vpcd, Chromium, Xvfb, zenity or xdotool; the README's test command
 * installs them.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { fill, message } from '../../functions/op/login-page/messages.js';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { PcscReaderBackend } from '../../reader-helper/pcsc/pcsc-backend.js';
import { createPinEntry } from '../../reader-helper/pin-entry/pin-entry.js';
import { type CardIdentity, loadIdentity } from '../../reader-helper/virtual-card/identity.js';
import { VirtualJpkiCard } from '../../reader-helper/virtual-card/virtual-jpki-card.js';
import { VpcdConnector } from '../../reader-helper/virtual-card/vpcd-connector.js';
import { freePort, launchChromium, signInWithHelperWindow } from '../support/browser.js';
import { ensurePcscd, type PcscdHandle } from '../support/pcscd.js';
import { PinDialogUser } from '../support/pin-dialog-user.js';
import { startXvfb, type XDisplay } from '../support/xvfb.js';

let pcscd: PcscdHandle;
let xdisplay: XDisplay;
let person: PinDialogUser;
let stack: LocalStack;
let card: VpcdConnector;
let identity: CardIdentity;
let browser: Browser;
const quiet = () => {};

/** Where a stack runs; a restart reuses it (the pairwise sector is the RP's host:port). */
interface StackPlace {
  readonly dataDir: string;
  readonly opPort: number;
  readonly rpPort: number;
  readonly helperPort: number;
}

async function newPlace(): Promise<StackPlace> {
  return {
    dataDir: await mkdtemp(join(tmpdir(), 'myna-e2e-')),
    opPort: await freePort(),
    rpPort: await freePort(),
    helperPort: await freePort(),
  };
}

let place: StackPlace;

async function stackWith(runHelper: boolean, at?: StackPlace): Promise<LocalStack> {
  return startLocalStack({
    ...(at ?? (await newPlace())),
    dynamoPort: 0,
    runHelper,
    readers: runHelper ? new PcscReaderBackend() : undefined,
    pinEntry: createPinEntry({ env: xdisplay.env }),
    log: quiet,
  });
}

/** Opens the RP in a fresh browser context and goes to the OP's login page. */
async function openLoginPage(rpUrl: string): Promise<Page> {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(rpUrl);
  await page.getByRole('button', { name: 'Sign in with MyNumber card' }).click();
  await page.waitForURL(/\/interaction\//);
  return page;
}

beforeAll(async () => {
  pcscd = await ensurePcscd();
  xdisplay = await startXvfb();
  person = new PinDialogUser(xdisplay);
  place = await newPlace();
  stack = await stackWith(true, place);
  identity = await loadIdentity(stack.identityDir);
  card = new VpcdConnector(new VirtualJpkiCard(identity));
  card.start();
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  card?.stop();
  await stack?.close();
  if (pcscd?.owned) await pcscd.stop();
  await xdisplay?.stop();
});

describe('sign in with the (virtual) MyNumber card in Chromium', () => {
  it('a wrong PIN typed in the helper window shows the tries left; the page never had a PIN field', async () => {
    const page = await openLoginPage(stack.rpUrl);
    await signInWithHelperWindow(page, person, '0000');
    await page.locator('#alert', { hasText: /\b2 tries left/ }).waitFor({ timeout: 20_000 });
    expect(await page.locator('#alert').textContent()).toBe(
      fill(message('en', 'triesLeft'), { message: message('en', 'HELPER_PIN_INCORRECT'), n: 2 }),
    );
    expect(await page.locator('input').count()).toBe(0);
    await page.context().close();
  }, 60_000);

  /** Signs in with the right PIN and returns the ID token claims the RP shows. */
  async function signIn(rpUrl: string): Promise<Record<string, unknown>> {
    const page = await openLoginPage(rpUrl);
    // Through pcscd the card may take a moment to show up after a start: the window opens then.
    await signInWithHelperWindow(page, person, identity.userAuthPin, 30_000);
    await page.waitForURL(`${rpUrl}/`, { timeout: 30_000 });
    const claims = JSON.parse((await page.locator('#claims').textContent()) ?? '{}');
    await page.context().close();
    return claims;
  }

  it('the right PIN lands back on the RP showing the ID token claims', async () => {
    const claims = await signIn(stack.rpUrl);
    expect(claims).toMatchObject({ acr: 'urn:myna-oidc:acr:jpki-user-auth', amr: ['sc', 'pin', 'hwk'] });
    expect(claims.sub).toMatch(/^[A-Za-z0-9_-]{43}$/);
  }, 60_000);

  it('a second start keeps the data: the same card gets the same sub', async () => {
    const first = await signIn(stack.rpUrl);
    // The virtual card answers vpcd on this process's event loop, and the helper's PC/SC disconnect
    // on close is synchronous (smartcard's Card.disconnect): with the card still in, pcscd can wait
    // on the card while the card waits on this thread, and the run hangs. A real card answers pcscd
    // by itself; here the card is taken out before the helper stops and put back after it restarts.
    card.stop();
    await stack.close();
    stack = await stackWith(true, place);
    card = new VpcdConnector(new VirtualJpkiCard(await loadIdentity(stack.identityDir)));
    card.start();
    const second = await signIn(stack.rpUrl);
    expect(second.sub).toBe(first.sub);
  }, 90_000);

  it('without a reachable helper the page names both causes and links its status page and the guide', async () => {
    const noHelper = await stackWith(false);
    try {
      const page = await openLoginPage(noHelper.rpUrl);
      await page.locator('#guide').waitFor({ state: 'visible', timeout: 20_000 });
      expect(await page.locator('#status').textContent()).toBe(message('en', 'stateNoHelper'));
      expect(await page.locator('#hint').textContent()).toBe(message('en', 'stateNoHelperReasons'));
      expect(await page.locator('#status-link').getAttribute('href')).toMatch(
        /^http:\/\/127\.0\.0\.1:\d+\/$/,
      );
      expect(await page.locator('#guide-link').getAttribute('href')).toMatch(/#for-people-using-the-helper$/);
      await page.context().close();
    } finally {
      await noHelper.close();
    }
  }, 60_000);
});

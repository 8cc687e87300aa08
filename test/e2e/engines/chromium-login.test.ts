/**
 * A full login in real Chromium (playwright-core, headless) from the demo RP's sign-in button to
 * its signed-in page, through the OP on https on a public address and the real helper with the
 * virtual card, the PIN typed into the helper's own window — for each state of Chromium's Local
 * Network Access permission (`loopback-network`):
 * - granted: the page talks to the helper over the WebSocket;
 * - denied: the page says how to re-allow it, and the login goes through the navigation path;
 * - prompt (the default): the page explains before the click and does not touch the helper before
 *   it; headless Chromium denies the prompt silently, and the page falls back to navigation.
 * Which path a login took is read from the helper's own log, not only from the page. Also a wrong
 * PIN, then the right one.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { message } from '../../../functions/op/login-page/messages.js';
import {
  denyLoopbackAccess,
  grantLoopbackAccess,
  initiatorAddressSpaces,
  launchChromiumForPublicSite,
} from '../../support/browsers/chromium.js';
import {
  claimsAtRp,
  clickWhenShown,
  type EnginePage,
  enterPinInHelperWindow,
  openLoginPage,
  playwrightPage,
  START_BUTTON,
  signIn,
  waitForText,
  waitUntil,
  wrongPinFor,
} from '../../support/browsers/login-flow.js';
import { type EngineLoginHarness, startEngineLoginHarness } from '../../support/browsers/login-harness.js';
import { expectCardLogin, wrongPinText } from './card-login.js';

let harness: EngineLoginHarness;
let browser: Browser;

beforeAll(async () => {
  harness = await startEngineLoginHarness();
  browser = await launchChromiumForPublicSite(harness.site);
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await harness?.close();
});

/** A fresh context (no permission decided yet) and its page, also as an EnginePage. */
async function newPage(): Promise<{ page: Page; engine: EnginePage }> {
  const page = await (await browser.newContext({ locale: 'en-US' })).newPage();
  return { page, engine: playwrightPage(page) };
}

describe('a full login in Chromium, the OP on a public https site', () => {
  it('permission granted: the WebSocket path', async () => {
    const { page, engine } = await newPage();
    await grantLoopbackAccess(page.context(), harness.site.origin);
    const mark = harness.helperLog.mark();
    expectCardLogin(await signIn(engine, harness), harness);
    expect(harness.helperLog.authentications(mark)).toEqual({ websocket: 1, navigation: 0 });
    expect(harness.helperLog.webSocketConnections(mark)).toBeGreaterThanOrEqual(1);
    await page.context().close();
  }, 30_000);

  it('permission denied: the page says how to re-allow it, and the login takes the navigation path', async () => {
    const { page, engine } = await newPage();
    const permissions = await denyLoopbackAccess(browser, page, harness.site.origin);
    const mark = harness.helperLog.mark();
    await openLoginPage(engine, harness);
    expect(await waitForText(engine, '#hint', /Local network access/)).toBe(
      message('en', 'hintDeniedChromium'),
    );
    await clickWhenShown(engine, START_BUTTON);
    await enterPinInHelperWindow(engine, harness, harness.identity.userAuthPin);
    expectCardLogin(await claimsAtRp(engine, harness), harness);
    expect(harness.helperLog.authentications(mark)).toEqual({ websocket: 0, navigation: 1 });
    expect(harness.helperLog.webSocketConnections(mark)).toBe(0);
    await permissions.detach();
    await page.context().close();
  }, 30_000);

  it('permission prompt: explained before the click, nothing sent before it, then the navigation path by itself', async () => {
    const { page, engine } = await newPage();
    const addressSpaces = await initiatorAddressSpaces(page);
    const mark = harness.helperLog.mark();
    await openLoginPage(engine, harness);
    expect(await waitForText(engine, '#hint', /Allow/)).toBe(message('en', 'hintPromptChromium'));
    // What makes the test meaningful: Chromium sees the OP's page as a public site (its
    // requests for the page's script and style sheet have a Public initiator).
    await waitUntil(
      async () => addressSpaces.includes('Public'),
      'a request of the login page with a Public initiator',
      5000,
    );
    expect(
      await page.evaluate("navigator.permissions.query({ name: 'loopback-network' }).then((s) => s.state)"),
    ).toBe('prompt');
    // The page is ready and waits for the person: for a second, no PIN window, and the helper
    // has seen nothing from it.
    await waitForText(engine, START_BUTTON, /Sign in/);
    expect(await harness.person.noDialogWithin(1000)).toBe(true);
    expect(harness.helperLog.webSocketConnections(mark)).toBe(0);
    expect(harness.helperLog.authentications(mark)).toEqual({ websocket: 0, navigation: 0 });
    await engine.click(START_BUTTON);
    await enterPinInHelperWindow(engine, harness, harness.identity.userAuthPin);
    expectCardLogin(await claimsAtRp(engine, harness), harness);
    expect(harness.helperLog.authentications(mark)).toEqual({ websocket: 0, navigation: 1 });
    expect(harness.helperLog.webSocketConnections(mark)).toBe(0);
    await page.context().close();
  }, 30_000);

  it('a wrong PIN shows the tries left; "Try again" and the right PIN sign in', async () => {
    const { page, engine } = await newPage();
    await grantLoopbackAccess(page.context(), harness.site.origin);
    await openLoginPage(engine, harness);
    await clickWhenShown(engine, START_BUTTON);
    await enterPinInHelperWindow(engine, harness, wrongPinFor(harness.identity.userAuthPin));
    expect(await waitForText(engine, '#alert', /tries left/)).toBe(wrongPinText('en', 2));
    await clickWhenShown(engine, '#retry');
    await enterPinInHelperWindow(engine, harness, harness.identity.userAuthPin);
    expectCardLogin(await claimsAtRp(engine, harness), harness);
    await page.context().close();
  }, 30_000);
});

/**
 * A full login in real WebKitGTK (Safari's engine: MiniBrowser through WebKitWebDriver under the
 * test's Xvfb, raw W3C WebDriver) from the demo RP's sign-in button to its signed-in page, through
 * the OP on https on a public address and the real helper with the virtual card, the PIN typed
 * into the helper's own window. WebKit blocks `ws://127.0.0.1` from an https page as mixed
 * content (the first test shows the helper never sees such a socket), so the page takes the
 * navigation path: to the helper's page on 127.0.0.1 and back to the OP with the card's answer.
 * Which path it took is read from the helper's own log. Also a wrong PIN (the tries left shown
 * on the page after the helper brought the browser back), then "Try again" with the right one.
 * (Only the C locale is installed here, so MiniBrowser sends `Accept-Language: C` and the pages
 * are in Japanese, the OP's default.)
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  claimsAtRp,
  clickWhenShown,
  enterPinInHelperWindow,
  openLoginPage,
  START_BUTTON,
  signIn,
  waitForText,
  waitUntil,
  wrongPinFor,
} from '../../support/browsers/login-flow.js';
import { type EngineLoginHarness, startEngineLoginHarness } from '../../support/browsers/login-harness.js';
import { startWebKitDriver, type WebKitDriver, type WebKitSession } from '../../support/browsers/webkit.js';
import { expectCardLogin, wrongPinText } from './card-login.js';

let harness: EngineLoginHarness;
let driver: WebKitDriver;

beforeAll(async () => {
  harness = await startEngineLoginHarness();
  driver = await startWebKitDriver(harness.site, harness.display);
}, 30_000);

afterAll(async () => {
  await driver?.stop();
  await harness?.close();
});

/** Runs `use` with a fresh MiniBrowser session, which is quit afterwards whatever happens. */
async function inNewSession(use: (session: WebKitSession) => Promise<void>): Promise<void> {
  const session = await driver.newSession();
  try {
    await use(session);
  } finally {
    await session.quit();
  }
}

describe('a full login in WebKitGTK, the OP on a public https site', () => {
  it(
    'why: a WebSocket from the login page to the helper never reaches it (mixed content)',
    () =>
      inNewSession(async (session) => {
        await openLoginPage(session, harness);
        const mark = harness.helperLog.mark();
        await session.evaluate(
          'const ws = new WebSocket(arguments[0]); window.probe = "pending";' +
            ' ws.onopen = () => { window.probe = "open"; }; ws.onerror = () => { window.probe = "error"; };',
          harness.stack.helperUrl,
        );
        await waitUntil(
          async () => (await session.evaluate('return window.probe')) !== 'pending',
          'the socket to settle',
        );
        expect(await session.evaluate('return window.probe')).toBe('error');
        expect(harness.helperLog.webSocketConnections(mark)).toBe(0);
      }),
    40_000,
  );

  it(
    'the navigation path (the WebSocket is blocked as mixed content)',
    () =>
      inNewSession(async (session) => {
        const mark = harness.helperLog.mark();
        expectCardLogin(await signIn(session, harness), harness);
        expect(harness.helperLog.authentications(mark)).toEqual({ websocket: 0, navigation: 1 });
        expect(harness.helperLog.webSocketConnections(mark)).toBe(0);
      }),
    40_000,
  );

  it(
    'a wrong PIN: back on the OP page with the tries left; "Try again" and the right PIN sign in',
    () =>
      inNewSession(async (session) => {
        const mark = harness.helperLog.mark();
        await openLoginPage(session, harness);
        await clickWhenShown(session, START_BUTTON);
        await enterPinInHelperWindow(session, harness, wrongPinFor(harness.identity.userAuthPin));
        expect(await waitForText(session, '#alert', /2/)).toBe(wrongPinText('ja', 2));
        expect(await session.url()).toMatch(
          new RegExp(`^${harness.site.origin}/interaction/[^/]+/card-answer$`),
        );
        await clickWhenShown(session, '#retry');
        await enterPinInHelperWindow(session, harness, harness.identity.userAuthPin);
        expectCardLogin(await claimsAtRp(session, harness), harness);
        expect(harness.helperLog.authentications(mark)).toEqual({ websocket: 0, navigation: 2 });
      }),
    40_000,
  );
});

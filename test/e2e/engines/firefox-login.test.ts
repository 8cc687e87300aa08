/**
 * A full login in real Firefox ESR (puppeteer-core over WebDriver BiDi, headless, no geckodriver)
 * from the demo RP's sign-in button to its signed-in page, through the OP on https on a public
 * address and the real helper — the virtual card behind the REAL pcscd + vpcd —, the PIN typed
 * into the helper's own window:
 * - stock prefs: Firefox does not gate a WebSocket to loopback, the page uses the WebSocket path;
 * - `network.lna.websocket.enabled` with the BiDi permission `loopback-network` denied: the page
 *   says how to re-allow it and signs in through the navigation path.
 * Which path a login took is read from the helper's own log.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { message } from '../../../functions/op/login-page/messages.js';
import { launchFirefoxForPublicSite } from '../../support/browsers/firefox.js';
import {
  claimsAtRp,
  clickWhenShown,
  enterPinInHelperWindow,
  openLoginPage,
  puppeteerPage,
  START_BUTTON,
  signIn,
  waitForText,
} from '../../support/browsers/login-flow.js';
import { type EngineLoginHarness, startEngineLoginHarness } from '../../support/browsers/login-harness.js';
import { expectCardLogin } from './card-login.js';

let harness: EngineLoginHarness;

beforeAll(async () => {
  harness = await startEngineLoginHarness({ card: 'pcscd' });
}, 30_000);

afterAll(async () => {
  await harness?.close();
});

describe('a full login in Firefox ESR, the OP on a public https site, the card behind pcscd', () => {
  it('stock prefs: the WebSocket path', async () => {
    const firefox = await launchFirefoxForPublicSite(harness.site);
    try {
      const page = await firefox.browser.newPage();
      const mark = harness.helperLog.mark();
      expectCardLogin(await signIn(puppeteerPage(page), harness), harness);
      expect(harness.helperLog.authentications(mark)).toEqual({ websocket: 1, navigation: 0 });
    } finally {
      await firefox.close();
    }
  }, 40_000);

  it('WebSocket gated and loopback-network denied: re-allow explained, the navigation path', async () => {
    const firefox = await launchFirefoxForPublicSite(harness.site, { lnaGatesWebSocket: true });
    try {
      const context = await firefox.browser.createBrowserContext();
      await context.setPermission(harness.site.origin, {
        permission: { name: 'loopback-network' },
        state: 'denied',
      });
      const page = puppeteerPage(await context.newPage());
      const mark = harness.helperLog.mark();
      await openLoginPage(page, harness);
      expect(await waitForText(page, '#hint', /remove the block/)).toBe(message('en', 'hintDeniedFirefox'));
      await clickWhenShown(page, START_BUTTON);
      await enterPinInHelperWindow(page, harness, harness.identity.userAuthPin);
      expectCardLogin(await claimsAtRp(page, harness), harness);
      expect(harness.helperLog.authentications(mark)).toEqual({ websocket: 0, navigation: 1 });
      expect(harness.helperLog.webSocketConnections(mark)).toBe(0);
    } finally {
      await firefox.close();
    }
  }, 40_000);
});

/**
 * Debian's Chromium (playwright-core, headless) for the public test site, and its Local Network
 * Access permission: `--host-resolver-rules` maps login.test to 127.0.0.2,
 * `--ip-address-space-overrides` makes `127.0.0.2:<port>` a public address (so a WebSocket to the
 * helper on 127.0.0.1 is gated by the `loopback-network` permission, as on the real internet) and
 * the test certificate is accepted by its key's SPKI hash.
 *
 * Permission facts (Chromium 156, see ../shared/browser-lab): playwright grants it under the name
 * `local-network-access`; only `loopback-network` gates 127.0.0.1; playwright cannot deny, so
 * denial goes through CDP `Browser.setPermission`, which needs the context's `browserContextId`
 * and a browser CDP session that stays attached (detaching it resets the setting). Headless
 * Chromium answers the prompt with a silent denial.
 */
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { launchChromium } from '../browser.js';
import type { PublicSite } from './public-site.js';

/** Launches Chromium that sees `site` as a public https site with a valid certificate. */
export function launchChromiumForPublicSite(site: PublicSite): Promise<Browser> {
  return launchChromium([
    `--host-resolver-rules=MAP ${site.hostName} ${site.address}`,
    `--ip-address-space-overrides=${site.address}:${site.port}=public`,
    `--ignore-certificate-errors-spki-list=${site.tls.spkiSha256}`,
  ]);
}

/** Grants `origin` access to the helper on loopback (as if the person had answered Allow). */
export function grantLoopbackAccess(context: BrowserContext, origin: string): Promise<void> {
  return context.grantPermissions(['local-network-access'], { origin });
}

/**
 * Denies `origin` access to loopback and the local network in `page`'s context (as if the person
 * had answered Block). Keep the returned session until the context closes; detach it after.
 */
export async function denyLoopbackAccess(browser: Browser, page: Page, origin: string): Promise<CDPSession> {
  const pageSession = await page.context().newCDPSession(page);
  const { targetInfo } = await pageSession.send('Target.getTargetInfo');
  await pageSession.detach();
  const browserSession = await browser.newBrowserCDPSession();
  for (const name of ['loopback-network', 'local-network']) {
    await browserSession.send('Browser.setPermission', {
      permission: { name },
      setting: 'denied',
      origin,
      browserContextId: targetInfo.browserContextId,
    });
  }
  return browserSession;
}

/**
 * The IP address spaces Chromium assigned to the initiators of `page`'s requests from now on
 * (`Public` for a page of the public site): read from CDP's Network.requestWillBeSentExtraInfo.
 */
export async function initiatorAddressSpaces(page: Page): Promise<string[]> {
  const spaces: string[] = [];
  const session = await page.context().newCDPSession(page);
  session.on('Network.requestWillBeSentExtraInfo', (event) => {
    const space = event.clientSecurityState?.initiatorIPAddressSpace;
    if (space) spaces.push(space);
  });
  await session.send('Network.enable');
  return spaces;
}

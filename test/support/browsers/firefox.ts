/**
 * Debian's Firefox ESR (puppeteer-core over WebDriver BiDi, headless, no geckodriver) for the
 * public test site: `network.dns.forceResolve` sends every host name to 127.0.0.2 (IP literals
 * such as the helper's 127.0.0.1 are untouched), `network.lna.address_space.public.override` makes
 * `127.0.0.2:<port>` a public address, and the test CA is trusted in the profile's NSS database
 * (cert9.db, with certutil from libnss3-tools).
 *
 * Firefox 153 facts (../shared/browser-lab): with stock prefs a WebSocket from a public page to
 * 127.0.0.1 is not gated by Local Network Access; `network.lna.websocket.enabled` gates it, and
 * the BiDi permission is `loopback-network` (`local-network-access` is refused).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Browser as PuppeteerBrowser } from 'puppeteer-core';
import { launchFirefox } from '../browser.js';
import type { PublicSite } from './public-site.js';

const run = promisify(execFile);

/** A running Firefox and how to stop it. */
export interface FirefoxForPublicSite {
  readonly browser: PuppeteerBrowser;
  close(): Promise<void>;
}

/** Puts `caCertFile` into a new NSS database in `profileDir` as a trusted CA for web sites. */
async function trustCa(profileDir: string, caCertFile: string): Promise<void> {
  const certutil = (args: string[]) =>
    run('certutil', [...args, '-d', `sql:${profileDir}`]).catch((error: NodeJS.ErrnoException) => {
      throw new Error(
        error.code === 'ENOENT'
          ? 'certutil is missing: apt-get install libnss3-tools'
          : `certutil failed: ${error.message}`,
      );
    });
  await certutil(['-N', '--empty-password']);
  await certutil(['-A', '-n', 'myna-oidc test CA', '-t', 'C,,', '-i', caCertFile]);
}

/**
 * Launches Firefox that sees `site` as a public https site with a valid certificate; with
 * `lnaGatesWebSocket`, a WebSocket to loopback asks for the `loopback-network` permission.
 */
export function launchFirefoxForPublicSite(
  site: PublicSite,
  options: { readonly lnaGatesWebSocket?: boolean } = {},
): Promise<FirefoxForPublicSite> {
  return launchFirefox({
    prefs: {
      'intl.accept_languages': 'en-US, en',
      'network.dns.forceResolve': site.address,
      'network.trr.mode': 5,
      'network.lna.address_space.public.override': `${site.address}:${site.port}`,
      // Headless: nobody answers a Local Network Access prompt; it times out after 2 s, not 5.
      'network.lna.prompt.timeout': 2000,
      ...(options.lnaGatesWebSocket ? { 'network.lna.websocket.enabled': true } : {}),
    },
    prepareProfile: (profileDir) => trustCa(profileDir, site.tls.caCertFile),
  });
}

/**
 * Debian's Chromium driven by playwright-core and Debian's Firefox ESR driven by puppeteer-core
 * (never a downloaded browser), and a reader-helper with an in-process virtual card for the login
 * page to talk to. Fails loudly when a browser is missing: the README's test command installs them.
 */
import { access, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import puppeteer, { type Browser as PuppeteerBrowser } from 'puppeteer-core';
import { readerWithVirtualCard } from '../../dev-card/virtual-card-tools.js';
import { CardService } from '../../reader-helper/card/card-service.js';
import { startHelperDaemon } from '../../reader-helper/daemon/server.js';
import { createLogger } from '../../reader-helper/log.js';
import type { CardIdentity } from '../../reader-helper/virtual-card/identity.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Launches headless Chromium with the flags this environment needs (root, no GPU, no network). */
export async function launchChromium(): Promise<Browser> {
  await access(CHROMIUM).catch(() => {
    throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
}

export const FIREFOX = '/usr/bin/firefox-esr';

/**
 * Launches headless Firefox ESR through puppeteer-core over WebDriver BiDi (no geckodriver, no
 * downloaded browser) with a fresh profile, removed again by `close()`.
 */
export async function launchFirefox(): Promise<{ browser: PuppeteerBrowser; close(): Promise<void> }> {
  await access(FIREFOX).catch(() => {
    throw new Error(`${FIREFOX} is missing: apt-get install firefox-esr`);
  });
  const profile = await mkdtemp(join(tmpdir(), 'myna-firefox-'));
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    userDataDir: profile,
    // No updates, telemetry or other traffic: the tests run without network.
    extraPrefsFirefox: { 'app.update.enabled': false, 'network.captive-portal-service.enabled': false },
  });
  return {
    browser,
    close: async () => {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** A running reader-helper with one virtual card. */
export interface VirtualHelper {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts the reader-helper (`--dev`: admits http loopback pages, and the `allowedOrigins`) on a
 * free port with one in-process reader holding `identity`'s virtual card (an empty reader
 * without `identity`).
 */
export async function startVirtualHelper(
  identity?: CardIdentity,
  allowedOrigins: readonly string[] = [],
): Promise<VirtualHelper> {
  const cards = new CardService(readerWithVirtualCard('Virtual Reader 0', identity));
  const daemon = await startHelperDaemon({
    cards,
    port: await freePort(),
    allowedOrigins,
    dev: true,
    helperVersion: 'test',
    logger: createLogger({ level: 'error' }),
  });
  return {
    port: daemon.port,
    close: async () => {
      await daemon.close();
      await cards.close();
    },
  };
}

/**
 * Debian's Chromium driven by playwright-core and Debian's Firefox ESR driven by puppeteer-core
 * (never a downloaded browser), and a reader-helper with an in-process virtual card for the login
 * page to talk to, its PIN window on a private Xvfb. Fails loudly when a browser, Xvfb, zenity or
 * xdotool is missing: the README's test command installs them.
 */
import { access, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import puppeteer, { type Browser as PuppeteerBrowser } from 'puppeteer-core';
import { readerWithVirtualCard } from '../../dev-card/virtual-card-tools.js';
import { CardService } from '../../reader-helper/card/card-service.js';
import { startHelperDaemon } from '../../reader-helper/daemon/server.js';
import { createLogger, type Logger } from '../../reader-helper/log.js';
import { createPinEntry, type PinEntry } from '../../reader-helper/pin-entry/pin-entry.js';
import type { CardIdentity } from '../../reader-helper/virtual-card/identity.js';
import type { SimulatedCard, VirtualReader } from '../../reader-helper/virtual-card/in-process-backend.js';
import { PinDialogUser } from './pin-dialog-user.js';
import { startXvfb, type XDisplay } from './xvfb.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Launches headless Chromium with the flags this environment needs (root, no GPU, no network), then `extraArgs`. */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
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
      ...extraArgs,
    ],
  });
}

export const FIREFOX = '/usr/bin/firefox-esr';

/** What a test adds to the Firefox profile: prefs, and a step on the fresh profile folder before launch. */
export interface FirefoxProfileOptions {
  readonly prefs?: Readonly<Record<string, unknown>>;
  readonly prepareProfile?: (profileDir: string) => Promise<void>;
}

/**
 * Launches headless Firefox ESR through puppeteer-core over WebDriver BiDi (no geckodriver, no
 * downloaded browser) with a fresh profile, removed again by `close()`.
 */
export async function launchFirefox(
  options: FirefoxProfileOptions = {},
): Promise<{ browser: PuppeteerBrowser; close(): Promise<void> }> {
  await access(FIREFOX).catch(() => {
    throw new Error(`${FIREFOX} is missing: apt-get install firefox-esr`);
  });
  const profile = await mkdtemp(join(tmpdir(), 'myna-firefox-'));
  await options.prepareProfile?.(profile).catch(async (error: unknown) => {
    await rm(profile, { recursive: true, force: true });
    throw error;
  });
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    userDataDir: profile,
    // No updates, telemetry or other traffic: the tests run without network.
    extraPrefsFirefox: {
      'app.update.enabled': false,
      'network.captive-portal-service.enabled': false,
      ...options.prefs,
    },
  });
  return {
    browser,
    close: async () => {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** A TCP port that was free a moment ago on `host` (default 127.0.0.1). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** A running reader-helper with one virtual card, its PIN window on a private X display. */
export interface VirtualHelper {
  readonly port: number;
  /** The Xvfb display where the helper's PIN windows open. */
  readonly display: XDisplay;
  /** The person at the PC, answering those windows. */
  readonly person: PinDialogUser;
  /** The helper's one reader: a test takes the card out and puts another in. */
  readonly reader: VirtualReader;
  close(): Promise<void>;
}

const VIRTUAL_HELPER_READER = 'Virtual Reader 0';

/** What a virtual helper holds and admits. */
export interface VirtualHelperOptions {
  /** The card in its reader (an empty reader without it). */
  readonly identity?: CardIdentity;
  /** A card already set up (e.g. with PIN tries spent), put in the reader instead. */
  readonly card?: SimulatedCard;
  /** Origins it admits besides http loopback pages. */
  readonly allowedOrigins?: readonly string[];
  /** The helper's log (default: errors on stderr). */
  readonly logger?: Logger;
  /** Wraps the real PIN window (e.g. to record what it was asked). */
  readonly observePinEntry?: (real: PinEntry) => PinEntry;
}

/**
 * Starts the reader-helper (`--dev`: admits http loopback pages, and the `allowedOrigins`) on a
 * free port with one in-process reader holding `identity`'s virtual card (an empty reader
 * without `identity`), and its real PIN window (zenity) on a private Xvfb.
 */
export async function startVirtualHelper(options: VirtualHelperOptions = {}): Promise<VirtualHelper> {
  const display = await startXvfb();
  const readers = readerWithVirtualCard(VIRTUAL_HELPER_READER, options.identity);
  if (options.card) readers.reader(VIRTUAL_HELPER_READER).insert(options.card);
  const cards = new CardService(readers);
  const daemon = await startHelperDaemon({
    cards,
    port: await freePort(),
    allowedOrigins: options.allowedOrigins ?? [],
    dev: true,
    helperVersion: 'test',
    logger: options.logger ?? createLogger({ level: 'error' }),
    pinEntry: (options.observePinEntry ?? ((real) => real))(createPinEntry({ env: display.env })),
  }).catch(async (error: unknown) => {
    await cards.close();
    await display.stop();
    throw error;
  });
  return {
    port: daemon.port,
    display,
    person: new PinDialogUser(display),
    reader: readers.reader(VIRTUAL_HELPER_READER),
    close: async () => {
      await daemon.close();
      await cards.close();
      await display.stop();
    },
  };
}

/**
 * What a person does on the OP's login page: press its button, then type `pin` into the helper's
 * PIN window once it opens (within `windowTimeoutMs`: the helper opens it when it sees the card).
 */
export async function signInWithHelperWindow(
  page: Page,
  person: PinDialogUser,
  pin: string,
  windowTimeoutMs?: number,
): Promise<void> {
  await page.locator('#start').click();
  await person.enterPin(pin, windowTimeoutMs === undefined ? {} : { timeoutMs: windowTimeoutMs });
}

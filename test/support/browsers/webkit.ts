/**
 * WebKitGTK (Safari's engine) for the public test site: Debian's WebKitWebDriver driving
 * MiniBrowser on a test's X display, spoken to with raw W3C WebDriver HTTP (no BiDi in this
 * build). The driver runs in a private mount namespace (`unshare -m`) where a hosts file naming
 * login.test → 127.0.0.2 is bind-mounted over /etc/hosts, for that process tree only; the
 * server certificate is accepted for the site's host (`webkitgtk:browserOptions.certificates`).
 * WebKit has no Local Network Access: it blocks `ws://127.0.0.1` from an https page as mixed
 * content (WebKit bug 171934), while top-level navigations to http://127.0.0.1 work.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../browser.js';
import type { XDisplay } from '../xvfb.js';
import { type EnginePage, VISIBLE_TEXT_SCRIPT } from './login-flow.js';
import type { PublicSite } from './public-site.js';

export const WEBKIT_DRIVER = '/usr/bin/WebKitWebDriver';
const DRIVER_START_MS = 10_000;

/** Raised when the driver answers a command with a WebDriver error. */
export class WebDriverError extends Error {
  override name = 'WebDriverError';
  constructor(
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

/** A W3C element reference. */
type ElementReference = Record<string, string>;

/** One MiniBrowser session. */
export class WebKitSession implements EnginePage {
  readonly #command: <T>(method: string, path: string, body?: unknown) => Promise<T>;
  readonly #onQuit: () => void;

  constructor(command: <T>(method: string, path: string, body?: unknown) => Promise<T>, onQuit: () => void) {
    this.#command = command;
    this.#onQuit = onQuit;
  }

  goto(url: string): Promise<void> {
    return this.#command('POST', '/url', { url });
  }

  url(): Promise<string> {
    return this.#command('GET', '/url');
  }

  /** Runs `script` (a function body; `arguments` holds `args`) in the page and returns its value. */
  evaluate<T>(script: string, ...args: unknown[]): Promise<T> {
    return this.#command('POST', '/execute/sync', { script, args });
  }

  async click(selector: string): Promise<void> {
    const element = await this.#command<ElementReference>('POST', '/element', {
      using: 'css selector',
      value: selector,
    });
    await this.#command('POST', `/element/${Object.values(element)[0]}/click`, {});
  }

  visibleText(selector: string): Promise<string | undefined> {
    return this.evaluate(VISIBLE_TEXT_SCRIPT, selector);
  }

  /** Ends the session (MiniBrowser exits). */
  async quit(): Promise<void> {
    await this.#command('DELETE', '');
    this.#onQuit();
  }
}

/** A running WebKitWebDriver. */
export interface WebKitDriver {
  /** Starts MiniBrowser with a fresh session that accepts the site's certificate. */
  newSession(): Promise<WebKitSession>;
  /** Ends the sessions still open, stops the driver (SIGTERM, by PID) and removes its hosts file. */
  stop(): Promise<void>;
}

/** Starts WebKitWebDriver on `display` with login.test → 127.0.0.2 for its process tree. */
export async function startWebKitDriver(site: PublicSite, display: XDisplay): Promise<WebKitDriver> {
  await access(WEBKIT_DRIVER).catch(() => {
    throw new Error(`${WEBKIT_DRIVER} is missing: apt-get install webkit2gtk-driver`);
  });
  const dir = await mkdtemp(join(tmpdir(), 'myna-webkit-'));
  const hosts = join(dir, 'hosts');
  await writeFile(hosts, `127.0.0.1 localhost\n${site.address} ${site.hostName}\n`);
  const port = await freePort();
  const output: string[] = [];
  const child = spawn(
    'unshare',
    [
      '-m',
      'sh',
      '-c',
      'mount --bind "$0" /etc/hosts && exec "$1" --port="$2"',
      hosts,
      WEBKIT_DRIVER,
      String(port),
    ],
    { env: display.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8').on('data', (chunk: string) => {
      output.push(chunk);
      if (output.length > 200) output.shift();
    });
  }
  const base = `http://127.0.0.1:${port}`;
  const openSessions = new Set<string>();
  const stop = async () => {
    for (const sessionId of openSessions) {
      await command('DELETE', `/session/${sessionId}`).catch(() => undefined);
    }
    await stopProcess(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForDriver(base, child, output);
  } catch (error) {
    await stop();
    throw error;
  }
  async function command<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const { value } = (await response.json()) as { value: T & { error?: string; message?: string } };
    if (value && typeof value === 'object' && 'error' in value && value.error) {
      throw new WebDriverError(value.error, `WebDriver ${method} ${path}: ${value.error}: ${value.message}`);
    }
    return value;
  }
  return {
    async newSession() {
      const { sessionId } = await command<{ sessionId: string }>('POST', '/session', {
        capabilities: {
          alwaysMatch: {
            browserName: 'MiniBrowser',
            'webkitgtk:browserOptions': {
              args: ['--automation'],
              certificates: [{ host: site.hostName, certificateFile: site.tls.certFile }],
            },
          },
        },
      });
      openSessions.add(sessionId);
      return new WebKitSession(
        (method, path, body) => command(method, `/session/${sessionId}${path}`, body),
        () => openSessions.delete(sessionId),
      );
    },
    stop,
  };
}

async function waitForDriver(base: string, child: ChildProcess, output: string[]): Promise<void> {
  const deadline = Date.now() + DRIVER_START_MS;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(
        `WebKitWebDriver exited with ${child.exitCode} at start (needs root for unshare -m): ${output.join('')}`,
      );
    }
    const ready = await fetch(`${base}/status`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return;
    if (Date.now() > deadline)
      throw new Error(`WebKitWebDriver did not answer within ${DRIVER_START_MS} ms: ${output.join('')}`);
    await sleep(50);
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

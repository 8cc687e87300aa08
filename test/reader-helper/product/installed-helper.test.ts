/**
 * The helper as people get it, on this machine, through a REAL pcscd with a virtual card in
 * vsmartcard's vpcd reader: the npm package (packed, installed offline into an empty prefix:
 * at most 5 packages and 5 MB, nothing of the operator product inside) and the Linux x64 single
 * executable (Node 24 and the PC/SC addon inside), through which Chromium signs in to the demo RP,
 * the PIN typed into the helper's own window (zenity on a private Xvfb), and the OP's login page
 * has the executable verify an identity with the signing password typed into the same window.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import type { LocalStack } from '../../../local/stack.js';
import type { HelperMessage } from '../../../protocol/helper-protocol.js';
import { type CardIdentity, loadIdentity } from '../../../reader-helper/virtual-card/identity.js';
import { VirtualJpkiCard } from '../../../reader-helper/virtual-card/virtual-jpki-card.js';
import { VpcdConnector } from '../../../reader-helper/virtual-card/vpcd-connector.js';
import { type HelperInstall, packAndInstallHelper, sourceRoot } from '../../../scripts/helper-install.js';
import { freePort, launchChromium, signInWithHelperWindow } from '../../support/browser.js';
import { newNonce } from '../../support/dev-pki.js';
import { ensurePcscd, type PcscdHandle, VPCD_PORT, waitFor } from '../../support/pcscd.js';
import { PinDialogUser } from '../../support/pin-dialog-user.js';
import { startXvfb } from '../../support/xvfb.js';
import { expectSignedIdentity } from '../identity-answer.js';
import {
  helperPackageVersion,
  isolatedEnv,
  runHelper,
  startHelper,
  startStackForHelper,
} from './helper-process.js';

const run = promisify(execFile);
const MB = 1024 * 1024;
/**
 * vpcd's second slot ("Virtual PCD 00 01", port 35964), so that this file's card does not fight
 * over the first slot with other pcscd tests that may run at the same time.
 */
const READER = 'Virtual PCD 00 01';
const READER_PORT = VPCD_PORT + 1;

let pcscd: PcscdHandle;
let stack: LocalStack;
let card: VpcdConnector;
let identity: CardIdentity;
let root: string;
let version: string;
/** Where the OP's login page looks for the helper (the stack runs none: the executable is the helper). */
let helperPort: number;

beforeAll(async () => {
  root = await sourceRoot();
  version = await helperPackageVersion();
  pcscd = await ensurePcscd();
  helperPort = await freePort();
  stack = await startStackForHelper(helperPort);
  identity = await loadIdentity(stack.identityDir);
  card = new VpcdConnector(new VirtualJpkiCard(identity), { port: READER_PORT });
  card.start();
  await waitFor(() => card.connected, 'the virtual card to connect to vpcd');
}, 60_000);

afterAll(async () => {
  card?.stop();
  await stack?.close();
  if (pcscd?.owned) await pcscd.stop();
});

describe('the npm package myna-helper', () => {
  let install: HelperInstall;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    install = await packAndInstallHelper(await mkdtemp(join(tmpdir(), 'myna-helper-npm-')));
    env = await isolatedEnv();
  }, 180_000);

  it('installs offline with at most 5 packages and 5 MB', () => {
    const names = install.packages.map((name) => name.slice(0, name.lastIndexOf('@')));
    expect(names).toEqual(['myna-helper', 'node-addon-api', 'smartcard', 'ws']);
    expect(install.packages.length).toBeLessThanOrEqual(5);
    expect(install.bytes / MB).toBeLessThanOrEqual(5);
  });

  it('carries one bundled module built from the helper and protocol only', async () => {
    const installed = join(install.prefix, 'node_modules', 'myna-helper');
    expect((await readdir(installed)).sort()).toEqual(['dist', 'package.json']);
    expect(await readdir(join(installed, 'dist'))).toEqual(['myna-helper.js']);
    const meta = JSON.parse(
      await readFile(join(root, 'reader-helper', 'dist', 'myna-helper.js.meta.json'), 'utf8'),
    ) as {
      inputs: Record<string, unknown>;
    };
    const inputs = Object.keys(meta.inputs);
    expect(inputs).toContain('reader-helper/daemon/server.ts');
    expect(inputs.filter((input) => !/^(reader-helper|protocol)\//.test(input))).toEqual([]);
    expect(inputs.filter((input) => /^reader-helper\/virtual-card\/|dev-card|dev-pki/.test(input))).toEqual(
      [],
    );
  });

  it('answers --version, readers, and status of a started helper', async () => {
    expect((await runHelper(install.bin, ['--version'], env)).stdout.trim()).toBe(version);
    await waitFor(
      async () => (await runHelper(install.bin, ['readers'], env)).stdout.includes(`${READER}: jpki`),
      'the installed helper to see the card in the vpcd reader',
    );
    const helper = await startHelper(install.bin, ['--port', '0'], env);
    try {
      const status = await runHelper(install.bin, ['status', '--port', String(helper.port)], env);
      expect(status.code).toBe(0);
      expect(status.stdout).toContain(`myna-helper ${version} (protocol 2)`);
      expect(status.stdout).toContain(`${READER}: jpki`);
    } finally {
      expect(await helper.stop()).toBe(0);
    }
    expect(helper.output()).toContain('Stopped.');
  }, 60_000);

  it('refuses --dev and the development virtual card', async () => {
    const dev = await runHelper(install.bin, ['start', '--dev'], env);
    expect(dev.code).toBe(2);
    expect(dev.stderr).toContain('only allowed with --virtual-card');
    const virtual = await runHelper(install.bin, ['start', '--virtual-card', '--dev'], env);
    expect(virtual.code).toBe(1);
    expect(virtual.stderr).toContain('DEV_TOOLS_MISSING');
  });
});

describe('the single executable (Linux x64)', () => {
  let executable: string;
  let env: NodeJS.ProcessEnv;
  let browser: Browser;

  beforeAll(async () => {
    const out = await mkdtemp(join(tmpdir(), 'myna-helper-sea-'));
    const built = await run(
      process.execPath,
      [join(root, 'scripts', 'helper-build.ts'), 'sea', '--out', out],
      {
        cwd: root,
      },
    );
    executable = built.stdout.trim().split('\n').at(-1) ?? '';
    env = await isolatedEnv();
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('embeds Node 24, not this machine’s Node', async () => {
    expect((await runHelper(executable, ['--version'], env)).stdout.trim()).toBe(version);
    const embedded = (await readFile(executable)).toString('latin1');
    expect(embedded).toMatch(/node-v24\.\d+\.\d+/);
    expect(embedded).not.toMatch(/node-v20\.\d+\.\d+/);
  }, 60_000);

  it('signs a person in through the real pcscd and its own PIN window, with an http development origin listed loudly', async () => {
    const opOrigin = new URL(stack.opUrl).origin;
    const display = await startXvfb();
    const helper = await startHelper(executable, ['--port', String(helperPort), '--allow-origin', opOrigin], {
      ...env,
      DISPLAY: display.env.DISPLAY,
    });
    try {
      // On stderr, which may arrive after the start-up lines on stdout.
      const warning = `WARNING: ${opOrigin} is plain http`;
      await waitFor(() => helper.output().includes(warning), 'the plain-http warning', 5_000);
      expect(helper.output()).toContain('PIN window: zenity');
      const addons = await readdir(join(env.XDG_CACHE_HOME as string, 'myna-helper', 'addons'));
      expect(addons).toHaveLength(1);

      const context = await browser.newContext({ locale: 'en-US' });
      const page = await context.newPage();
      await page.goto(stack.rpUrl);
      await page.getByRole('button', { name: 'Sign in with MyNumber card' }).click();
      await page.waitForURL(/\/interaction\//);
      await signInWithHelperWindow(page, new PinDialogUser(display), '1234');
      await page.waitForURL(`${stack.rpUrl}/`, { timeout: 30_000 });
      const claims = JSON.parse((await page.locator('#claims').textContent()) ?? '{}');
      expect(claims).toMatchObject({ acr: 'urn:myna-oidc:acr:jpki-user-auth', amr: ['sc', 'pin', 'hwk'] });
      await context.close();

      // The OP's login page (whose policy lets it reach the helper) asks for an identity verification.
      const loginContext = await browser.newContext({ locale: 'en-US' });
      const loginPage = await loginContext.newPage();
      await loginPage.goto(stack.rpUrl);
      await loginPage.getByRole('button', { name: 'Sign in with MyNumber card' }).click();
      await loginPage.waitForURL(/\/interaction\//);
      const nonce = newNonce();
      const answered = loginPage.evaluate(
        ({ port, nonce }) =>
          new Promise<HelperMessage>((resolve, reject) => {
            const socket = new WebSocket(`ws://127.0.0.1:${port}`);
            socket.onerror = () => reject(new Error('the helper refused the connection'));
            socket.onopen = () => socket.send(JSON.stringify({ type: 'verify-identity', id: 'v', nonce }));
            socket.onmessage = (event) => {
              const message = JSON.parse(String(event.data)) as HelperMessage;
              if (message.type === 'identity-verified' || message.type === 'error') resolve(message);
            };
          }),
        { port: helper.port, nonce },
      );
      await new PinDialogUser(display).enterPin(identity.signingPin);
      const verified = await answered;
      if (verified.type !== 'identity-verified') throw new Error(JSON.stringify(verified));
      expectSignedIdentity(verified, { card: identity, origin: opOrigin, nonce });
      await loginContext.close();

      const status = await runHelper(executable, ['status', '--port', String(helper.port)], env);
      expect(status.stdout).toContain(`myna-helper ${version} (protocol 2)`);
    } finally {
      expect(await helper.stop()).toBe(0);
      await display.stop();
    }
    expect(helper.output()).not.toMatch(/[^0-9]1234[^0-9]/);
    expect(helper.output()).not.toContain(identity.signingPin);
    expect(helper.output()).toContain('identity verified');
  }, 90_000);

  it('refuses --dev with the real reader', async () => {
    const dev = await runHelper(executable, ['start', '--dev', '--port', '0'], env);
    expect(dev.code).toBe(2);
    expect(dev.stderr).toContain('only allowed with --virtual-card');
  });
});

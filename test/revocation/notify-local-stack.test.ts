/**
 * Back-channel logout in the local stack (`npm start`): the demo RP is on localhost, which the
 * OP's SSRF guard refuses by default, so the stack allow-lists its host (privateRpHosts). Signed
 * in at the demo RP in real Chromium (the PIN typed into the helper's own window: zenity on a
 * private Xvfb), the user logs out at the OP; the OP's logout token reaches the demo RP, which ends
 * its own session — the RP page shows the user signed out.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { createPinEntry } from '../../reader-helper/pin-entry/pin-entry.js';
import { freePort, launchChromium, signInWithHelperWindow } from '../support/browser.js';
import { PinDialogUser } from '../support/pin-dialog-user.js';
import { startXvfb, type XDisplay } from '../support/xvfb.js';

let stack: LocalStack;
let browser: Browser;
let dataDir: string;
let xdisplay: XDisplay;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'myna-local-bc-'));
  xdisplay = await startXvfb();
  stack = await startLocalStack({
    dataDir,
    opPort: await freePort(),
    rpPort: await freePort(),
    dynamoPort: 0,
    helperPort: await freePort(),
    pinEntry: createPinEntry({ env: xdisplay.env }),
    log: () => undefined,
  });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await xdisplay?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('the local stack', () => {
  it('a logout at the OP ends the demo RP session through back-channel logout', async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    try {
      const page = await context.newPage();
      await page.goto(stack.rpUrl);
      await page.getByRole('button', { name: 'Sign in with MyNumber card' }).click();
      await page.waitForURL(/\/interaction\//);
      await signInWithHelperWindow(page, new PinDialogUser(xdisplay), stack.pin as string);
      await page.waitForURL(`${stack.rpUrl}/`, { timeout: 30_000 });
      const claims = JSON.parse((await page.locator('#claims').textContent()) ?? '{}') as { sid?: string };
      expect(claims.sid).toEqual(expect.any(String));

      // The user logs out at the OP itself (not through the RP's logout button).
      await page.goto(`${stack.opUrl}/session/end`);
      await page.locator('button[name="logout"][value="yes"]').click();
      await page.waitForURL((url) => !url.pathname.startsWith('/session/end/confirm'), { timeout: 20_000 });
      await page.goto(stack.rpUrl);
      await expect(page.locator('#claims').count()).resolves.toBe(0);
      await expect(page.getByRole('button', { name: 'Sign in with MyNumber card' }).count()).resolves.toBe(1);
    } finally {
      await context.close();
    }
  }, 90_000);
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { WebSocketServer } from 'ws';
import type { LocalStack } from '../../../local/stack.js';
import {
  type HelloRequest,
  type HelloResponse,
  PROTOCOL_VERSION,
} from '../../../protocol/helper-protocol.js';
import { freePort, launchChromium } from '../../support/browser.js';
import { startStackForHelper } from './helper-process.js';

let stack: LocalStack;
let olderHelper: WebSocketServer;
/** The message types the outdated helper received. */
const received: string[] = [];
let browser: Browser;

beforeAll(async () => {
  const helperPort = await freePort();
  stack = await startStackForHelper(helperPort);
  olderHelper = new WebSocketServer({ host: '127.0.0.1', port: helperPort });
  olderHelper.on('connection', (socket) =>
    socket.on('message', (data) => {
      const request = JSON.parse(data.toString()) as HelloRequest;
      received.push(request.type);
      const answer: HelloResponse = {
        type: 'hello',
        id: request.id,
        protocolVersion: PROTOCOL_VERSION - 1,
        helperVersion: '0.0.1',
        readers: [{ name: 'Reader', card: 'jpki' }],
      };
      socket.send(JSON.stringify(answer));
    }),
  );
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  olderHelper?.close();
  await stack?.close();
});

describe('an outdated helper', () => {
  it('makes the login page ask for an update, and never asks it to sign', async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(stack.rpUrl);
    await page.getByRole('button', { name: 'Sign in with MyNumber card' }).click();
    await page.waitForURL(/\/interaction\//);
    await page.locator('#status', { hasText: 'outdated' }).waitFor({ timeout: 20_000 });
    expect(await page.locator('#status').textContent()).toContain('Please update it');
    await page.locator('#guide').waitFor({ state: 'visible' });
    expect(await page.locator('#start').isVisible()).toBe(false);
    expect(received).toEqual(['hello']);
    await context.close();
  }, 60_000);
});

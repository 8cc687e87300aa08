/**
 * What a person sees over a limit, in real Chromium: the third sign-in from one address within a
 * minute (limit 2) shows the "too many attempts, wait N seconds" page in the browser's language,
 * with 429 and Retry-After, and the browser stays at the OP (nothing reaches the RP).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { type OpServer, startOpServer } from '../../functions/op/local-server.js';
import { useLocalTables } from '../storage/local-table.js';
import { launchChromium } from '../support/browser.js';
import { authorizationRequest, relyingParty } from '../support/oidc-flow.js';
import { memoryLogger, TEST_CLIENTS, testOpConfig } from '../support/op-stack.js';

const newTable = useLocalTables();
const A = TEST_CLIENTS.firstParty;
const REDIRECT_URI = A.redirect_uris[0] as string;
let chromium: Browser;

beforeAll(async () => {
  chromium = await launchChromium();
});
afterAll(async () => {
  await chromium?.close();
});

/** An OP of its own (a fresh table: the counter is per address, and every test is 127.0.0.1). */
async function startLimitedOp(): Promise<OpServer> {
  const table = await newTable();
  return startOpServer({
    config: async (url) => ({
      ...(await testOpConfig(url, { table, logger: memoryLogger() })),
      limits: { interactionsPerAddressPerMinute: 2 },
    }),
  });
}

describe('the limit page', () => {
  it.each([
    ['ja-JP', /試行回数が多すぎます。([0-9]+)秒待って/],
    ['en-US', /Too many attempts\. Wait ([0-9]+) seconds/],
  ])('says how long to wait (%s)', async (locale, text) => {
    const op = await startLimitedOp();
    const rp = await relyingParty({ issuer: op.url, clientId: A.client_id, clientSecret: A.client_secret });
    const context = await chromium.newContext({ locale });
    try {
      const page = await context.newPage();
      const statuses: number[] = [];
      let last: Awaited<ReturnType<typeof page.goto>> = null;
      for (let i = 0; i < 3; i++) {
        last = await page.goto((await authorizationRequest(rp, REDIRECT_URI)).url.href);
        statuses.push(last?.status() ?? 0);
      }
      expect(statuses.slice(0, 2)).toEqual([200, 200]);
      expect(last?.status()).toBe(429);
      const retryAfter = Number(await last?.headerValue('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(new URL(page.url()).origin).toBe(op.url);
      const message = page.getByText(text);
      expect(await message.isVisible()).toBe(true);
      expect(Number(text.exec((await message.textContent()) ?? '')?.[1])).toBe(retryAfter);
      expect(await page.getByText('TOO_MANY_ATTEMPTS').isVisible()).toBe(true);
    } finally {
      await context.close();
      await op.close();
    }
  });
});

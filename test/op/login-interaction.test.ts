/** The login interaction: challenge lifetime and binding, origin binding, CSRF, error messages. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as client from 'openid-client';
import { assertSameOrigin } from '../../functions/op/interactions/request.js';
import type { OpServer } from '../../functions/op/local-server.js';
import { DynamoChallengeStore } from '../../functions/storage/challenge-store.js';
import { useLocalTables } from '../storage/local-table.js';
import { aliceCard } from '../support/card.js';
import {
  authorizationRequest,
  CHALLENGE_NONCE,
  DEFAULT_REFERRER_POLICY,
  type LoginPage,
  loginPageOf,
  postAnswer,
  relyingParty,
  TestBrowser,
  VirtualCardSigner,
} from '../support/oidc-flow.js';
import { memoryLogger, startTestOp, TEST_CLIENTS } from '../support/op-stack.js';

const newTable = useLocalTables();
let op: OpServer;
let card: VirtualCardSigner;
let rp: client.Configuration;
let clockOffsetMs = 0;
const logger = memoryLogger();
const A = TEST_CLIENTS.firstParty;

beforeAll(async () => {
  card = new VirtualCardSigner((await aliceCard()).identity);
  const table = await newTable();
  op = await startTestOp({
    table,
    logger,
    storage: (storage) => ({
      ...storage,
      challenges: new DynamoChallengeStore({ ...table, now: () => Date.now() + clockOffsetMs }),
    }),
  });
  rp = await relyingParty({ issuer: op.url, clientId: A.client_id, clientSecret: A.client_secret });
});
afterAll(async () => {
  await op?.close();
  await card?.close();
});

async function openLoginPage(browser: TestBrowser): Promise<LoginPage> {
  const { url } = await authorizationRequest(rp, A.redirect_uris[0] as string);
  return loginPageOf(await browser.navigate(url, () => false));
}

/** A page of another site, as the browser would have loaded it (Chromium's default policy). */
const evilPage = { url: new URL('https://evil.example/login'), referrerPolicy: DEFAULT_REFERRER_POLICY };

describe('challenge', () => {
  it('accepts a fresh answer once; the same answer again is CHALLENGE_UNAVAILABLE', async () => {
    const browser = new TestBrowser();
    const page = await openLoginPage(browser);
    const answer = await card.sign(op.url, page.nonce);
    const first = await postAnswer(browser, page, answer);
    expect(first.redirectTo).toMatch(/\/auth\//);
    const again = await postAnswer(browser, page, answer);
    expect(again.status).toBe(400);
    expect(again.error?.code).toBe('CHALLENGE_UNAVAILABLE');
  });

  it('refuses an expired challenge (over 5 minutes) with CHALLENGE_UNAVAILABLE', async () => {
    const browser = new TestBrowser();
    const page = await openLoginPage(browser);
    const answer = await card.sign(op.url, page.nonce);
    clockOffsetMs = 301_000;
    try {
      const reply = await postAnswer(browser, page, answer);
      expect(reply.error?.code).toBe('CHALLENGE_UNAVAILABLE');
    } finally {
      clockOffsetMs = 0;
    }
  });

  it("refuses the signed challenge of another interaction (the signature is not over this one's nonce)", async () => {
    const browser = new TestBrowser();
    const first = await openLoginPage(browser);
    const second = await openLoginPage(browser);
    const reply = await postAnswer(browser, second, await card.sign(op.url, first.nonce));
    expect(reply.error?.code).toBe('CHALLENGE_SIGNATURE_INVALID');
    expect(reply.nonce).toMatch(CHALLENGE_NONCE);
    // The fresh challenge in the reply lets the page try again.
    const retry = await postAnswer(browser, second, await card.sign(op.url, reply.nonce as string));
    expect(retry.redirectTo).toBeDefined();
  });

  it('refuses a signature over another origin (a relaying site) with CHALLENGE_SIGNATURE_INVALID', async () => {
    const browser = new TestBrowser(undefined, { 'accept-language': 'en' });
    const page = await openLoginPage(browser);
    const reply = await postAnswer(browser, page, await card.sign('https://evil.example', page.nonce));
    expect(reply.error).toEqual({
      code: 'CHALLENGE_SIGNATURE_INVALID',
      message: 'The signature does not match this site and this sign-in. Please try again.',
    });
    expect(logger.lines).toContainEqual(
      expect.objectContaining({
        event: 'login.refused',
        fields: expect.objectContaining({ code: 'CHALLENGE_SIGNATURE_INVALID' }),
      }),
    );
  });
});

describe('request binding', () => {
  it('refuses a POST without the interaction cookie (another browser) with INTERACTION_EXPIRED', async () => {
    const page = await openLoginPage(new TestBrowser());
    const reply = await postAnswer(new TestBrowser(), page, await card.sign(op.url, page.nonce));
    expect(reply.error?.code).toBe('INTERACTION_EXPIRED');
  });

  it('refuses a form another site posts in the same browser with CROSS_ORIGIN_REQUEST', async () => {
    const browser = new TestBrowser(undefined, { 'accept-language': 'en' });
    const page = await openLoginPage(browser);
    const answer = await card.sign(op.url, page.nonce);
    const forged = await browser.submitForm(evilPage, page.loginUrl, answer, () => false);
    expect(forged.response?.status).toBe(403);
    expect(await forged.response?.text()).toContain('<code>CROSS_ORIGIN_REQUEST</code>');
    // Nothing was consumed: the page's own answer still signs in.
    expect((await postAnswer(browser, page, answer)).redirectTo).toBeDefined();
  });

  it('refuses a form from another origin of the same site (another port)', async () => {
    const browser = new TestBrowser();
    const page = await openLoginPage(browser);
    const sameSite = new URL(page.document.url.href);
    sameSite.port = String(Number(sameSite.port) + 1);
    const forged = await browser.submitForm(
      { url: sameSite, referrerPolicy: DEFAULT_REFERRER_POLICY },
      page.loginUrl,
      await card.sign(op.url, page.nonce),
      () => false,
    );
    expect(forged.response?.status).toBe(403);
  });

  it('the scripted browser refuses a test that sets a header only browsers set', async () => {
    await expect(new TestBrowser().request(op.url, { headers: { origin: op.url } })).rejects.toThrow(
      /the browser sets origin itself/,
    );
    expect(() => new TestBrowser(undefined, { 'Sec-Fetch-Site': 'same-origin' })).toThrow(
      /the browser sets sec-fetch-site itself/,
    );
  });

  it('decides on Sec-Fetch-Site where the browser sends it, else on Origin', () => {
    const origin = 'https://login.example.jp';
    const verdict = (headers: Record<string, string>) => {
      const ctx = { get: (name: string) => headers[name] ?? '' } as unknown as Parameters<
        typeof assertSameOrigin
      >[0];
      try {
        assertSameOrigin(ctx, origin);
        return 'accepted';
      } catch (error) {
        return (error as { code: string }).code;
      }
    };
    expect(verdict({ 'sec-fetch-site': 'same-origin', origin })).toBe('accepted');
    // A page whose referrer policy hides the origin: Fetch Metadata still says same-origin.
    expect(verdict({ 'sec-fetch-site': 'same-origin', origin: 'null' })).toBe('accepted');
    expect(verdict({ 'sec-fetch-site': 'same-site', origin: 'https://www.example.jp' })).toBe(
      'CROSS_ORIGIN_REQUEST',
    );
    expect(verdict({ 'sec-fetch-site': 'cross-site', origin: 'null' })).toBe('CROSS_ORIGIN_REQUEST');
    expect(verdict({ 'sec-fetch-site': 'same-origin', origin: 'https://evil.example' })).toBe(
      'CROSS_ORIGIN_REQUEST',
    );
    // Browsers without Fetch Metadata: the Origin decides; none or null is refused.
    expect(verdict({ origin })).toBe('accepted');
    expect(verdict({ origin: 'null' })).toBe('CROSS_ORIGIN_REQUEST');
    expect(verdict({})).toBe('CROSS_ORIGIN_REQUEST');
  });

  it('refuses answers that are not base64url with ANSWER_MALFORMED, in Japanese by default', async () => {
    const browser = new TestBrowser();
    const page = await openLoginPage(browser);
    const reply = await postAnswer(browser, page, { certificate: 'not base64!', signature: 'AA' });
    expect(reply.error?.code).toBe('ANSWER_MALFORMED');
    expect(reply.error?.message).toMatch(/カード/);
  });

  it('answers a plain form POST with an HTML error page', async () => {
    const browser = new TestBrowser(undefined, { 'accept-language': 'en' });
    const page = await openLoginPage(browser);
    const { response } = await browser.submitForm(
      page.document,
      page.loginUrl,
      { certificate: 'AAAA', signature: 'AAAA' },
      () => false,
    );
    expect(response?.status).toBe(400);
    const html = (await response?.text()) ?? '';
    expect(html).toContain('<code>CERTIFICATE_MALFORMED</code>');
    expect(html).toContain('The certificate could not be read.');
  });
});

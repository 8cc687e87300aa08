/** The login interaction: challenge lifetime and binding, origin binding, CSRF, error messages. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import type { OpServer } from '../../functions/op/local-server.js';
import { DynamoChallengeStore } from '../../functions/storage/challenge-store.js';
import { useLocalTables } from '../storage/local-table.js';
import { aliceCard } from '../support/card.js';
import {
  type LoginPage,
  postAnswer,
  readLoginPage,
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

async function openLoginPage(browser: TestBrowser, headers: Record<string, string> = {}): Promise<LoginPage> {
  const url = client.buildAuthorizationUrl(rp, {
    redirect_uri: A.redirect_uris[0] as string,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  });
  const started = await browser.request(url, { headers });
  const pageUrl = new URL(started.headers.get('location') as string, url);
  return readLoginPage(pageUrl, await browser.request(pageUrl, { headers }));
}

describe('challenge', () => {
  it('accepts a fresh answer once; the same answer again is CHALLENGE_UNAVAILABLE', async () => {
    const browser = new TestBrowser();
    const page = await openLoginPage(browser);
    const answer = await card.sign(op.url, page.nonce);
    const first = await postAnswer(browser, page.loginUrl, answer);
    expect(first.redirectTo).toMatch(/\/auth\//);
    const again = await postAnswer(browser, page.loginUrl, answer);
    expect(again.status).toBe(400);
    expect(again.error?.code).toBe('CHALLENGE_UNAVAILABLE');
  });

  it('refuses an expired challenge (over 5 minutes) with CHALLENGE_UNAVAILABLE', async () => {
    const browser = new TestBrowser();
    const page = await openLoginPage(browser);
    const answer = await card.sign(op.url, page.nonce);
    clockOffsetMs = 301_000;
    try {
      const reply = await postAnswer(browser, page.loginUrl, answer);
      expect(reply.error?.code).toBe('CHALLENGE_UNAVAILABLE');
    } finally {
      clockOffsetMs = 0;
    }
  });

  it("refuses the signed challenge of another interaction (the signature is not over this one's nonce)", async () => {
    const browser = new TestBrowser();
    const first = await openLoginPage(browser);
    const second = await openLoginPage(browser);
    const reply = await postAnswer(browser, second.loginUrl, await card.sign(op.url, first.nonce));
    expect(reply.error?.code).toBe('CHALLENGE_SIGNATURE_INVALID');
    expect(reply.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The fresh challenge in the reply lets the page try again.
    const retry = await postAnswer(browser, second.loginUrl, await card.sign(op.url, reply.nonce as string));
    expect(retry.redirectTo).toBeDefined();
  });

  it('refuses a signature over another origin (a relaying site) with CHALLENGE_SIGNATURE_INVALID', async () => {
    const browser = new TestBrowser(undefined, { 'accept-language': 'en' });
    const page = await openLoginPage(browser);
    const reply = await postAnswer(
      browser,
      page.loginUrl,
      await card.sign('https://evil.example', page.nonce),
    );
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
    const reply = await postAnswer(new TestBrowser(), page.loginUrl, await card.sign(op.url, page.nonce));
    expect(reply.error?.code).toBe('INTERACTION_EXPIRED');
  });

  it('refuses a cross-origin POST with CROSS_ORIGIN_REQUEST', async () => {
    const browser = new TestBrowser();
    const page = await openLoginPage(browser);
    const reply = await postAnswer(
      browser,
      page.loginUrl,
      await card.sign(op.url, page.nonce),
      'https://evil.example',
    );
    expect(reply.status).toBe(403);
    expect(reply.error?.code).toBe('CROSS_ORIGIN_REQUEST');
  });

  it('refuses answers that are not base64url with ANSWER_MALFORMED, in Japanese by default', async () => {
    const browser = new TestBrowser();
    const page = await openLoginPage(browser);
    const reply = await postAnswer(browser, page.loginUrl, { certificate: 'not base64!', signature: 'AA' });
    expect(reply.error?.code).toBe('ANSWER_MALFORMED');
    expect(reply.error?.message).toMatch(/カード/);
  });

  it('answers a plain form POST with an HTML error page', async () => {
    const browser = new TestBrowser();
    const page = await openLoginPage(browser);
    const response = await browser.request(page.loginUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: op.url,
        'accept-language': 'en',
      },
      body: new URLSearchParams({ certificate: 'AAAA', signature: 'AAAA' }).toString(),
    });
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain('<code>CERTIFICATE_MALFORMED</code>');
    expect(html).toContain('The certificate could not be read.');
  });
});

/**
 * A returning card's answer (functions/op/interactions/routes.ts login): its login result is
 * written while the login is recorded on the account the read found. When that record fails, or
 * names another account (the account changed in between), the sign-in ends: the answer is
 * refused and the browser's own resume URL gives no code. The store is wrapped to make the record
 * fail (fault injection); the browser is the scripted one, sending only what a browser sends.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type * as client from 'openid-client';
import type { AccountStore } from '../../functions/accounts/account-store.js';
import { VerificationError } from '../../functions/jpki/errors.js';
import type { OpServer } from '../../functions/op/local-server.js';
import { useLocalTables } from '../storage/local-table.js';
import { aliceCard } from '../support/card.js';
import {
  authorizationRequest,
  loginPageOf,
  postAnswer,
  relyingParty,
  rpLogin,
  TestBrowser,
  VirtualCardSigner,
} from '../support/oidc-flow.js';
import { memoryLogger, startTestOp, TEST_CLIENTS } from '../support/op-stack.js';

const newTable = useLocalTables();
const A = TEST_CLIENTS.firstParty;
const REDIRECT_URI = A.redirect_uris[0] as string;
const logger = memoryLogger();
let op: OpServer;
let card: VirtualCardSigner;
let rp: client.Configuration;
/** What the wrapped store's accountForLogin does this time. */
let recording: 'as-stored' | 'fails' | 'names-another' = 'as-stored';
/** The ids the wrapped store's knownAccount and accountForLogin answered. */
let answered: { known: (string | undefined)[]; recorded: string[] } = { known: [], recorded: [] };

beforeAll(async () => {
  card = new VirtualCardSigner((await aliceCard()).identity);
  op = await startTestOp({
    table: await newTable(),
    logger,
    storage: (storage) => {
      const accounts: AccountStore = {
        find: (accountId) => storage.accounts.find(accountId),
        async knownAccount(certificateKey) {
          const known = await storage.accounts.knownAccount(certificateKey);
          answered.known.push(known?.accountId);
          return known;
        },
        async accountForLogin(login) {
          const account = await storage.accounts.accountForLogin(login);
          if (recording === 'fails') throw new VerificationError('ISSUER_KEY_MISMATCH');
          const recorded =
            recording === 'names-another' ? { ...account, accountId: `${account.accountId}x` } : account;
          answered.recorded.push(recorded.accountId);
          return recorded;
        },
      };
      return { ...storage, accounts };
    },
  });
  rp = await relyingParty({ issuer: op.url, clientId: A.client_id, clientSecret: A.client_secret });
  // The card's first login makes its account.
  await rpLogin({ rp, browser: new TestBrowser(), card, redirectUri: REDIRECT_URI });
});
afterAll(async () => {
  await op?.close();
  await card?.close();
});
beforeEach(() => {
  recording = 'as-stored';
  answered = { known: [], recorded: [] };
});

/** A new sign-in's login page, the card's answer posted as the login script posts it. */
async function answerOnce(browser: TestBrowser) {
  const { url } = await authorizationRequest(rp, REDIRECT_URI);
  const page = await loginPageOf(await browser.navigate(url, (next) => next.href.startsWith(REDIRECT_URI)));
  const reply = await postAnswer(browser, page, await card.sign(op.url, page.nonce));
  const uid = page.document.url.pathname.split('/')[2] as string;
  return { reply, uid };
}

/** Where the browser ends when it goes to the sign-in's resume URL (its resume cookie goes with it). */
async function resume(browser: TestBrowser, uid: string) {
  return browser.navigate(new URL(`/auth/${uid}`, op.url), (next) => next.href.startsWith(REDIRECT_URI));
}

describe("a returning card's answer", () => {
  it('is recorded on the account its read found and signs in', async () => {
    const browser = new TestBrowser();
    const { reply } = await answerOnce(browser);
    expect(reply.redirectTo).toBeDefined();
    expect(answered.known).toHaveLength(1);
    expect(answered.known[0]).toEqual(expect.any(String));
    expect(answered.recorded).toEqual(answered.known);
  });

  it('ends the sign-in when its record fails: refused, and its resume URL gives no code', async () => {
    recording = 'fails';
    const browser = new TestBrowser();
    const { reply, uid } = await answerOnce(browser);
    expect(reply.status).toBe(400);
    expect(reply.error?.code).toBe('ISSUER_KEY_MISMATCH');
    expect(reply.nonce).toBeUndefined();
    expect(answered.known[0]).toEqual(expect.any(String));
    const resumed = await resume(browser, uid);
    expect(resumed.url.searchParams.get('code')).toBeNull();
    expect(resumed.response?.status).toBeGreaterThanOrEqual(400);
  });

  it('ends the sign-in when its record names another account: refused, and its resume URL gives no code', async () => {
    recording = 'names-another';
    const browser = new TestBrowser();
    const { reply, uid } = await answerOnce(browser);
    expect(reply.error?.code).toBe('INTERACTION_EXPIRED');
    expect(reply.redirectTo).toBeUndefined();
    expect(answered.recorded[0]).not.toBe(answered.known[0]);
    const resumed = await resume(browser, uid);
    expect(resumed.url.searchParams.get('code')).toBeNull();
    expect(resumed.response?.status).toBeGreaterThanOrEqual(400);
  });
});

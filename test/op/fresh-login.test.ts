/**
 * `myna_fresh_login` (`clients add … --fresh-login`): no single sign-on for that client. In one
 * browser session, an ordinary RP signs in with the card and a second ordinary RP gets in without
 * it (SSO, the same auth_time — the timing link the flag exists to avoid); the flagged RP needs a
 * card login of its own and gets another auth_time, every time, and cannot sign in silently; and
 * no other RP is ever given an auth_time the flagged RP saw.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as client from 'openid-client';
import type { OpServer } from '../../functions/op/local-server.js';
import { useLocalTables } from '../storage/local-table.js';
import { aliceCard } from '../support/card.js';
import {
  authorizationRequest,
  relyingParty,
  rpLogin,
  signIn,
  TestBrowser,
  VirtualCardSigner,
} from '../support/oidc-flow.js';
import { startTestOp, TEST_CLIENTS } from '../support/op-stack.js';

const FRESH = {
  client_id: 'rp-fresh',
  client_secret: 'rp-fresh-secret-0123456789abcdef0123456',
  redirect_uris: ['https://fresh.example/cb'],
  client_name: 'Unlinkable RP',
  myna_first_party: true,
  myna_fresh_login: true,
};
/** A third-party flagged client: the card login, then the consent page, then the code. */
const FRESH_THIRD = {
  client_id: 'rp-fresh-third',
  client_secret: 'rp-fresh-third-secret-0123456789abcdef0',
  redirect_uris: ['https://fresh-third.example/cb'],
  client_name: 'Unlinkable third party',
  myna_fresh_login: true,
};
const A = TEST_CLIENTS.firstParty;
const B = TEST_CLIENTS.otherSector;

const newTable = useLocalTables();
let op: OpServer;
let card: VirtualCardSigner;
const rps: Record<string, client.Configuration> = {};

beforeAll(async () => {
  card = new VirtualCardSigner((await aliceCard()).identity);
  op = await startTestOp({
    table: await newTable(),
    clients: [...Object.values(TEST_CLIENTS), FRESH, FRESH_THIRD],
  });
  for (const { client_id, client_secret } of [A, B, FRESH, FRESH_THIRD]) {
    rps[client_id] = await relyingParty({ issuer: op.url, clientId: client_id, clientSecret: client_secret });
  }
});
afterAll(async () => {
  await op?.close();
  await card?.close();
});

/** One login of `rp` in `browser`: the ID token's auth_time and the card signatures it took. */
async function login(browser: TestBrowser, rp: { client_id: string; redirect_uris: string[] }) {
  const before = card.signatures;
  const { tokens } = await rpLogin({
    rp: rps[rp.client_id] as client.Configuration,
    browser,
    card,
    redirectUri: rp.redirect_uris[0] as string,
    consent: true,
  });
  return { authTime: tokens.claims()?.auth_time, signatures: card.signatures - before };
}

const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1100));

describe('a client flagged for fresh logins gets no single sign-on', () => {
  it('needs its own card login in an SSO session, and gets another auth_time', async () => {
    const browser = new TestBrowser();
    const first = await login(browser, A);
    expect(first.signatures).toBe(1);
    await nextSecond();
    // An ordinary RP in the same session: no card, the session's auth_time.
    const sso = await login(browser, B);
    expect(sso).toEqual({ authTime: first.authTime, signatures: 0 });
    // The flagged RP: a card login of its own, so its auth_time is not the one A and B saw.
    const fresh = await login(browser, FRESH);
    expect(fresh.signatures).toBe(1);
    expect(fresh.authTime).toBeGreaterThan(first.authTime as number);
    await nextSecond();
    // Again: every sign-in at the flagged RP is a new card login.
    const again = await login(browser, FRESH);
    expect(again.signatures).toBe(1);
    expect(again.authTime).toBeGreaterThan(fresh.authTime as number);
    await nextSecond();
    // The session's login is now the one the flagged RP saw: the next other RP asks for the card
    // once more instead of receiving that auth_time; after that, SSO is back.
    const after = await login(browser, B);
    expect(after.signatures).toBe(1);
    expect(after.authTime).toBeGreaterThan(again.authTime as number);
    expect(await login(browser, A)).toEqual({ authTime: after.authTime, signatures: 0 });
  });

  it('a third-party flagged client: card login and consent, and still no other RP gets its time', async () => {
    const browser = new TestBrowser();
    const first = await login(browser, A);
    await nextSecond();
    const fresh = await login(browser, FRESH_THIRD);
    expect(fresh.signatures).toBe(1);
    expect(fresh.authTime).toBeGreaterThan(first.authTime as number);
    await nextSecond();
    const after = await login(browser, A);
    expect(after.signatures).toBe(1);
    expect(after.authTime).toBeGreaterThan(fresh.authTime as number);
  });

  it('while its consent page is open, another RP signing in needs the card too', async () => {
    const browser = new TestBrowser();
    await login(browser, A);
    const redirectUri = FRESH_THIRD.redirect_uris[0] as string;
    const { url } = await authorizationRequest(
      rps[FRESH_THIRD.client_id] as client.Configuration,
      redirectUri,
    );
    const before = card.signatures;
    const atConsent = await signIn({ browser, authorizationUrl: url, redirectUri, card });
    expect(atConsent.page?.html).toContain('/confirm"');
    expect(card.signatures).toBe(before + 1);
    expect((await login(browser, B)).signatures).toBe(1);
  });

  it('prompt=none cannot sign in silently: login_required', async () => {
    const browser = new TestBrowser();
    await login(browser, A);
    const redirectUri = FRESH.redirect_uris[0] as string;
    const { url } = await authorizationRequest(rps[FRESH.client_id] as client.Configuration, redirectUri, {
      prompt: 'none',
    });
    const result = await signIn({ browser, authorizationUrl: url, redirectUri, card });
    expect(result.callback?.searchParams.get('error')).toBe('login_required');
  });
});

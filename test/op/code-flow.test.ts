/** A real RP (openid-client) against the OP over HTTP on 127.0.0.1, the card a virtual JPKI card. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import { JPKI_ACR } from '../../functions/op/claims.js';
import type { OpServer } from '../../functions/op/local-server.js';
import { useLocalTables } from '../storage/local-table.js';
import { aliceCard } from '../support/card.js';
import {
  type BrowserDocument,
  relyingParty,
  rpLogin,
  signIn,
  TestBrowser,
  VirtualCardSigner,
} from '../support/oidc-flow.js';
import { startTestOp, TEST_CLIENTS } from '../support/op-stack.js';

const newTable = useLocalTables();
let op: OpServer;
let card: VirtualCardSigner;
let rp: client.Configuration;
const A = TEST_CLIENTS.firstParty;

beforeAll(async () => {
  card = new VirtualCardSigner((await aliceCard()).identity);
  op = await startTestOp({ table: await newTable() });
  rp = await relyingParty({ issuer: op.url, clientId: A.client_id, clientSecret: A.client_secret });
});
afterAll(async () => {
  await op?.close();
  await card?.close();
});

const login = (browser = new TestBrowser(), extra: Partial<Parameters<typeof rpLogin>[0]> = {}) =>
  rpLogin({ rp, browser, card, redirectUri: A.redirect_uris[0] as string, ...extra });

describe('discovery', () => {
  it('publishes the card login level, pairwise subjects, S256 only and the endpoints', () => {
    const metadata = rp.serverMetadata();
    expect(metadata.issuer).toBe(op.url);
    expect(metadata.acr_values_supported).toEqual([JPKI_ACR]);
    expect(metadata.subject_types_supported).toEqual(expect.arrayContaining(['pairwise', 'public']));
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(metadata.response_types_supported).toEqual(['code']);
    expect(metadata.grant_types_supported).not.toContain('client_credentials');
    for (const endpoint of [
      'userinfo_endpoint',
      'revocation_endpoint',
      'introspection_endpoint',
      'end_session_endpoint',
      'jwks_uri',
    ] as const) {
      expect(metadata[endpoint]).toMatch(/^http:\/\/127\.0\.0\.1:/);
    }
  });
});

describe('code flow with PKCE', () => {
  it('signs in with the card; the ID token carries acr, amr and auth_time; userinfo has only sub', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { tokens } = await login();
    const claims = tokens.claims();
    expect(claims?.iss).toBe(op.url);
    expect(claims?.aud).toBe(A.client_id);
    expect(claims?.acr).toBe(JPKI_ACR);
    expect(claims?.amr).toEqual(['sc', 'pin', 'hwk']);
    expect(claims?.auth_time).toBeGreaterThanOrEqual(before - 1);
    const userinfo = await client.fetchUserInfo(rp, tokens.access_token, claims?.sub as string);
    expect(userinfo).toEqual({ sub: claims?.sub });
  });

  it('issues refresh tokens to confidential clients; refresh, introspection and revocation work', async () => {
    const { tokens } = await login();
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token as string);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect((await client.tokenIntrospection(rp, refreshed.access_token)).active).toBe(true);
    await client.tokenRevocation(rp, refreshed.access_token);
    expect((await client.tokenIntrospection(rp, refreshed.access_token)).active).toBe(false);
  });

  it("tells a client nothing about another client's token, and does not let it revoke one", async () => {
    const { tokens } = await login();
    const other = await relyingParty({
      issuer: op.url,
      clientId: TEST_CLIENTS.otherSector.client_id,
      clientSecret: TEST_CLIENTS.otherSector.client_secret,
    });
    expect((await client.tokenIntrospection(other, tokens.access_token)).active).toBe(false);
    await client.tokenRevocation(other, tokens.access_token).catch(() => undefined);
    expect((await client.tokenIntrospection(rp, tokens.access_token)).active).toBe(true);
  });

  it('gives a public client a refresh token only for offline_access', async () => {
    const spa = await relyingParty({ issuer: op.url, clientId: TEST_CLIENTS.public.client_id });
    const redirectUri = TEST_CLIENTS.public.redirect_uris[0] as string;
    const plain = await rpLogin({ rp: spa, browser: new TestBrowser(), card, redirectUri });
    expect(plain.tokens.refresh_token).toBeUndefined();
    const offline = await rpLogin({
      rp: spa,
      browser: new TestBrowser(),
      card,
      redirectUri,
      scope: 'openid offline_access',
      params: { prompt: 'consent' },
    });
    expect(offline.tokens.refresh_token).toEqual(expect.any(String));
  });

  it('refuses an authorization request without PKCE', async () => {
    const browser = new TestBrowser();
    const url = client.buildAuthorizationUrl(rp, {
      redirect_uri: A.redirect_uris[0] as string,
      scope: 'openid',
    });
    const { url: landed } = await browser.follow(url, (next) =>
      next.href.startsWith(A.redirect_uris[0] as string),
    );
    expect(landed.searchParams.get('error')).toBe('invalid_request');
    expect(landed.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  /** Signs in with the card and returns the callback URL (holding a fresh code) and its PKCE verifier. */
  async function codeCallback() {
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(rp, {
      redirect_uri: A.redirect_uris[0] as string,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const redirectUri = A.redirect_uris[0] as string;
    const { callback } = await signIn({
      browser: new TestBrowser(),
      authorizationUrl: url,
      redirectUri,
      card,
    });
    return { callback, verifier };
  }

  it('refuses a second redemption of a code with invalid_grant', async () => {
    const { callback, verifier } = await codeCallback();
    const redeem = () =>
      client.authorizationCodeGrant(rp, callback as URL, {
        pkceCodeVerifier: verifier,
        idTokenExpected: true,
      });
    await redeem();
    await expect(redeem()).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('of 20 concurrent redemptions of one code exactly one succeeds, 19 get invalid_grant', async () => {
    const { callback, verifier } = await codeCallback();
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () =>
        client.authorizationCodeGrant(rp, callback as URL, {
          pkceCodeVerifier: verifier,
          idTokenExpected: true,
        }),
      ),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    const errors = results.flatMap((result) =>
      result.status === 'rejected' ? [result.reason as { error?: string }] : [],
    );
    expect(errors.map((error) => error.error)).toEqual(Array(19).fill('invalid_grant'));
  });
});

describe('re-authentication', () => {
  let browser: TestBrowser;
  afterEach(() => undefined);

  it('reuses the OP session without a card, but prompt=login and max_age force a new signature', async () => {
    browser = new TestBrowser();
    await login(browser);
    const signed = card.signatures;
    await login(browser);
    expect(card.signatures).toBe(signed);
    await login(browser, { params: { prompt: 'login' } });
    expect(card.signatures).toBe(signed + 1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const { tokens } = await login(browser, { params: { max_age: '0' } });
    expect(card.signatures).toBe(signed + 2);
    expect(tokens.claims()?.auth_time).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) - 2);
  });
});

describe('first-party grant', () => {
  it('is written once per OP session: a single sign-on finds it covering the request and writes nothing', async () => {
    const table = await newTable();
    const grantWrites: string[] = [];
    table.client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as {
          Item?: Record<string, { S?: string }>;
          RequestItems?: Record<string, { PutRequest?: { Item: Record<string, { S?: string }> } }[]>;
        };
        const items =
          context.commandName === 'PutItemCommand'
            ? [input.Item]
            : Object.values(input.RequestItems ?? {}).flatMap((requests) =>
                requests.map((request) => request.PutRequest?.Item),
              );
        for (const item of items) {
          const pk = item?.pk?.S ?? '';
          if (pk.startsWith('Grant#')) grantWrites.push(pk);
        }
        return next(args);
      },
      { step: 'initialize', name: 'grantWrites' },
    );
    const own = await startTestOp({ table });
    try {
      const ownRp = await relyingParty({
        issuer: own.url,
        clientId: A.client_id,
        clientSecret: A.client_secret,
      });
      const browser = new TestBrowser();
      const redirectUri = A.redirect_uris[0] as string;
      await rpLogin({ rp: ownRp, browser, card, redirectUri });
      expect(grantWrites).toHaveLength(1);
      const { tokens } = await rpLogin({ rp: ownRp, browser, card, redirectUri });
      expect(grantWrites).toHaveLength(1);
      const sub = tokens.claims()?.sub as string;
      expect(await client.fetchUserInfo(ownRp, tokens.access_token, sub)).toMatchObject({ sub });
    } finally {
      await own.close();
    }
  });
});

describe('logout', () => {
  it('ends the OP session through RP-initiated logout and redirects to the registered URI', async () => {
    const browser = new TestBrowser();
    const { tokens } = await login(browser);
    const endSession = client.buildEndSessionUrl(rp, {
      id_token_hint: tokens.id_token as string,
      post_logout_redirect_uri: A.post_logout_redirect_uris[0] as string,
    });
    const question = await browser.follow(endSession, () => false);
    const html = (await question.response?.text()) ?? '';
    const action = /action="([^"]+)"/.exec(html)?.[1] as string;
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1] as string;
    const bye = A.post_logout_redirect_uris[0] as string;
    const confirmed = await browser.submitForm(
      question.document as BrowserDocument,
      action,
      { xsrf, logout: 'yes' },
      (next) => next.href.startsWith(bye),
    );
    expect(confirmed.url.href).toMatch(/^https:\/\/rp-a\.example\/bye/);
    const signed = card.signatures;
    await login(browser);
    expect(card.signatures).toBe(signed + 1);
  });
});

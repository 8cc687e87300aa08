/**
 * What a client's registration makes the OP do, through a real RP library (openid-client): scopes
 * a client cannot get, ID-token algorithms, FAPI 2.0 clients (PAR, private_key_jwt, DPoP, `iss`),
 * and that the OP refuses stored metadata with the message the CLI gives at registration.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLocalJWKSet, exportJWK, generateKeyPair, type JSONWebKeySet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { runCli } from '../../cli/main.js';
import { validateClientMetadata } from '../../functions/op/client-metadata.js';
import type { OpServer } from '../../functions/op/local-server.js';
import { RAW_SERIAL_SCOPE } from '../../functions/op/raw-serial.js';
import { ClientRegistry } from '../../functions/storage/client-registry.js';
import { type TestTable, useLocalTables } from '../storage/local-table.js';
import { aliceCard } from '../support/card.js';
import { runCaptured } from '../support/cli.js';
import { relyingParty, rpLogin, signIn, TestBrowser, VirtualCardSigner } from '../support/oidc-flow.js';
import { startTestOp, TEST_CLIENTS } from '../support/op-stack.js';

const newTable = useLocalTables();
let op: OpServer;
let table: TestTable;
let card: VirtualCardSigner;
let dir: string;

beforeAll(async () => {
  card = new VirtualCardSigner((await aliceCard()).identity);
  table = await newTable();
  op = await startTestOp({ table });
  dir = await mkdtemp(join(tmpdir(), 'myna-profiles-'));
});
afterAll(async () => {
  await op?.close();
  await card?.close();
});

/** `myna-oidc clients …` against the test OP's table, as an operator would run it. */
async function clients(...argv: string[]) {
  const run = await runCaptured(runCli, [
    'clients',
    ...argv,
    '--endpoint',
    table.endpoint,
    '--table',
    table.tableName,
  ]);
  if (run.code !== 0) throw new Error(`clients ${argv.join(' ')} failed: ${run.err}`);
  return run;
}

const rpOf = (metadata: { client_id: string; client_secret: string }) =>
  relyingParty({ issuer: op.url, clientId: metadata.client_id, clientSecret: metadata.client_secret });

/** Authorization request parameters (PKCE S256) of a request whose code is never redeemed. */
const codeRequest = async (redirectUri: string) => ({
  redirect_uri: redirectUri,
  scope: 'openid',
  code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
  code_challenge_method: 'S256',
});

/** A login of a test client through openid-client, asking for `scope`. */
const loginAs = async (
  metadata: { client_id: string; client_secret: string; redirect_uris: string[] },
  scope = 'openid',
) =>
  rpLogin({
    rp: await rpOf(metadata),
    browser: new TestBrowser(),
    card,
    redirectUri: metadata.redirect_uris[0] as string,
    scope,
  });

describe('scopes a client cannot get', () => {
  it('refuses the raw-serial scope to an unflagged client (invalid_scope), never echoing it', async () => {
    for (const metadata of [TEST_CLIENTS.firstParty, TEST_CLIENTS.thirdParty]) {
      await expect(loginAs(metadata, `openid ${RAW_SERIAL_SCOPE}`)).rejects.toMatchObject({
        error: 'invalid_scope',
        error_description: 'requested scope is not allowed',
      });
    }
  });

  it('grants and echoes only what the client gets', async () => {
    const plain = await loginAs(TEST_CLIENTS.firstParty);
    expect(plain.tokens.scope).toBe('openid');
    const serial = await loginAs(TEST_CLIENTS.rawSerial, `openid ${RAW_SERIAL_SCOPE}`);
    expect(serial.tokens.scope?.split(' ').sort()).toEqual([RAW_SERIAL_SCOPE, 'openid'].sort());
  });
});

describe('display metadata', () => {
  it('keeps what the pages show, the Japanese name included (oidc-provider drops unknown fields)', async () => {
    await clients(
      'add',
      'shop-ja',
      '--redirect-uri',
      'https://shop-ja.example/cb',
      '--client-name',
      'Shop',
      '--client-name-ja',
      'ショップ',
      '--logo-uri',
      'https://shop-ja.example/logo.png',
      '--tos-uri',
      'https://shop-ja.example/terms',
    );
    const loaded = await op.provider.Client.find('shop-ja');
    expect(loaded?.metadata()).toMatchObject({
      client_name: 'Shop',
      'client_name#ja': 'ショップ',
      logo_uri: 'https://shop-ja.example/logo.png',
      tos_uri: 'https://shop-ja.example/terms',
    });
  });
});

describe('ID-token signing algorithm', () => {
  it.each(['ES256', 'PS256'] as const)(
    'signs with the registered algorithm (%s), which discovery advertises and the JWKS verifies',
    async (alg) => {
      const id = `${alg.toLowerCase()}-rp`;
      const redirectUri = `https://${id}.example/cb`;
      const registered = await clients(
        'add',
        id,
        '--redirect-uri',
        redirectUri,
        '--first-party',
        '--id-token-signed-response-alg',
        alg,
      );
      const secret = /client_secret: (\S+)/.exec(registered.out)?.[1] as string;
      const rp = await client.discovery(
        new URL(op.url),
        id,
        { client_secret: secret, id_token_signed_response_alg: alg },
        undefined,
        { execute: [client.allowInsecureRequests] },
      );
      expect(rp.serverMetadata().id_token_signing_alg_values_supported?.toSorted()).toEqual([
        'ES256',
        'PS256',
        'RS256',
      ]);
      const { tokens } = await rpLogin({ rp, browser: new TestBrowser(), card, redirectUri });
      const jwks = (await (await fetch(rp.serverMetadata().jwks_uri as string)).json()) as JSONWebKeySet;
      const { protectedHeader } = await jwtVerify(tokens.id_token as string, createLocalJWKSet(jwks), {
        algorithms: [alg],
        audience: id,
      });
      expect(protectedHeader.alg).toBe(alg);
    },
  );
});

describe('FAPI 2.0 Security Profile client (--profile fapi2)', () => {
  const REDIRECT = 'https://bank.example/cb';
  let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  let bank: client.Configuration;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    privateKey = pair.privateKey;
    const jwksFile = join(dir, 'bank.jwks.json');
    await writeFile(
      jwksFile,
      JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'bank-1' }] }),
    );
    await clients(
      'add',
      'bank',
      '--redirect-uri',
      REDIRECT,
      '--first-party',
      '--profile',
      'fapi2',
      '--jwks-file',
      jwksFile,
    );
    bank = await fapiRp();
  });

  const fapiRp = (options?: Parameters<typeof client.PrivateKeyJwt>[1]) =>
    client.discovery(
      new URL(op.url),
      'bank',
      { id_token_signed_response_alg: 'ES256' },
      client.PrivateKeyJwt(privateKey, options),
      { execute: [client.allowInsecureRequests] },
    );

  /** A PAR sign-in; with `dpop` the request is bound to its key (dpop_jkt). */
  async function parLogin(dpop?: client.DPoPHandle) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const authorizationUrl = await client.buildAuthorizationUrlWithPAR(
      bank,
      {
        redirect_uri: REDIRECT,
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
      },
      dpop ? { DPoP: dpop } : undefined,
    );
    const { callback } = await signIn({
      browser: new TestBrowser(),
      authorizationUrl,
      redirectUri: REDIRECT,
      card,
    });
    if (!callback) throw new Error('the FAPI sign-in did not reach the redirect URI');
    return { callback, checks: { pkceCodeVerifier: verifier, expectedState: state, idTokenExpected: true } };
  }

  it('signs in with PAR, private_key_jwt and DPoP; the response carries iss; tokens are DPoP-bound', async () => {
    const dpop = client.getDPoPHandle(bank, await client.randomDPoPKeyPair('ES256'));
    const { callback, checks } = await parLogin(dpop);
    expect(callback.searchParams.get('iss')).toBe(op.url);
    const tokens = await client.authorizationCodeGrant(bank, callback, checks, undefined, { DPoP: dpop });
    expect(tokens.token_type).toBe('dpop');
    const sub = tokens.claims()?.sub as string;
    expect(await client.fetchUserInfo(bank, tokens.access_token, sub, { DPoP: dpop })).toEqual({ sub });
  });

  it('refuses an authorization request that did not go through PAR', async () => {
    const authorizationUrl = client.buildAuthorizationUrl(bank, await codeRequest(REDIRECT));
    const { callback } = await signIn({
      browser: new TestBrowser(),
      authorizationUrl,
      redirectUri: REDIRECT,
      card,
    });
    expect(callback?.searchParams.get('error')).toBe('invalid_request');
    expect(callback?.searchParams.get('error_description')).toMatch(
      /pushed authorization request must be used/i,
    );
  });

  it('issues no Bearer token: a code redeemed without a DPoP proof is refused', async () => {
    const { callback, checks } = await parLogin();
    await expect(client.authorizationCodeGrant(bank, callback, checks)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    // The refusal is about the missing proof: with one, the same code is redeemed.
    const dpop = client.getDPoPHandle(bank, await client.randomDPoPKeyPair('ES256'));
    const tokens = await client.authorizationCodeGrant(bank, callback, checks, undefined, { DPoP: dpop });
    expect(tokens.token_type).toBe('dpop');
  });

  /**
   * Sends each request `rp` makes twice at once (an attacker replaying it while it is in flight)
   * and records both answers.
   */
  const sendingTwice = (rp: client.Configuration) => {
    const answers: { status: number; body: string; challenge: string | null }[] = [];
    rp[client.customFetch] = async (url, options) => {
      const responses = await Promise.all([fetch(url, options), fetch(url, options)]);
      for (const response of responses) {
        answers.push({
          status: response.status,
          body: await response.clone().text(),
          challenge: response.headers.get('www-authenticate'),
        });
      }
      return responses.find((response) => response.ok) ?? (responses[0] as Response);
    };
    return answers;
  };

  it('accepts a client assertion once, also when its replay arrives at the same time', async () => {
    const rp = await fapiRp();
    const answers = sendingTwice(rp);
    const dpop = client.getDPoPHandle(rp, await client.randomDPoPKeyPair('ES256'));
    await client.buildAuthorizationUrlWithPAR(rp, await codeRequest(REDIRECT), { DPoP: dpop });
    expect(answers.map(({ status }) => status).sort()).toEqual([201, 401]);
    expect(JSON.parse(answers.find(({ status }) => status === 401)?.body ?? '{}')).toMatchObject({
      error: 'invalid_client',
    });
  });

  it('accepts a DPoP proof once, also when its replay arrives at the same time', async () => {
    const keyPair = await client.randomDPoPKeyPair('ES256');
    const dpop = client.getDPoPHandle(bank, keyPair);
    const { callback, checks } = await parLogin(dpop);
    const tokens = await client.authorizationCodeGrant(bank, callback, checks, undefined, { DPoP: dpop });
    const rp = await fapiRp();
    const answers = sendingTwice(rp);
    const sub = tokens.claims()?.sub as string;
    await client.fetchUserInfo(rp, tokens.access_token, sub, { DPoP: client.getDPoPHandle(rp, keyPair) });
    expect(answers.map(({ status }) => status).sort()).toEqual([200, 401]);
    // The same request, answered 200 once: only the replayed proof can be refused (a resource
    // endpoint reports a replay as invalid_token, oidc-provider's lib/shared/access_token.js).
    expect(answers.find(({ status }) => status === 401)?.challenge).toMatch(/^DPoP .*error="invalid_token"/);
  });

  it('refuses a client assertion whose audience is not the issuer (FAPI 2.0 §5.3.2.1)', async () => {
    const tokenEndpoint = bank.serverMetadata().token_endpoint as string;
    const wrongAudience = await fapiRp({
      [client.modifyAssertion]: (_header, payload) => {
        payload.aud = tokenEndpoint;
      },
    });
    const dpop = client.getDPoPHandle(wrongAudience, await client.randomDPoPKeyPair('ES256'));
    await expect(
      client.buildAuthorizationUrlWithPAR(wrongAudience, await codeRequest(REDIRECT), { DPoP: dpop }),
    ).rejects.toMatchObject({ error: 'invalid_client' });
  });

  it('refuses to load a FAPI 2.0 client whose stored metadata was weakened behind the CLI', async () => {
    const registry = new ClientRegistry(table);
    const stored = await registry.get('bank');
    await registry.put({ ...stored, client_id: 'bank-weak', dpop_bound_access_tokens: false });
    const weak = await client.discovery(
      new URL(op.url),
      'bank-weak',
      { id_token_signed_response_alg: 'ES256' },
      client.PrivateKeyJwt(privateKey),
      { execute: [client.allowInsecureRequests] },
    );
    const dpop = client.getDPoPHandle(weak, await client.randomDPoPKeyPair('ES256'));
    await expect(
      client.buildAuthorizationUrlWithPAR(weak, { redirect_uri: REDIRECT, scope: 'openid' }, { DPoP: dpop }),
    ).rejects.toMatchObject({
      error: 'invalid_client_metadata',
      error_description: 'myna_profile fapi2 requires dpop_bound_access_tokens',
    });
  });
});

describe('metadata the OP refuses', () => {
  it('is refused by the OP with the message the CLI gives at registration', async () => {
    const broken = {
      client_id: 'two-hosts',
      client_secret: 'two-hosts-secret-0123456789abcdef0123',
      redirect_uris: ['https://a.example/cb', 'https://b.example/cb'],
    };
    await expect(validateClientMetadata(broken)).rejects.toThrow(
      'sector_identifier_uri is mandatory property',
    );
    await new ClientRegistry(table).put(broken);
    const rp = await rpOf(broken);
    const authorizationUrl = client.buildAuthorizationUrl(rp, await codeRequest('https://a.example/cb'));
    const { page } = await signIn({
      // English: the page shows oidc-provider's description as a detail on English pages only.
      browser: new TestBrowser(undefined, { 'accept-language': 'en' }),
      authorizationUrl,
      redirectUri: 'https://a.example/cb',
      card,
    });
    expect(page?.response.status).toBe(400);
    expect(await page?.response.text()).toContain('sector_identifier_uri is mandatory property');
  });
});

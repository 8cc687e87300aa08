/**
 * The logout-token signer (logout-token-signer.ts) and its Lambda (logout-signer-handler.ts behind
 * a local Invoke endpoint, called as the notification job calls it): it signs well-formed logout
 * tokens that verify with the OP's keys, and refuses everything an attacker who took over the
 * notification job would ask for instead — an ID token, a logout token with a nonce, a payload
 * without the back-channel event, a long-lived or back-dated token, another issuer, an unknown
 * client, another algorithm.
 */
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import { LOGOUT_TOKEN_TTL_SECONDS } from '../../functions/defaults.js';
import { createLogoutSignerHandler } from '../../functions/revocation/logout-signer-handler.js';
import {
  type LambdaInvokeOptions,
  LambdaLogoutTokenSigner,
} from '../../functions/revocation/notification/lambda-logout-token-signer.js';
import {
  BACKCHANNEL_LOGOUT_EVENT,
  logoutTokenPayload,
} from '../../functions/revocation/notification/logout-token.js';
import {
  InProcessLogoutTokenSigner,
  LogoutTokenRefusedError,
} from '../../functions/revocation/notification/logout-token-signer.js';
import { generateSigningSecrets } from '../../functions/secrets/local-secrets.js';
import type { SigningSecrets } from '../../functions/secrets/op-secrets.js';
import { memoryLogger } from '../support/op-stack.js';
import { type FakeLambda, startFakeLambda } from './fake-lambda.js';

const ISSUER = 'https://login.example.jp';
const NOW = new Date('2026-12-01T09:00:00Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);
const CLIENTS: Record<string, ClientMetadata> = {
  'rp-a': { client_id: 'rp-a', backchannel_logout_uri: 'https://rp-a.example/bc' },
  // Registered, but not for back-channel logout.
  'rp-plain': { client_id: 'rp-plain' },
};

let secrets: SigningSecrets;
let signer: InProcessLogoutTokenSigner;

beforeAll(async () => {
  secrets = await generateSigningSecrets();
  signer = new InProcessLogoutTokenSigner({
    issuer: ISSUER,
    secrets,
    findClient: async (clientId) => CLIENTS[clientId],
    now: () => NOW,
  });
});

/** A well-formed logout token's claims for rp-a. */
const logoutToken = (extra: Record<string, unknown> = {}) => ({
  ...logoutTokenPayload({
    issuer: ISSUER,
    clientId: 'rp-a',
    sub: 'sub-1',
    sid: 'sid-1',
    jti: 'jti-1',
    now: NOW,
  }),
  ...extra,
});

/** The public key of the active key for `alg`'s key type. */
function publicKeyOf(kty: 'RSA' | 'EC') {
  const key = secrets.jwks.keys.find((candidate) => candidate.kty === kty && candidate.status === 'active');
  return { key: createPublicKey({ key: key as unknown as JsonWebKey, format: 'jwk' }), kid: key?.kid };
}

async function refusal(payload: unknown, alg = 'RS256'): Promise<LogoutTokenRefusedError> {
  const error = await signer
    .sign({ payload: payload as Record<string, unknown>, alg })
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(LogoutTokenRefusedError);
  return error as LogoutTokenRefusedError;
}

describe('the logout-token signer', () => {
  it.each(['RS256', 'PS256', 'ES256'])(
    'signs a logout token with the active %s key (typ logout+jwt)',
    async (alg) => {
      const token = await signer.sign({ payload: logoutToken(), alg });
      const { key, kid } = publicKeyOf(alg === 'ES256' ? 'EC' : 'RSA');
      const { payload, protectedHeader } = await jwtVerify(token, key, {
        issuer: ISSUER,
        audience: 'rp-a',
        typ: 'logout+jwt',
        currentDate: NOW,
      });
      expect(protectedHeader).toEqual({ alg, kid, typ: 'logout+jwt' });
      expect(payload).toEqual({
        iss: ISSUER,
        aud: 'rp-a',
        iat: NOW_S,
        exp: NOW_S + LOGOUT_TOKEN_TTL_SECONDS,
        jti: 'jti-1',
        sub: 'sub-1',
        sid: 'sid-1',
        events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
      });
    },
  );

  it('refuses an ID-token-shaped payload', async () => {
    const idToken = {
      iss: ISSUER,
      sub: 'sub-1',
      aud: 'rp-a',
      iat: NOW_S,
      exp: NOW_S + 60,
      auth_time: NOW_S,
      nonce: 'n-0S6_WzA2Mj',
      acr: 'urn:myna:jpki:user-auth',
      amr: ['hwk', 'pin'],
    };
    expect((await refusal(idToken)).code).toBe('NOT_A_LOGOUT_TOKEN');
    // Even dressed up with the logout event, an ID token's claims are refused one by one.
    for (const claim of ['auth_time', 'at_hash', 'c_hash', 'azp', 'acr', 'amr', 'email', 'name']) {
      const error = await refusal(logoutToken({ [claim]: 'x' }));
      expect(error.message).toBe(`not a logout token: ${claim} is not a logout token claim`);
    }
  });

  it('refuses a nonce, and a missing or altered events claim', async () => {
    expect((await refusal(logoutToken({ nonce: 'abc' }))).message).toBe(
      'not a logout token: a logout token must not carry a nonce',
    );
    const { events: _events, ...withoutEvents } = logoutToken();
    expect((await refusal(withoutEvents)).message).toBe('not a logout token: the events claim is missing');
    for (const events of [
      {},
      { [BACKCHANNEL_LOGOUT_EVENT]: { extra: true } },
      { [BACKCHANNEL_LOGOUT_EVENT]: {}, 'urn:other:event': {} },
      [BACKCHANNEL_LOGOUT_EVENT],
      'logout',
    ]) {
      expect((await refusal(logoutToken({ events }))).message).toMatch(/^not a logout token: events must be/);
    }
  });

  it('refuses another issuer, no sub and no sid, an aud list, and bad identifiers', async () => {
    expect((await refusal(logoutToken({ iss: 'https://evil.example' }))).message).toMatch(/iss is not/);
    const { sub: _sub, sid: _sid, ...anonymous } = logoutToken();
    expect((await refusal(anonymous)).message).toMatch(/neither sub nor sid/);
    expect((await refusal(logoutToken({ aud: ['rp-a', 'rp-b'] }))).message).toMatch(/aud must be a string/);
    expect((await refusal(logoutToken({ jti: '' }))).message).toMatch(/jti must be a string/);
    expect((await refusal(logoutToken({ sub: 'x'.repeat(256) }))).message).toMatch(/sub must be a string/);
    for (const payload of [null, 'token', ['events'], 42]) {
      expect((await refusal(payload)).message).toBe('not a logout token: the payload is not a JSON object');
    }
  });

  it('refuses a long-lived, back-dated or future token', async () => {
    expect((await refusal(logoutToken({ exp: NOW_S + 86_400 }))).message).toMatch(/exp may be at most/);
    expect((await refusal(logoutToken({ exp: NOW_S }))).message).toMatch(/exp must follow iat/);
    const hourAgo = NOW_S - 3600;
    expect((await refusal(logoutToken({ iat: hourAgo, exp: hourAgo + 60 }))).message).toMatch(/iat must be/);
    expect((await refusal(logoutToken({ iat: NOW_S + 3600, exp: NOW_S + 3660 }))).message).toMatch(
      /iat must be/,
    );
  });

  it('refuses an unknown client and a client without back-channel logout', async () => {
    for (const aud of ['rp-unknown', 'rp-plain']) {
      const error = await refusal(logoutToken({ aud }));
      expect(error.code).toBe('UNKNOWN_CLIENT');
    }
  });

  it('refuses any algorithm the OP does not sign with', async () => {
    for (const alg of ['none', 'HS256', 'RS512', '']) {
      expect((await refusal(logoutToken(), alg)).code).toBe('UNSUPPORTED_ALGORITHM');
    }
  });

  it('refuses every payload with a claim outside the logout-token claims (property)', async () => {
    const allowed = new Set(['iss', 'aud', 'iat', 'exp', 'jti', 'events', 'sub', 'sid']);
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 12 }).filter((claim) => !allowed.has(claim)),
        fc.jsonValue(),
        async (claim, value) => {
          // JSON.parse, as the Lambda receives it: a "__proto__" claim is an own property there too.
          const payload = JSON.parse(JSON.stringify({ ...logoutToken(), [claim]: value })) as Record<
            string,
            unknown
          >;
          if (!Object.hasOwn(payload, claim)) return; // a value JSON drops (undefined)
          await expect(signer.sign({ payload, alg: 'RS256' })).rejects.toMatchObject({
            code: 'NOT_A_LOGOUT_TOKEN',
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('the logout-token signer Lambda, invoked as the notification job invokes it', () => {
  const SIGNER = 'MynaOidc-LogoutTokenSigner';
  const logger = memoryLogger();
  let lambda: FakeLambda;
  let remote: LambdaLogoutTokenSigner;
  let options: LambdaInvokeOptions;

  beforeAll(async () => {
    lambda = await startFakeLambda({
      [SIGNER]: createLogoutSignerHandler(signer, logger),
      broken: async () => {
        throw new Error('secret unavailable');
      },
    });
    options = {
      region: 'ap-northeast-1',
      endpoint: lambda.endpoint,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'local-secret' },
    };
    remote = new LambdaLogoutTokenSigner(SIGNER, options);
  });
  afterAll(() => lambda?.close());

  it('returns a token that verifies with the OP key, over one SigV4-signed Invoke', async () => {
    const token = await remote.sign({ payload: logoutToken(), alg: 'RS256' });
    expect(decodeProtectedHeader(token).typ).toBe('logout+jwt');
    await expect(jwtVerify(token, publicKeyOf('RSA').key, { currentDate: NOW })).resolves.toBeDefined();
    const [invocation] = lambda.invocations;
    expect(invocation?.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/ap-northeast-1\/lambda\/aws4_request, SignedHeaders=/,
    );
  });

  it('passes a refusal on as LogoutTokenRefusedError and logs it without sub, sid or payload', async () => {
    const error = await remote
      .sign({ payload: logoutToken({ nonce: 'abc', sub: 'secret-sub-7' }), alg: 'RS256' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LogoutTokenRefusedError);
    expect(error).toMatchObject({ code: 'NOT_A_LOGOUT_TOKEN', message: expect.stringMatching(/nonce/) });
    const refused = logger.lines.filter((line) => line.event === 'logout_token.refused');
    expect(refused.map((line) => line.fields)).toEqual([
      {
        code: 'NOT_A_LOGOUT_TOKEN',
        reason: 'not a logout token: a logout token must not carry a nonce',
        client_id: 'rp-a',
      },
    ]);
    expect(JSON.stringify(logger.lines)).not.toMatch(/secret-sub-7|sid-1/);
  });

  it('names the function when it fails or is not there', async () => {
    await expect(
      new LambdaLogoutTokenSigner('broken', options).sign({ payload: logoutToken(), alg: 'RS256' }),
    ).rejects.toThrow('Lambda broken failed (Unhandled)');
    await expect(
      new LambdaLogoutTokenSigner('missing', options).sign({ payload: logoutToken(), alg: 'RS256' }),
    ).rejects.toThrow('Lambda Invoke of missing answered 404');
  });
});

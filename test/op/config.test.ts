/** OP configuration checks and the Lambda environment. */
import { describe, expect, it } from '@jest/globals';
import { type OpConfig, resolveOpConfig } from '../../functions/op/config.js';
import { readLambdaEnv } from '../../functions/op/lambda-env.js';
import { generateSecrets } from '../../functions/secrets/local-secrets.js';
import { devPki, userAuthAnchors } from '../support/dev-pki.js';

async function baseConfig(): Promise<OpConfig> {
  const never = () => Promise.reject(new Error('unused'));
  return {
    issuer: 'https://login.example.jp',
    trustAnchors: userAuthAnchors(await devPki()),
    revocation: { status: never },
    secrets: await generateSecrets(),
    storage: {
      adapter: () => ({}) as never,
      challenges: { issue: never, consume: never },
      accounts: { accountForLogin: never, find: never },
      clients: { list: never },
    },
  };
}

describe('resolveOpConfig', () => {
  it('fills in defaults and derives the origin', async () => {
    const config = resolveOpConfig(await baseConfig());
    expect(config).toMatchObject({
      origin: 'https://login.example.jp',
      clockSkewSeconds: 60,
      helperPort: 47123,
      allowUnknownRevocation: false,
      dev: false,
    });
  });

  it.each([
    [{ issuer: 'http://login.example.jp' }, /must be https/],
    [{ issuer: 'http://localhost:3000' }, /must be https/],
    [{ issuer: 'https://login.example.jp/op' }, /without path/],
    [{ issuer: 'https://login.example.jp/' }, /trailing slash/],
    [{ issuer: 'not a url' }, /not a URL/],
    [{ clockSkewSeconds: 3600 }, /clockSkewSeconds/],
    [{ helperPort: 70000 }, /helperPort/],
  ])('refuses %j', async (override, message) => {
    const config = { ...(await baseConfig()), ...override } as OpConfig;
    expect(() => resolveOpConfig(config)).toThrow(message);
  });

  it('allows an http loopback issuer only in dev mode', async () => {
    const config = { ...(await baseConfig()), issuer: 'http://localhost:3000', dev: true };
    expect(resolveOpConfig(config).origin).toBe('http://localhost:3000');
  });
});

describe('readLambdaEnv', () => {
  const env = {
    OP_ISSUER: 'https://login.example.jp',
    OP_TABLE_NAME: 'myna',
    OP_SECRET_ID: 'arn:secret',
    OP_TRUST_ANCHORS_FILE: 'trust/jpki.pem',
  };

  it('reads the variables with their defaults', () => {
    expect(
      readLambdaEnv({ ...env, OP_CRL_FILES: 'a.crl, b.crl', OP_CLOCK_SKEW_SECONDS: '30' }),
    ).toMatchObject({
      issuer: 'https://login.example.jp',
      crlFiles: ['a.crl', ' b.crl'],
      allowUnknownRevocation: false,
      revocationPolicy: 'crl',
      clockSkewSeconds: 30,
      helperPort: undefined,
    });
  });

  it('names a missing or malformed variable', () => {
    expect(() => readLambdaEnv({ ...env, OP_TABLE_NAME: '' })).toThrow(/OP_TABLE_NAME/);
    expect(() => readLambdaEnv({ ...env, OP_HELPER_PORT: '12ab' })).toThrow(/OP_HELPER_PORT/);
    expect(() => readLambdaEnv({ ...env, OP_REVOCATION_POLICY: 'off' })).toThrow(/OP_REVOCATION_POLICY/);
    expect(readLambdaEnv({ ...env, OP_REVOCATION_POLICY: 'ocsp-then-crl' }).revocationPolicy).toBe(
      'ocsp-then-crl',
    );
    expect(() => readLambdaEnv({ ...env, OP_ALLOW_UNKNOWN_REVOCATION: 'yes' })).toThrow(
      /OP_ALLOW_UNKNOWN_REVOCATION/,
    );
  });
});

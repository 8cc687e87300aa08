/** OP configuration checks and the Lambda environment. */
import { describe, expect, it } from '@jest/globals';
import { type OpConfig, resolveOpConfig } from '../../functions/op/config.js';
import { readLambdaEnv, readSharedEnv } from '../../functions/op/lambda-env.js';
import { generateSecrets } from '../../functions/secrets/local-secrets.js';
import { createDynamoClient } from '../../functions/storage/dynamo-client.js';
import { LogoutQueue } from '../../functions/storage/logout-queue.js';
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
      accounts: { accountForLogin: never, knownAccount: never, find: never },
      clients: { list: never },
      rateCounter: { hit: never },
      logoutQueue: new LogoutQueue({
        client: createDynamoClient({ endpoint: 'http://127.0.0.1:9' }),
        tableName: 'unused',
      }),
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
      privateRpHosts: [],
      dev: false,
    });
  });

  it('normalises the private RP hosts and refuses an entry that is not a bare host', async () => {
    const config = {
      ...(await baseConfig()),
      privateRpHosts: ['RP.Internal.example', '[fd00::5]', '10.0.0.7'],
    };
    expect(resolveOpConfig(config).privateRpHosts).toEqual(['rp.internal.example', 'fd00::5', '10.0.0.7']);
    const bad = { ...(await baseConfig()), privateRpHosts: ['https://rp.internal.example'] };
    expect(() => resolveOpConfig(bad)).toThrow(
      'OP configuration: privateRpHosts: private RP host "https://rp.internal.example" must be a host name or an IP address (no scheme, port or path)',
    );
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
      crlFiles: ['a.crl', 'b.crl'],
      privateRpHosts: [],
      allowUnknownRevocation: false,
      revocationPolicy: 'crl',
      clockSkewSeconds: 30,
      helperPort: undefined,
    });
  });

  it('reads the part both Lambdas share, OP_PRIVATE_RP_HOSTS included, for the notification job too', () => {
    const { OP_TRUST_ANCHORS_FILE: _opOnly, ...jobEnv } = env;
    const shared = {
      issuer: 'https://login.example.jp',
      tableName: 'myna',
      secretIds: { signing: 'arn:secret', certificateKey: 'arn:cert', pairwise: 'arn:pairwise' },
      privateRpHosts: ['rp.internal.example', '10.0.0.7'],
    };
    const withHosts = {
      OP_PRIVATE_RP_HOSTS: ' rp.internal.example, ,10.0.0.7 ',
      OP_CERTIFICATE_KEY_SECRET_ID: 'arn:cert',
      OP_PAIRWISE_SECRET_ID: 'arn:pairwise',
    };
    expect(readSharedEnv({ ...jobEnv, ...withHosts })).toEqual(shared);
    expect(readLambdaEnv({ ...env, ...withHosts })).toMatchObject(shared);
    expect(() => readSharedEnv({ ...jobEnv, OP_ISSUER: '' })).toThrow(
      'environment variable OP_ISSUER is required',
    );
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

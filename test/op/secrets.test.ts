/** Secrets: local generation and reuse, Secrets Manager, validation, and signing-key rotation. */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { loadAwsSecrets } from '../../functions/secrets/aws-secrets.js';
import {
  generateSecrets,
  LOCAL_SECRETS_FILE,
  loadLocalSecrets,
} from '../../functions/secrets/local-secrets.js';
import {
  type OpSecrets,
  parseSecrets,
  providerJwks,
  serializeSecrets,
} from '../../functions/secrets/op-secrets.js';
import { rotateSigningKeys } from '../../functions/secrets/signing-keys.js';
import { useLocalTables } from '../storage/local-table.js';
import { aliceCard } from '../support/card.js';
import { relyingParty, rpLogin, TestBrowser, VirtualCardSigner } from '../support/oidc-flow.js';
import { startTestOp, TEST_CLIENTS } from '../support/op-stack.js';

const newTable = useLocalTables();
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'myna-secrets-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('local secrets', () => {
  it('generates secrets once (mode 0600) and reuses them on the next start', async () => {
    const first = await loadLocalSecrets(join(dir, 'data'));
    const file = join(dir, 'data', LOCAL_SECRETS_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const second = await loadLocalSecrets(join(dir, 'data'));
    expect(second).toEqual(first);
    expect(first.subjectSecret.length).toBe(32);
    expect(first.jwks.keys.map((key) => [key.alg, key.status])).toEqual([
      ['RS256', 'active'],
      ['ES256', 'active'],
    ]);
    expect(JSON.parse(await readFile(file, 'utf8')).subjectSecret).toEqual(expect.any(String));
  });

  it('refuses incomplete secrets with SECRETS_MALFORMED', async () => {
    const good = JSON.parse(serializeSecrets(await generateSecrets()));
    const broken = [
      'not json',
      JSON.stringify({ ...good, subjectSecret: 'c2hvcnQ' }),
      JSON.stringify({ ...good, cookieKeys: [] }),
      JSON.stringify({
        ...good,
        jwks: { keys: good.jwks.keys.map((key: object) => ({ ...key, status: 'next' })) },
      }),
    ];
    for (const text of broken)
      expect(() => parseSecrets(text)).toThrow(expect.objectContaining({ code: 'SECRETS_MALFORMED' }));
  });
});

describe('AWS secrets', () => {
  it('reads the same JSON from Secrets Manager, and reports a missing secret as SECRETS_UNAVAILABLE', async () => {
    const secrets = await generateSecrets();
    const requests: unknown[] = [];
    const manager = {
      send: async (command: { input: unknown }) => {
        requests.push(command.input);
        return { SecretString: serializeSecrets(secrets) };
      },
    } as unknown as SecretsManagerClient;
    expect(await loadAwsSecrets('arn:aws:secretsmanager:x', manager)).toEqual(secrets);
    expect(requests).toEqual([{ SecretId: 'arn:aws:secretsmanager:x' }]);
    const failing = {
      send: async () => Promise.reject(new Error('ResourceNotFoundException')),
    } as unknown as SecretsManagerClient;
    await expect(loadAwsSecrets('missing', failing)).rejects.toMatchObject({ code: 'SECRETS_UNAVAILABLE' });
  });
});

describe('signing-key rotation', () => {
  let card: VirtualCardSigner;
  beforeAll(async () => {
    card = new VirtualCardSigner((await aliceCard()).identity);
  });
  afterAll(() => card.close());

  /** Runs an OP with `secrets`, signs in once; returns the ID token and the published JWKS. */
  async function withOp(secrets: OpSecrets) {
    const op = await startTestOp({ table: await newTable(), secrets });
    try {
      const A = TEST_CLIENTS.firstParty;
      const rp = await relyingParty({ issuer: op.url, clientId: A.client_id, clientSecret: A.client_secret });
      const { tokens } = await rpLogin({
        rp,
        browser: new TestBrowser(),
        card,
        redirectUri: A.redirect_uris[0] as string,
      });
      const jwks = (await (await fetch(`${op.url}/jwks`)).json()) as { keys: { kid: string; d?: string }[] };
      return { idToken: tokens.id_token as string, jwks };
    } finally {
      await op.close();
    }
  }

  it('publishes a new key before using it; tokens of the old key verify after the switch', async () => {
    const v1 = await generateSecrets();
    const rsa = (secrets: OpSecrets, status: string) =>
      secrets.jwks.keys.find((key) => key.alg === 'RS256' && key.status === status)?.kid;
    const oldKid = rsa(v1, 'active');

    const v2 = await rotateSigningKeys(v1);
    const newKid = rsa(v2, 'next');
    expect(rsa(v2, 'active')).toBe(oldKid);
    const before = await withOp(v2);
    expect(decodeProtectedHeader(before.idToken).kid).toBe(oldKid);
    expect(before.jwks.keys.map((key) => key.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));
    expect(before.jwks.keys.every((key) => key.d === undefined)).toBe(true);

    const v3 = await rotateSigningKeys(v2);
    expect(rsa(v3, 'active')).toBe(newKid);
    expect(rsa(v3, 'retiring')).toBe(oldKid);
    const after = await withOp(v3);
    expect(decodeProtectedHeader(after.idToken).kid).toBe(newKid);
    await expect(jwtVerify(before.idToken, createLocalJWKSet(after.jwks as never))).resolves.toBeDefined();

    const v4 = await rotateSigningKeys(v3);
    expect(v4.jwks.keys.map((key) => key.kid)).not.toContain(oldKid);
    expect(providerJwks(v4).keys[0]).not.toHaveProperty('status');
    expect(v4.subjectSecret).toEqual(v1.subjectSecret);
  });
});

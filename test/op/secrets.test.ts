/**
 * Secrets: local generation and reuse, the per-purpose Secrets Manager secrets, validation, the
 * split of a pre-split deployment (every certificate key and `sub` unchanged), signing-key rotation.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { parseCertificate } from '../../functions/jpki/certificate.js';
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
  serializeSigningSecrets,
} from '../../functions/secrets/op-secrets.js';
import { provisionSecrets } from '../../functions/secrets/provision-handler.js';
import { rotateSigningKeys } from '../../functions/secrets/signing-keys.js';
import { certificateKey } from '../../functions/subject/certificate-key.js';
import { subjectFor } from '../../functions/subject/subject-for.js';
import { fakeSecretsManager } from '../infra/fake-secrets-manager.js';
import { scanAll, type TestTable, useLocalTables } from '../storage/local-table.js';
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
    expect(first.certificateKeySecret.length).toBe(32);
    expect(first.pairwiseSecret.length).toBe(32);
    expect(Buffer.from(first.pairwiseSecret)).not.toEqual(Buffer.from(first.certificateKeySecret));
    expect(first.jwks.keys.map((key) => [key.alg, key.status])).toEqual([
      ['RS256', 'active'],
      ['ES256', 'active'],
    ]);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({
      certificateKeySecret: expect.any(String),
      pairwiseSecret: expect.any(String),
    });
  });

  it('refuses incomplete secrets with SECRETS_MALFORMED', async () => {
    const good = JSON.parse(serializeSecrets(await generateSecrets()));
    const broken = [
      'not json',
      JSON.stringify({ ...good, certificateKeySecret: 'c2hvcnQ' }),
      JSON.stringify({ ...good, pairwiseSecret: undefined }),
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

/** Runs an OP on `table` with `secrets`, signs in once at the first-party client with `card`. */
async function firstPartyLogin(options: { table: TestTable; secrets: OpSecrets; card: VirtualCardSigner }) {
  const op = await startTestOp({ table: options.table, secrets: options.secrets });
  try {
    const A = TEST_CLIENTS.firstParty;
    const rp = await relyingParty({ issuer: op.url, clientId: A.client_id, clientSecret: A.client_secret });
    const { tokens } = await rpLogin({
      rp,
      browser: new TestBrowser(),
      card: options.card,
      redirectUri: A.redirect_uris[0] as string,
    });
    const jwks = (await (await fetch(`${op.url}/jwks`)).json()) as { keys: { kid: string; d?: string }[] };
    return { tokens, jwks };
  } finally {
    await op.close();
  }
}

const IDS = {
  SigningSecretId: 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:Signing-a',
  CertificateKeySecretId: 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:CertificateKey-b',
  PairwiseSecretId: 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:Pairwise-c',
} as const;
const AWS_IDS = {
  signing: IDS.SigningSecretId,
  certificateKey: IDS.CertificateKeySecretId,
  pairwise: IDS.PairwiseSecretId,
};

describe('AWS secrets', () => {
  it('reads one secret per purpose; the signing secret alone holds no identity secret', async () => {
    const secrets = await generateSecrets();
    const fake = fakeSecretsManager({
      [IDS.SigningSecretId]: serializeSigningSecrets(secrets),
      [IDS.CertificateKeySecretId]: JSON.stringify({
        certificateKeySecret: Buffer.from(secrets.certificateKeySecret).toString('base64url'),
      }),
      [IDS.PairwiseSecretId]: JSON.stringify({
        pairwiseSecret: Buffer.from(secrets.pairwiseSecret).toString('base64url'),
      }),
    });
    expect(await loadAwsSecrets(AWS_IDS, fake.client)).toEqual(secrets);
    await expect(loadAwsSecrets({ signing: IDS.SigningSecretId }, fake.client)).rejects.toMatchObject({
      code: 'SECRETS_MALFORMED',
    });
    await expect(
      loadAwsSecrets(
        { signing: IDS.SigningSecretId, certificateKey: IDS.CertificateKeySecretId },
        fake.client,
      ),
    ).rejects.toMatchObject({ code: 'SECRETS_MALFORMED' });
  });

  it('reads a single secret holding every part, and reports a missing secret as SECRETS_UNAVAILABLE', async () => {
    const secrets = await generateSecrets();
    const requests: unknown[] = [];
    const manager = {
      send: async (command: { input: unknown }) => {
        requests.push(command.input);
        return { SecretString: serializeSecrets(secrets) };
      },
    } as unknown as SecretsManagerClient;
    expect(await loadAwsSecrets({ signing: 'arn:aws:secretsmanager:x' }, manager)).toEqual(secrets);
    expect(requests).toEqual([{ SecretId: 'arn:aws:secretsmanager:x' }]);
    const failing = {
      send: async () => Promise.reject(new Error('ResourceNotFoundException')),
    } as unknown as SecretsManagerClient;
    await expect(loadAwsSecrets({ signing: 'missing' }, failing)).rejects.toMatchObject({
      code: 'SECRETS_UNAVAILABLE',
    });
  });
});

describe('the secret split of a deployment made before it', () => {
  let card: VirtualCardSigner;
  let certificate: ReturnType<typeof parseCertificate>;
  beforeAll(async () => {
    const { identity } = await aliceCard();
    card = new VirtualCardSigner(identity);
    certificate = parseCertificate(identity.userAuthCertificate);
  });
  afterAll(() => card.close());

  it('keeps every certificate key and sub: a login after the split finds the account and sub the old secret gave', async () => {
    // The one secret of a pre-split deployment, as the old provisioner wrote it.
    const signing = await generateSecrets();
    const oldSubjectSecret = new Uint8Array(randomBytes(32));
    const legacy = `${JSON.stringify({
      jwks: signing.jwks,
      cookieKeys: signing.cookieKeys,
      subjectSecret: Buffer.from(oldSubjectSecret).toString('base64url'),
    })}\n`;
    const fake = fakeSecretsManager({
      [IDS.SigningSecretId]: legacy,
      [IDS.CertificateKeySecretId]: undefined,
      [IDS.PairwiseSecretId]: undefined,
    });
    expect(await provisionSecrets(IDS, fake.client)).toBe('split');
    expect(fake.versions(IDS.SigningSecretId)).toEqual([{ value: legacy }]);
    expect(await provisionSecrets(IDS, fake.client)).toBe('kept');

    const secrets = await loadAwsSecrets(AWS_IDS, fake.client);
    const table = await newTable();
    const { tokens } = await firstPartyLogin({ table, secrets, card });
    // What the code before the split computed with subjectSecret: the certificate pointer's key
    // (HMAC of issuer + serial) and the pairwise sub of that account at this client's sector.
    const oldKey = certificateKey(oldSubjectSecret, certificate.issuer, certificate.serialNumber);
    const pointer = (await scanAll(table)).find((item) => item.pk === `CERT#${oldKey}`);
    expect(pointer).toEqual(expect.objectContaining({ accountId: expect.any(String) }));
    const accountId = pointer?.accountId as string;
    expect(tokens.claims()?.sub).toBe(subjectFor(oldSubjectSecret, TEST_CLIENTS.firstParty, accountId));
  });

  it('refuses to invent an identity secret for a provisioned deployment, or to keep one that differs', async () => {
    const secrets = await generateSecrets();
    const provisioned = fakeSecretsManager({
      [IDS.SigningSecretId]: serializeSigningSecrets(secrets),
      [IDS.CertificateKeySecretId]: undefined,
      [IDS.PairwiseSecretId]: undefined,
    });
    await expect(provisionSecrets(IDS, provisioned.client)).rejects.toThrow(/restore it/);
    expect(provisioned.calls.filter((call) => call.startsWith('Put'))).toEqual([]);

    const legacy = JSON.stringify({
      ...JSON.parse(serializeSigningSecrets(secrets)),
      subjectSecret: Buffer.alloc(32, 1).toString('base64url'),
    });
    const differing = fakeSecretsManager({
      [IDS.SigningSecretId]: legacy,
      [IDS.CertificateKeySecretId]: JSON.stringify({
        certificateKeySecret: Buffer.alloc(32, 2).toString('base64url'),
      }),
      [IDS.PairwiseSecretId]: undefined,
    });
    await expect(provisionSecrets(IDS, differing.client)).rejects.toThrow(
      /differs from the pre-split subjectSecret/,
    );
    expect(differing.calls.filter((call) => call.startsWith('Put'))).toEqual([]);
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
    const { tokens, jwks } = await firstPartyLogin({ table: await newTable(), secrets, card });
    return { idToken: tokens.id_token as string, jwks };
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
    expect(v4.certificateKeySecret).toEqual(v1.certificateKeySecret);
    expect(v4.pairwiseSecret).toEqual(v1.pairwiseSecret);
  });
});

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { setSecretsManagerFactory } from '../../cli/commands/keys.js';
import { runCli } from '../../cli/main.js';
import { generateSecrets, loadLocalSecrets } from '../../functions/secrets/local-secrets.js';
import { parseSecrets, serializeSecrets } from '../../functions/secrets/op-secrets.js';
import { fakeSecretsManager } from '../infra/fake-secrets-manager.js';
import { runCaptured } from '../support/cli.js';

describe('myna-oidc keys', () => {
  it('rotates in two steps: publish a next key first, then promote it and keep the old one published', async () => {
    const data = await mkdtemp(join(tmpdir(), 'myna-keys-'));
    const before = await loadLocalSecrets(data);
    const active = before.jwks.keys.filter((key) => key.status === 'active').map((key) => key.kid);

    expect((await runCaptured(runCli, ['keys', 'rotate', '--data', data])).code).toBe(0);
    const first = await loadLocalSecrets(data);
    expect(first.jwks.keys.filter((key) => key.status === 'active').map((key) => key.kid)).toEqual(active);
    const next = first.jwks.keys.filter((key) => key.status === 'next').map((key) => key.kid);
    expect(next).toHaveLength(active.length);

    const listed = await runCaptured(runCli, ['keys', 'rotate', '--data', data]);
    const second = await loadLocalSecrets(data);
    expect(second.jwks.keys.filter((key) => key.status === 'active').map((key) => key.kid)).toEqual(next);
    expect(second.jwks.keys.filter((key) => key.status === 'retiring').map((key) => key.kid)).toEqual(active);
    for (const kid of [...active, ...next]) expect(listed.out).toContain(kid);
  });

  it('refuses an unknown subcommand', async () => {
    expect((await runCaptured(runCli, ['keys', 'frob'])).code).toBe(2);
  });
});

const SECRET = 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:MynaOidcSecret-abc';
let restore: (() => void) | undefined;

afterEach(() => restore?.());

describe('myna-oidc keys --secret-id (the deployed stack)', () => {
  it('rotates in the secret: publishes a next key, then promotes it, keeping the subject secret', async () => {
    const initial = await generateSecrets();
    const fake = fakeSecretsManager({ [SECRET]: serializeSecrets(initial) });
    const regions: (string | undefined)[] = [];
    const previous = setSecretsManagerFactory((region) => {
      regions.push(region);
      return fake.client;
    });
    restore = () => setSecretsManagerFactory(previous);
    const active = initial.jwks.keys.map((key) => key.kid);

    const first = await runCaptured(runCli, [
      'keys',
      'rotate',
      '--secret-id',
      SECRET,
      '--region',
      'ap-northeast-1',
    ]);
    expect(first.code).toBe(0);
    const afterFirst = parseSecrets(fake.versions(SECRET).at(-1)?.value as string);
    expect(afterFirst.jwks.keys.filter((key) => key.status === 'active').map((key) => key.kid)).toEqual(
      active,
    );
    const next = afterFirst.jwks.keys.filter((key) => key.status === 'next').map((key) => key.kid);
    expect(next).toHaveLength(2);

    expect((await runCaptured(runCli, ['keys', 'rotate', '--secret-id', SECRET])).code).toBe(0);
    const afterSecond = parseSecrets(fake.versions(SECRET).at(-1)?.value as string);
    expect(afterSecond.jwks.keys.filter((key) => key.status === 'active').map((key) => key.kid)).toEqual(
      next,
    );
    expect(afterSecond.jwks.keys.filter((key) => key.status === 'retiring').map((key) => key.kid)).toEqual(
      active,
    );
    expect(Buffer.from(afterSecond.certificateKeySecret)).toEqual(Buffer.from(initial.certificateKeySecret));
    expect(Buffer.from(afterSecond.pairwiseSecret)).toEqual(Buffer.from(initial.pairwiseSecret));
    expect(afterSecond.cookieKeys).toEqual(initial.cookieKeys);
    expect(regions).toEqual(['ap-northeast-1', undefined]);
    // Each rotation: load, then re-read just before the write (so no other field is lost), write.
    const rotation = [`GetSecretValue ${SECRET}`, `GetSecretValue ${SECRET}`, `PutSecretValue ${SECRET}`];
    expect(fake.calls).toEqual([...rotation, ...rotation]);
  });

  it('lists without writing, and refuses --data together with --secret-id', async () => {
    const fake = fakeSecretsManager({ [SECRET]: serializeSecrets(await generateSecrets()) });
    const previous = setSecretsManagerFactory(() => fake.client);
    restore = () => setSecretsManagerFactory(previous);
    const listed = await runCaptured(runCli, ['keys', 'list', '--secret-id', SECRET]);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/RS256 {2}active/);
    expect(fake.calls).toEqual([`GetSecretValue ${SECRET}`]);
    expect((await runCaptured(runCli, ['keys', 'list', '--secret-id', SECRET, '--data', '.data'])).code).toBe(
      2,
    );
  });

  it('fails cleanly on an empty secret', async () => {
    const fake = fakeSecretsManager({ [SECRET]: undefined });
    const previous = setSecretsManagerFactory(() => fake.client);
    restore = () => setSecretsManagerFactory(previous);
    const run = await runCaptured(runCli, ['keys', 'rotate', '--secret-id', SECRET]);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/SECRETS_UNAVAILABLE/);
  });

  it('rotation keeps a pre-split subjectSecret; drop-legacy-subject-secret removes it only once both copies match', async () => {
    const signing = await generateSecrets();
    const legacyValue = Buffer.alloc(32, 7).toString('base64url');
    const legacy = JSON.stringify({
      jwks: signing.jwks,
      cookieKeys: signing.cookieKeys,
      subjectSecret: legacyValue,
    });
    const CERT = `${SECRET}-certificate-key`;
    const PAIRWISE = `${SECRET}-pairwise`;
    const fake = fakeSecretsManager({
      [SECRET]: legacy,
      [CERT]: JSON.stringify({ certificateKeySecret: legacyValue }),
      [PAIRWISE]: JSON.stringify({ pairwiseSecret: Buffer.alloc(32, 8).toString('base64url') }),
    });
    const previous = setSecretsManagerFactory(() => fake.client);
    restore = () => setSecretsManagerFactory(previous);

    expect((await runCaptured(runCli, ['keys', 'rotate', '--secret-id', SECRET])).code).toBe(0);
    expect(JSON.parse(fake.versions(SECRET).at(-1)?.value as string).subjectSecret).toBe(legacyValue);

    const drop = [
      'keys',
      'drop-legacy-subject-secret',
      '--secret-id',
      SECRET,
      '--certificate-key-secret-id',
      CERT,
      '--pairwise-secret-id',
      PAIRWISE,
    ];
    const refused = await runCaptured(runCli, drop);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/does not hold the subjectSecret/);
    expect(fake.versions(SECRET)).toHaveLength(2);

    fake.versions(PAIRWISE).push({ value: JSON.stringify({ pairwiseSecret: legacyValue }) });
    expect((await runCaptured(runCli, drop)).code).toBe(0);
    const stored = JSON.parse(fake.versions(SECRET).at(-1)?.value as string);
    expect(stored).not.toHaveProperty('subjectSecret');
    expect(
      parseSecrets(
        JSON.stringify({ ...stored, certificateKeySecret: legacyValue, pairwiseSecret: legacyValue }),
      ).jwks,
    ).toEqual(parseSecrets(fake.versions(SECRET).at(-2)?.value as string).jwks);
    expect((await runCaptured(runCli, drop)).out).toMatch(/nothing to do/);
  });
});

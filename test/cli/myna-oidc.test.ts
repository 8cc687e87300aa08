import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { runCli } from '../../cli/main.js';
import type { DevPkiManifest } from '../../dev-pki/hierarchy.js';
import { runCaptured } from '../support/cli.js';

let dir: string;
let manifest: DevPkiManifest;
const cli = (...argv: string[]) => runCaptured(runCli, argv);
const path = (...parts: string[]) => join(dir, ...parts);
const trust = () => manifest.userAuthTrustAnchors.flatMap((anchor) => ['--trust', path(anchor)]);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'myna-cli-'));
  const created = await cli('dev-pki', 'create', dir);
  expect(created.code).toBe(0);
  expect(created.out).toContain('DEVELOPMENT ONLY');
  manifest = JSON.parse(await readFile(path('manifest.json'), 'utf8'));
});

describe('myna-oidc cert inspect', () => {
  it('describes a user-auth certificate in text and JSON', async () => {
    const text = await cli('cert', 'inspect', path('identities/alice/user-auth.pem'));
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^kind\s+user-auth$/m);
    expect(text.out).toMatch(
      /^CRL DP\s+C=JP, O=JPKI, OU=JPKI for user authentication, OU=CRL Distribution Points/m,
    );
    const json = JSON.parse(
      (await cli('cert', 'inspect', path('identities/alice/signing.pem'), '--json')).out,
    );
    expect(json).toMatchObject({
      kind: 'signing',
      key: 'RSASSA-PKCS1-v1_5 2048 bits',
      policies: ['1.2.392.200149.8.5.1.1.20'],
    });
    expect(json.serialNumber).toMatch(/^[0-9a-f]{8}$/);
    expect(json.ocsp).toEqual([]);
  });

  it('reads DER as well as PEM', async () => {
    const pem = await readFile(path('identities/alice/user-auth.pem'), 'utf8');
    const der = Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    await writeFile(path('alice.der'), der);
    expect((await cli('cert', 'inspect', path('alice.der'))).out).toMatch(/^kind\s+user-auth$/m);
  });

  it('fails with a message for a file that is not a certificate', async () => {
    await writeFile(path('junk.der'), 'junk');
    const run = await cli('cert', 'inspect', path('junk.der'));
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/not a readable X.509 certificate/);
  });
});

describe('myna-oidc cert verify', () => {
  it('exits 0 for a valid certificate, reporting the CA generation and revocation', async () => {
    const crls = manifest.crls
      .filter((crl) => crl.includes('user-auth'))
      .flatMap((crl) => ['--crl', path(crl)]);
    const run = await cli(
      'cert',
      'verify',
      path('identities/alice/user-auth.pem'),
      ...trust(),
      ...crls,
      '--json',
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toMatchObject({ valid: true, kind: 'user-auth', revocation: 'good' });
  });

  it('exits 1 with the error code when invalid at the given time', async () => {
    const run = await cli(
      'cert',
      'verify',
      path('identities/alice/user-auth.pem'),
      ...trust(),
      '--at',
      '2100-01-01T00:00:00Z',
    );
    expect(run.code).toBe(1);
    expect(run.out).toMatch(/^invalid: (CERTIFICATE_EXPIRED|ISSUER_NOT_VALID):/);
  });

  it('exits 1 with REVOKED for a certificate on the CRL', async () => {
    const crls = manifest.crls
      .filter((crl) => crl.startsWith('crl/user-auth') && crl.endsWith('.revoked.crl'))
      .flatMap((crl) => ['--crl', path(crl)]);
    const run = await cli(
      'cert',
      'verify',
      path('identities/revoked/user-auth.pem'),
      ...trust(),
      ...crls,
      '--json',
    );
    expect(run.code).toBe(1);
    expect(JSON.parse(run.out)).toMatchObject({ valid: false, code: 'REVOKED' });
  });

  it('exits 1 with NOT_USER_AUTH_CERTIFICATE or ISSUER_UNTRUSTED for a signing certificate', async () => {
    const untrusted = await cli('cert', 'verify', path('identities/alice/signing.pem'), ...trust());
    expect(untrusted.out).toMatch(/^invalid: ISSUER_UNTRUSTED/);
    const signingCa = ['--trust', path(manifest.signingCa)];
    const policy = await cli(
      'cert',
      'verify',
      path('identities/alice/signing.pem'),
      ...trust(),
      ...signingCa,
    );
    expect(policy.out).toMatch(/^invalid: NOT_USER_AUTH_CERTIFICATE/);
  });

  it('fails with a clear message when a CRL is not from a trusted CA', async () => {
    const signingCrl = manifest.crls.find((crl) => crl.startsWith('crl/signing')) as string;
    const run = await cli(
      'cert',
      'verify',
      path('identities/alice/user-auth.pem'),
      ...trust(),
      '--crl',
      path(signingCrl),
    );
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/CRL_UNTRUSTED: CRL is not signed by any configured CA/);
  });

  it('exits 2 with usage for a bad command line', async () => {
    expect((await cli('cert', 'verify', path('identities/alice/user-auth.pem'))).code).toBe(2);
    expect(
      (await cli('cert', 'verify', path('identities/alice/user-auth.pem'), ...trust(), '--at', 'yesterday'))
        .err,
    ).toMatch(/--at is not an ISO time/);
    expect((await cli('cert', 'frobnicate', 'x')).code).toBe(2);
    expect((await cli('nope')).code).toBe(2);
    expect((await cli('cert', '--help')).out).toMatch(/^Usage:/);
  });
});

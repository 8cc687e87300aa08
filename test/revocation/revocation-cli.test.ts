/** `myna-oidc revocation import|status` against dynalite and a written development PKI. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runCli } from '../../cli/main.js';
import type { DevPkiManifest } from '../../dev-pki/hierarchy.js';
import { type TestTable, useLocalTables } from '../storage/local-table.js';
import { runCaptured } from '../support/cli.js';

const newTable = useLocalTables();
let dir: string;
let manifest: DevPkiManifest;
let table: TestTable;
const cli = (...argv: string[]) => runCaptured(runCli, argv);
const path = (...parts: string[]) => join(dir, ...parts);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'myna-revocation-cli-'));
  expect((await cli('dev-pki', 'create', path('pki'))).code).toBe(0);
  manifest = JSON.parse(await readFile(path('pki', 'manifest.json'), 'utf8'));
  table = await newTable();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const options = () => [
  ...manifest.userAuthTrustAnchors.flatMap((anchor) => ['--trust', path('pki', anchor)]),
  ...['--endpoint', table.endpoint, '--table', table.tableName, '--data', path('data')],
];

describe('myna-oidc revocation', () => {
  it('imports the user-auth CRLs, refuses the signing CA one, and answers status from the table', async () => {
    const crls = manifest.crls.filter((crl) => crl.endsWith('.revoked.crl')).map((crl) => path('pki', crl));
    const run = await cli('revocation', 'import', ...crls, ...options());
    expect(run.code).toBe(1);
    expect(run.out.match(/entries 1 added 1 removed 0/g)).toHaveLength(2);
    expect(run.err).toMatch(/signing-.*CRL_UNTRUSTED/);

    const revoked = await cli(
      'revocation',
      'status',
      path('pki', 'identities/revoked/user-auth.pem'),
      ...options(),
    );
    expect(revoked).toMatchObject({ code: 1, out: expect.stringMatching(/^revoked: keyCompromise/) });
    const alice = await cli(
      'revocation',
      'status',
      path('pki', 'identities/alice/user-auth.pem'),
      ...options(),
    );
    expect(alice).toMatchObject({ code: 0, out: 'good' });

    const again = await cli('revocation', 'import', crls[0] as string, ...options());
    expect(again.out).toMatch(/entries 1 added 0 removed 0/);
  });

  it('runs one notification pass over the imported keys (no account holds them: nothing to send)', async () => {
    const run = await cli('revocation', 'notify', '--issuer', 'http://localhost:3000', ...options());
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/keys checked 2 certificates revoked 0 notifications queued 0 delivered 0/);
    expect((await cli('revocation', 'notify', ...options())).code).toBe(2);
  });

  it('asks an OCSP responder with --ocsp (unreachable: unknown)', async () => {
    const run = await cli(
      'revocation',
      'status',
      path('pki', 'identities/alice/user-auth.pem'),
      ...manifest.userAuthTrustAnchors.flatMap((anchor) => ['--trust', path('pki', anchor)]),
      '--ocsp',
      'http://127.0.0.1:1/',
    );
    expect(run).toMatchObject({ code: 1, out: expect.stringMatching(/^unknown: OCSP failed/) });
  });

  it('explains a bad command line', async () => {
    expect((await cli('revocation', 'import', 'x.crl')).code).toBe(2);
    expect((await cli('revocation', 'frobnicate')).code).toBe(2);
  });
});

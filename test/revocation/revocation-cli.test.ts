/** `myna-oidc revocation import|status|notify` against dynalite and a written development PKI. */
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jwtVerify } from 'jose';
import { runCli } from '../../cli/main.js';
import type { DevPkiManifest } from '../../dev-pki/hierarchy.js';
import { loadLocalSecrets } from '../../functions/secrets/local-secrets.js';
import { ClientRegistry } from '../../functions/storage/client-registry.js';
import { LogoutQueue } from '../../functions/storage/logout-queue.js';
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

  it('signs queued logout tokens in-process with the signer checks, and delivers them', async () => {
    const tokens: string[] = [];
    const rp = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        tokens.push(new URLSearchParams(body).get('logout_token') ?? '');
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => rp.listen(0, '127.0.0.1', resolve));
    const uri = `http://127.0.0.1:${(rp.address() as AddressInfo).port}/bc`;
    const saved = process.env.OP_PRIVATE_RP_HOSTS;
    process.env.OP_PRIVATE_RP_HOSTS = '127.0.0.1';
    try {
      await new ClientRegistry(table).put({ client_id: 'rp-cli', backchannel_logout_uri: uri });
      const queue = new LogoutQueue(table);
      const delivery = { uri, sub: 'sub-9', sid: 'sid-9', alg: 'ES256' };
      await queue.enqueue({ id: 'logout:sid-9#rp-cli', clientId: 'rp-cli', ...delivery }, new Date());
      // A client removed since its logout was queued: the signer refuses, nothing is sent.
      await queue.enqueue({ id: 'logout:sid-9#rp-gone', clientId: 'rp-gone', ...delivery }, new Date());
      const run = await cli('revocation', 'notify', '--issuer', 'http://localhost:3000', ...options());
      expect(run.code).toBe(0);
      expect(run.out).toMatch(/delivered 1 retrying 1 failed 0/);
      expect(run.err).toContain('aud is not a client registered for back-channel logout');
      expect(tokens).toHaveLength(1);
      const secrets = await loadLocalSecrets(path('data'));
      const key = secrets.jwks.keys.find(
        (candidate) => candidate.alg === 'ES256' && candidate.status === 'active',
      );
      const { payload, protectedHeader } = await jwtVerify(
        tokens[0] as string,
        createPublicKey({ key: key as unknown as JsonWebKey, format: 'jwk' }),
        { issuer: 'http://localhost:3000', audience: 'rp-cli', typ: 'logout+jwt' },
      );
      expect(protectedHeader).toMatchObject({ alg: 'ES256', kid: key?.kid });
      expect(payload).toMatchObject({ sub: 'sub-9', sid: 'sid-9' });
    } finally {
      if (saved === undefined) delete process.env.OP_PRIVATE_RP_HOSTS;
      else process.env.OP_PRIVATE_RP_HOSTS = saved;
      await new Promise<void>((resolve) => rp.close(() => resolve()));
    }
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

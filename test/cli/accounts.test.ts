/**
 * `myna-oidc accounts export|erase`, through the account services the account page uses: the
 * export document shows what the OP holds about one account; the erasure queues a back-channel
 * logout to the service and leaves nothing of the account in the table (dumped with a Scan), and
 * nothing of another account is touched.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runCli } from '../../cli/main.js';
import type { DevIdentity, DevPki } from '../../dev-pki/hierarchy.js';
import type { Account } from '../../functions/accounts/account-store.js';
import { NO_PREDECESSORS } from '../../functions/accounts/account-store.js';
import { DynamoAccountStore } from '../../functions/accounts/dynamo-account-store.js';
import { loadLocalSecrets } from '../../functions/secrets/local-secrets.js';
import { ClientRegistry } from '../../functions/storage/client-registry.js';
import { LogoutQueue } from '../../functions/storage/logout-queue.js';
import { createDynamoAdapter } from '../../functions/storage/oidc-adapter.js';
import { ReleaseHistory } from '../../functions/storage/release-history.js';
import { RevocationAuditLog } from '../../functions/storage/revocation-audit.js';
import { pseudonymFingerprint } from '../../functions/subject/pseudonym-fingerprint.js';
import { subjectFor } from '../../functions/subject/subject-for.js';
import { loginCertificate } from '../accounts/login-certificate.js';
import { scanAll, type TestTable, useLocalTables } from '../storage/local-table.js';
import { runCaptured } from '../support/cli.js';
import { devPki, userAuthAnchors } from '../support/dev-pki.js';

const newTable = useLocalTables();
/** A registered service with back-channel logout. */
const SHOP = {
  client_id: 'shop',
  client_secret: 'shop-secret-0123456789abcdef0123456789',
  client_name: 'Shop',
  redirect_uris: ['https://shop.example/cb'],
  backchannel_logout_uri: 'https://shop.example/backchannel',
};
/** The data folder of a local stack: its secrets.json holds the certificate-key secret. */
let dataDir: string;
let secret: Uint8Array;
let pki: DevPki;

beforeAll(async () => {
  pki = await devPki();
  dataDir = await mkdtemp(join(tmpdir(), 'myna-accounts-cli-'));
  secret = (await loadLocalSecrets(dataDir)).certificateKeySecret;
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

const loginOf = (identity: DevIdentity) =>
  loginCertificate(identity.userAuth.der, userAuthAnchors(pki), secret);

/** `myna-oidc accounts …` on `table` with the secrets of `data` (default: the test's local stack). */
function accountsCli(table: TestTable, data = dataDir) {
  return (...argv: string[]) =>
    runCaptured(runCli, [
      'accounts',
      '--endpoint',
      table.endpoint,
      '--table',
      table.tableName,
      '--data',
      data,
      ...argv,
    ]);
}

/** An account as a login leaves it: the account, a grant with an access token, a session. */
async function signedIn(table: TestTable, identity: DevIdentity, clientId: string): Promise<Account> {
  const store = new DynamoAccountStore({ ...table, secret, predecessors: NO_PREDECESSORS });
  const account = await store.accountForLogin(loginOf(identity));
  const Adapter = createDynamoAdapter(table);
  const grantId = randomBytes(16).toString('base64url');
  await new Adapter('Grant').upsert(grantId, { accountId: account.accountId, clientId, jti: grantId }, 3600);
  await new Adapter('AccessToken').upsert(
    randomBytes(16).toString('base64url'),
    { accountId: account.accountId, clientId, grantId },
    600,
  );
  const sessionId = randomBytes(16).toString('base64url');
  await new Adapter('Session').upsert(
    sessionId,
    {
      accountId: account.accountId,
      uid: randomBytes(8).toString('hex'),
      loginTs: 1,
      authorizations: { [clientId]: { sid: 'sid-1', grantId } },
    },
    3600,
  );
  return account;
}

describe('myna-oidc accounts', () => {
  it('exports the document the account page shows, then queues logouts and erases every item that names the account and no other', async () => {
    const table = await newTable();
    const [alice, bob] = pki.identities as [DevIdentity, DevIdentity];
    await new ClientRegistry(table).put(SHOP);
    const account = await signedIn(table, alice, 'shop');
    const other = await signedIn(table, bob, 'shop');
    await new RevocationAuditLog(table).open(account.certificates[0]?.certificateKey as string, {
      accountId: account.accountId,
      caId: 'ca',
      reason: 'keyCompromise',
      revokedAt: new Date(),
      detectedAt: new Date(),
    });
    // An RP-initiated logout's delivery names the account; a record kept for the shop is linked to it.
    const logoutQueue = new LogoutQueue(table);
    const delivered = await logoutQueue.enqueue(
      {
        id: 'logout:sid-0#shop',
        clientId: 'shop',
        uri: String(SHOP.backchannel_logout_uri),
        alg: 'RS256',
        accountId: account.accountId,
      },
      new Date(2000),
    );
    await logoutQueue.record(delivered as NonNullable<typeof delivered>, 1, undefined, new Date(2000));
    const evidence = {
      accountId: account.accountId,
      clientId: 'shop',
      recordId: 'record-1',
      createdAt: new Date(Date.now() - 1000),
      keptUntil: new Date(Date.now() + 86_400_000),
    };
    await new ReleaseHistory(table).recordEvidence(evidence);
    const cli = accountsCli(table);

    const exported = await cli('export', '--', account.accountId);
    expect(exported.code).toBe(0);
    const sub = subjectFor((await loadLocalSecrets(dataDir)).pairwiseSecret, SHOP, account.accountId);
    expect(JSON.parse(exported.out)).toEqual({
      format: 'myna-oidc/account-export',
      version: 1,
      exportedAt: expect.any(String),
      accountId: account.accountId,
      account: {
        createdAt: account.createdAt,
        expiresAt: account.expiresAt,
        certificates: [
          {
            certificateKey: loginOf(alice).certificateKey,
            issuerKeyId: loginOf(alice).issuerKeyId,
            issuerGeneration: loginOf(alice).issuerGeneration,
            issuedAt: loginOf(alice).certificate.notBefore.toISOString().slice(0, 10),
            firstSeenAt: account.createdAt,
            lastSeenAt: account.createdAt,
          },
        ],
      },
      services: [
        {
          clientId: 'shop',
          name: 'Shop',
          scopes: [],
          claims: [],
          identityReleases: [],
          backchannelLogout: true,
          sharedIdentifier: false,
          pseudonymFingerprint: pseudonymFingerprint(sub),
          hasGrant: true,
          sessions: 1,
          retainedEvidence: [
            {
              recordId: 'record-1',
              createdAt: evidence.createdAt.toISOString(),
              keptUntil: evidence.keptUntil.toISOString(),
            },
          ],
        },
      ],
      certificates: [
        expect.objectContaining({ caGeneration: loginOf(alice).issuerGeneration, status: 'active' }),
      ],
      releaseHistory: [],
      grants: [{ id: expect.any(String), clientId: 'shop' }],
      sessions: [{ id: expect.any(String), loginAt: new Date(1000).toISOString(), clients: ['shop'] }],
      revocationAudits: [expect.objectContaining({ accountId: account.accountId, state: 'opened' })],
      retainedEvidence: [
        {
          clientId: 'shop',
          recordId: 'record-1',
          createdAt: evidence.createdAt.toISOString(),
          keptUntil: evidence.keptUntil.toISOString(),
        },
      ],
      logoutQueue: [
        {
          id: 'logout:sid-0#shop',
          clientId: 'shop',
          state: 'delivered',
          attempts: 1,
          nextAttemptAt: new Date(2000).toISOString(),
        },
      ],
    });
    expect(exported.out).not.toContain(alice.userAuth.serialHex);

    const before = JSON.stringify(await scanAll(table));
    expect(before).toContain(account.accountId);
    const erased = await cli('erase', '--', account.accountId);
    expect(erased).toMatchObject({ code: 0, err: '' });
    expect(erased.out).toBe(
      `erased account ${account.accountId}: certificates 1 grants 1 sessions 1 release history entries 0 account-index pointers 2 revocation audit records 1 back-channel logouts queued 1 retained identity evidence records unlinked 1`,
    );
    const after = await scanAll(table);
    // Nothing names the account: no account item, pointer, grant, token, session, index or audit.
    expect(JSON.stringify(after)).not.toContain(account.accountId);
    expect(JSON.stringify(after)).not.toContain(loginOf(alice).certificateKey);
    // The service is told, through the durable queue the notification job delivers from.
    const queued = after.filter((item) => item.pk === 'BackchannelLogout');
    expect(queued).toEqual([
      expect.objectContaining({
        clientId: 'shop',
        uri: SHOP.backchannel_logout_uri,
        sub,
        sid: 'sid-1',
        state: 'pending',
      }),
    ]);
    // The other account is whole: account, pointer, grant, token, session (+ uid pointer), 2 refs.
    const named = after.filter((item) => JSON.stringify(item).includes(other.accountId));
    expect(named.map((item) => String(item.pk).split('#')[0]).sort()).toEqual(
      ['ACCOUNT', 'AccessToken', 'AccountRef', 'AccountRef', 'CERT', 'Grant', 'Session', 'Session'].sort(),
    );
    // Besides: the registered client.
    expect(after).toHaveLength(named.length + queued.length + 1);

    const again = await cli('erase', '--', account.accountId);
    expect(again.code).toBe(1);
    expect(again.err).toBe(
      `myna-oidc accounts: ACCOUNT_NOT_FOUND: the OP holds no account ${account.accountId}`,
    );
    expect((await cli('export', '--', account.accountId)).code).toBe(1);
    // Without the local stack's secrets the command refuses (a fresh secret would give wrong subs).
    const elsewhere = await mkdtemp(join(tmpdir(), 'myna-accounts-nosecret-'));
    const refused = await accountsCli(table, elsewhere)('export', '--', other.accountId);
    expect(refused).toMatchObject({ code: 2, err: expect.stringContaining('no secrets.json in') });
    await rm(elsewhere, { recursive: true, force: true });
  });

  it('finds the account of a certificate the person brings (--certificate, with the local secret)', async () => {
    const table = await newTable();
    const [alice, bob] = pki.identities as [DevIdentity, DevIdentity];
    const account = await signedIn(table, alice, 'shop');
    const cli = accountsCli(table);
    const alicePem = join(dataDir, 'alice.pem');
    const bobPem = join(dataDir, 'bob.pem');
    await writeFile(alicePem, alice.userAuth.pem);
    await writeFile(bobPem, bob.userAuth.pem);
    const exported = await cli('export', '--certificate', alicePem);
    expect(exported.code).toBe(0);
    expect(JSON.parse(exported.out).accountId).toBe(account.accountId);
    expect(await cli('erase', '--certificate', bobPem)).toMatchObject({
      code: 1,
      err: 'myna-oidc accounts: ACCOUNT_NOT_FOUND: no account holds this certificate',
    });
    expect((await cli('erase', '--certificate', alicePem)).code).toBe(0);
    expect(JSON.stringify(await scanAll(table))).not.toContain(account.accountId);
    expect(await cli('export', '--certificate', alicePem, '--', account.accountId)).toMatchObject({
      code: 2,
    });
  });

  it('needs exactly one account id and a known subcommand', async () => {
    const table = await newTable();
    const cli = accountsCli(table);
    expect(await cli('erase')).toMatchObject({
      code: 2,
      err: expect.stringContaining('exactly one <account id>'),
    });
    expect(await cli('delete', 'x')).toMatchObject({
      code: 2,
      err: expect.stringContaining('unknown accounts subcommand'),
    });
    // Account ids are base64url: one that starts with '-' goes after '--', and the error says so.
    expect(await cli('export', '-Xq9')).toMatchObject({
      code: 2,
      err: expect.stringContaining("an account id that starts with '-' goes after '--'"),
    });
    expect(await cli('export', '--', '-Xq9')).toMatchObject({
      code: 1,
      err: expect.stringContaining('ACCOUNT_NOT_FOUND'),
    });
  });
});

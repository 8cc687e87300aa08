/**
 * AccountRecords.erase takes the account off the back-channel logout queue and the account page's
 * session store too: queue items that name it
 * (RP-initiated logout's carry the account id, the revocation job's the certificate key in their id)
 * are deleted, a pending one queued again without them, so it is still delivered. The revocation
 * job's audit records are read by key (never the whole partition, and not at all for the page);
 * retained identity evidence stays, unlinked.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { AccountRecords, accountItemKey } from '../../functions/accounts/account-records.js';
import { ACCOUNT_SESSION_MODEL, accountSessionId } from '../../functions/op/account/account-session-id.js';
import { SEALED_CLAIMS_MODEL, SealedClaimsCarrier } from '../../functions/op/sealed-claims.js';
import { IDENTITY_EVIDENCE_MODEL, IdentityEvidenceStore } from '../../functions/storage/identity-evidence.js';
import { LogoutQueue } from '../../functions/storage/logout-queue.js';
import { createDynamoAdapter } from '../../functions/storage/oidc-adapter.js';
import { ReleaseHistory } from '../../functions/storage/release-history.js';
import { RevocationAuditLog } from '../../functions/storage/revocation-audit.js';
import { scanAll, type TestTable, useLocalTables } from '../storage/local-table.js';

const newTable = useLocalTables();
const NOW = new Date('2030-01-01T00:00:00Z');
const ACCOUNT = 'certkey-1.random';
const CERTIFICATE_KEY = 'certkey-1';

describe('AccountRecords.erase', () => {
  it('erases the release history, the page session and the queue’s traces of the account, keeping pending deliveries', async () => {
    const table = await newTable();
    const queue = new LogoutQueue(table);
    const logout = await queue.enqueue(
      {
        id: 'logout:sid-1#rp-a',
        clientId: 'rp-a',
        uri: 'https://rp-a.example/bc',
        sub: 'sub-a',
        sid: 'sid-1',
        alg: 'RS256',
        accountId: ACCOUNT,
      },
      NOW,
    );
    await queue.record(logout as NonNullable<typeof logout>, 1, undefined, NOW);
    await queue.enqueue(
      {
        id: `${CERTIFICATE_KEY}#rp-b`,
        clientId: 'rp-b',
        uri: 'https://rp-b.example/bc',
        sub: 'sub-b',
        alg: 'ES256',
        accountId: ACCOUNT,
        certificateKey: CERTIFICATE_KEY,
      },
      NOW,
    );
    const unrelated = await queue.enqueue(
      {
        id: 'logout:sid-9#rp-a',
        clientId: 'rp-a',
        uri: 'https://rp-a.example/bc',
        sub: 's9',
        alg: 'RS256',
        accountId: 'other',
      },
      NOW,
    );
    // The account page's session item (op/account/) names the account too.
    await new (createDynamoAdapter(table))(ACCOUNT_SESSION_MODEL).upsert(
      accountSessionId(ACCOUNT),
      { accountId: ACCOUNT },
      900,
    );
    await new ReleaseHistory(table).record({
      accountId: ACCOUNT,
      clientId: 'rp-a',
      at: NOW,
      scopes: ['openid'],
      claims: ['sub'],
    });

    const erased = await new AccountRecords(table).erase(ACCOUNT, { alsoCertificateKeys: [CERTIFICATE_KEY] });
    expect(erased).toMatchObject({ found: false, releases: 1, logoutQueueItems: 2 });
    const items = await scanAll(table);
    expect(JSON.stringify(items)).not.toContain(ACCOUNT);
    expect(JSON.stringify(items)).not.toContain(CERTIFICATE_KEY);
    // The delivered one is gone, the pending one is due as before (new id), the other account's kept.
    const due = await queue.due(NOW);
    expect(
      due.map(({ clientId, sub, uri, alg, nextAttemptAt }) => ({ clientId, sub, uri, alg, nextAttemptAt })),
    ).toEqual([
      {
        clientId: 'rp-a',
        sub: 's9',
        uri: 'https://rp-a.example/bc',
        alg: 'RS256',
        nextAttemptAt: NOW.getTime(),
      },
      {
        clientId: 'rp-b',
        sub: 'sub-b',
        uri: 'https://rp-b.example/bc',
        alg: 'ES256',
        nextAttemptAt: NOW.getTime(),
      },
    ]);
    expect(due.find((delivery) => delivery.clientId === 'rp-b')?.id).toMatch(/^requeued:.+#rp-b$/);
    expect(due.find((delivery) => delivery.sub === 's9')).toEqual(unrelated);
  });
});

/** The commands sent to `table` from now on, with the partition each reads or writes. */
function recordCommands(table: TestTable): { command: string; pk: string }[] {
  const sent: { command: string; pk: string }[] = [];
  table.client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as {
        Key?: { pk?: { S?: string } };
        ExpressionAttributeValues?: Record<string, { S?: string }>;
      };
      const pk = input.Key?.pk?.S ?? Object.values(input.ExpressionAttributeValues ?? {})[0]?.S ?? '';
      sent.push({ command: context.commandName ?? '', pk });
      return next(args);
    },
    { step: 'initialize', name: `recordCommands:${randomBytes(4).toString('hex')}` },
  );
  return sent;
}

/** An account item of ACCOUNT with its one certificate. */
async function storeAccount(table: TestTable): Promise<void> {
  const { PutItemCommand } = await import('@aws-sdk/client-dynamodb');
  const { marshall } = await import('@aws-sdk/util-dynamodb');
  const seen = NOW.toISOString();
  await table.client.send(
    new PutItemCommand({
      TableName: table.tableName,
      Item: marshall({
        ...accountItemKey(ACCOUNT),
        accountId: ACCOUNT,
        createdAt: seen,
        certificates: {
          [CERTIFICATE_KEY]: {
            issuerKeyId: 'ca',
            issuerGeneration: 'g1',
            firstSeenAt: seen,
            lastSeenAt: seen,
          },
        },
      }),
    }),
  );
}

describe('AccountRecords: the revocation audit records', () => {
  it('the page’s holdings never read them; traces and erase read the account’s by key, not the partition', async () => {
    const table = await newTable();
    await storeAccount(table);
    const audits = new RevocationAuditLog(table);
    const opening = { caId: 'ca', reason: 'keyCompromise', revokedAt: NOW, detectedAt: NOW };
    await audits.open(CERTIFICATE_KEY, { ...opening, accountId: ACCOUNT });
    await audits.open('certkey-other', { ...opening, accountId: 'other.account' });
    const records = new AccountRecords(table);
    const sent = recordCommands(table);

    await records.holdings(ACCOUNT);
    expect(sent.filter((request) => request.pk.startsWith('RevocationAudit'))).toEqual([]);
    const traces = await records.traces(ACCOUNT, [CERTIFICATE_KEY]);
    expect(traces.revocationAudits).toEqual([expect.objectContaining({ certificateKey: CERTIFICATE_KEY })]);
    sent.splice(0);
    const erased = await records.erase(ACCOUNT);
    expect(erased.revocationAudits).toBe(1);
    const auditRequests = sent.filter((request) => request.pk.startsWith('RevocationAudit'));
    expect(auditRequests.map((request) => request.command)).toEqual(['GetItemCommand', 'DeleteItemCommand']);
    expect((await audits.list()).map((record) => record.certificateKey)).toEqual(['certkey-other']);
  });
});

describe('AccountRecords: the logout queue in the traces', () => {
  it('lists the queue items naming the account (what erase takes off the queue)', async () => {
    const table = await newTable();
    const queue = new LogoutQueue(table);
    const request = { clientId: 'rp-a', uri: 'https://rp-a.example/bc', sub: 'sub-a', alg: 'RS256' };
    await queue.enqueue({ ...request, id: 'logout:sid-1#rp-a', accountId: ACCOUNT }, NOW);
    await queue.enqueue({ ...request, id: `${CERTIFICATE_KEY}#rp-a` }, NOW);
    await queue.enqueue({ ...request, id: 'logout:sid-9#rp-a', accountId: 'other' }, NOW);
    const { logoutQueue } = await new AccountRecords(table).traces(ACCOUNT, [CERTIFICATE_KEY]);
    expect(logoutQueue.map((item) => item.id).sort()).toEqual([
      `${CERTIFICATE_KEY}#rp-a`,
      'logout:sid-1#rp-a',
    ]);
  });
});

describe('AccountRecords: retained identity evidence', () => {
  it('holdings list the records linked to the account; erase cuts the links and the records stay', async () => {
    const table = await newTable();
    await storeAccount(table);
    const history = new ReleaseHistory(table);
    const adapter = new (createDynamoAdapter(table))(IDENTITY_EVIDENCE_MODEL);
    const secret = new Uint8Array(randomBytes(32));
    const evidence = new IdentityEvidenceStore(secret, adapter, () => NOW, history);
    const recordId = await evidence.retain('header.payload.signature', 'rp-a', 30, ACCOUNT);
    // A record retained without an account (no history link) is not the account's.
    await new IdentityEvidenceStore(secret, adapter, () => NOW).retain('h.p.s', 'rp-b', 30);
    const records = new AccountRecords({ ...table, history, now: () => NOW.getTime() });

    const keptUntil = new Date(NOW.getTime() + 30 * 86_400_000);
    expect((await records.holdings(ACCOUNT)).evidence).toEqual([
      { accountId: ACCOUNT, clientId: 'rp-a', recordId, createdAt: NOW, keptUntil },
    ]);
    const erased = await records.erase(ACCOUNT);
    expect(erased).toMatchObject({ retainedEvidence: 1, releases: 0 });
    expect(JSON.stringify(await scanAll(table))).not.toContain(ACCOUNT);
    // The record itself stays for the service's record-keeping duty, until its own expiry.
    expect(await evidence.find(recordId)).toMatchObject({ recordId, clientId: 'rp-a', expiresAt: keptUntil });
  });
});

describe('AccountRecords: a grant’s sealed userinfo claims', () => {
  it('revoking the grant removes the userinfo claims parked under its access token', async () => {
    const table = await newTable();
    const carrier = new SealedClaimsCarrier(
      new Uint8Array(randomBytes(32)),
      new (createDynamoAdapter(table))(SEALED_CLAIMS_MODEL),
    );
    await carrier.parkUserinfo('at-1', { name: '山田' }, 'rp-a', 600, 'grant-1');
    await carrier.parkUserinfo('at-2', { name: '山田' }, 'rp-a', 600, 'grant-2');
    await new AccountRecords(table).revokeGrants([{ id: 'grant-1', clientId: 'rp-a' }]);
    expect(await carrier.userinfo('at-1', 'rp-a')).toBeUndefined();
    expect(await carrier.userinfo('at-2', 'rp-a')).toEqual({ name: '山田' });
  });
});

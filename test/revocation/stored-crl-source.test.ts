/**
 * CRLs imported into DynamoDB (dynalite) and read back as the login reads them: revoked, good,
 * stale → unknown, refusals at import, and the delta of a re-import (only changes are written).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BatchWriteItemCommandInput } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeLargeCrl } from '../../bench/large-crl.js';
import type { DevIdentity, DevPki } from '../../dev-pki/hierarchy.js';
import { createCa, issueCrl, issueUserAuthCertificate } from '../../dev-pki/issue.js';
import { X509CrlReason } from '../../dev-pki/x509.js';
import type { TrustAnchors } from '../../functions/jpki/trust-anchors.js';
import { verifyLogin } from '../../functions/jpki/verify-login.js';
import { CrlStore } from '../../functions/revocation/crl-store.js';
import { StoredCrlSource } from '../../functions/revocation/stored-crl-source.js';
import { createDynamoClient } from '../../functions/storage/dynamo-client.js';
import { scanAll, type TestTable, useLocalTables } from '../storage/local-table.js';
import { devPki, newNonce, ORIGIN, signChallenge, userAuthAnchors } from '../support/dev-pki.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const newTable = useLocalTables();
const secret = randomBytes(32);
const now = new Date();
let pki: DevPki;
let anchors: TrustAnchors;
let dir: string;
let alice: DevIdentity;
let bob: DevIdentity;
let revoked: DevIdentity;
let files = 0;

beforeAll(async () => {
  pki = await devPki();
  anchors = userAuthAnchors(pki);
  [alice, bob, revoked] = pki.identities as [DevIdentity, DevIdentity, DevIdentity];
  dir = await mkdtemp(join(tmpdir(), 'myna-crl-store-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function file(der: Uint8Array): Promise<string> {
  const path = join(dir, `${++files}.crl`);
  await writeFile(path, der);
  return path;
}

async function revokedCrl(
  crlNumber: number,
  times = { thisUpdate: new Date(now.getTime() - HOUR), nextUpdate: new Date(now.getTime() + DAY) },
) {
  return file(
    await issueCrl({
      ca: revoked.userAuthCa,
      ...times,
      crlNumber,
      entries: [
        {
          serialHex: revoked.userAuth.serialHex,
          revokedAt: times.thisUpdate,
          reason: X509CrlReason.superseded,
        },
      ],
    }),
  );
}

function setup(table: TestTable) {
  const store = new CrlStore(table);
  const source = new StoredCrlSource({ store, secret, metadataCacheSeconds: 0 });
  const importFile = (path: string, at = now) => store.importFile(path, { anchors, secret, now: at });
  return { store, source, importFile };
}

function login(
  identity: DevIdentity,
  source: StoredCrlSource,
  options: { at?: Date; allowUnknown?: boolean } = {},
) {
  const nonce = newNonce();
  return verifyLogin(
    {
      certificate: identity.userAuth.der,
      signature: signChallenge(identity.userAuth.privateKeyPem, ORIGIN, nonce),
    },
    { origin: ORIGIN, nonce },
    {
      trustAnchors: anchors,
      now: options.at ?? now,
      clockSkewSeconds: 0,
      revocation: source,
      certificateKeySecret: secret,
      allowUnknownRevocation: options.allowUnknown ?? false,
    },
  );
}

describe('StoredCrlSource', () => {
  it('fails the revoked card with REVOKED, passes alice, and knows nothing of a CA without a CRL', async () => {
    const table = await newTable();
    const { source, importFile } = setup(table);
    const summary = await importFile(await revokedCrl(2));
    expect(summary).toMatchObject({
      entries: 1,
      added: 1,
      removed: 0,
      crlNumber: 2n,
      generation: expect.any(String),
    });
    await expect(login(revoked, source)).rejects.toMatchObject({ code: 'REVOKED' });
    await expect(login(alice, source)).resolves.toMatchObject({ revocation: 'good' });
    await expect(login(bob, source)).rejects.toMatchObject({ code: 'REVOCATION_UNKNOWN' });
    await importFile(
      await file(
        await issueCrl({
          ca: bob.userAuthCa,
          thisUpdate: now,
          nextUpdate: new Date(now.getTime() + DAY),
          crlNumber: 1,
        }),
      ),
    );
    await expect(login(bob, source)).resolves.toMatchObject({ revocation: 'good' });
    const dump = JSON.stringify(await scanAll(table)).toLowerCase();
    expect(dump).not.toContain(revoked.userAuth.serialHex);
  });

  it('answers unknown for a stale CRL: the login fails, and passes when unknown is allowed', async () => {
    const { source, importFile } = setup(await newTable());
    await importFile(await revokedCrl(3));
    const later = new Date(now.getTime() + 2 * DAY);
    await expect(login(alice, source, { at: later })).rejects.toMatchObject({ code: 'REVOCATION_UNKNOWN' });
    await expect(login(alice, source, { at: later, allowUnknown: true })).resolves.toMatchObject({
      revocation: 'unknown',
    });
    await expect(login(revoked, source, { at: later, allowUnknown: true })).rejects.toMatchObject({
      code: 'REVOKED',
    });
  });
});

describe('a certificate listed by several CRL scopes', () => {
  const times = { thisUpdate: new Date(now.getTime() - HOUR), nextUpdate: new Date(now.getTime() + DAY) };
  /** A CRL of alice's CA: the whole CA, or alice's municipality (her CRL distribution point). */
  const aliceCrl = async (scope: 'whole CA' | 'municipality', crlNumber: number, listsAlice: boolean) =>
    file(
      await issueCrl({
        ca: alice.userAuthCa,
        ...times,
        crlNumber,
        entries: listsAlice
          ? [
              {
                serialHex: alice.userAuth.serialHex,
                revokedAt: times.thisUpdate,
                reason: X509CrlReason.keyCompromise,
              },
            ]
          : [],
        ...(scope === 'municipality' ? { partition: { prefecture: '東京都', city: '千代田区' } } : {}),
      }),
    );

  it('stays revoked while any current CRL lists it, and is good once none does', async () => {
    const { source, importFile } = setup(await newTable());
    await importFile(await aliceCrl('whole CA', 1, true));
    await importFile(await aliceCrl('municipality', 1, true));
    await expect(login(alice, source)).rejects.toMatchObject({ code: 'REVOKED' });
    // The municipality drops it; the whole-CA CRL still lists it.
    await expect(importFile(await aliceCrl('municipality', 2, false))).resolves.toMatchObject({ removed: 1 });
    await expect(login(alice, source)).rejects.toMatchObject({ code: 'REVOKED' });
    // The other order: listed again by the municipality, then dropped by the whole CA.
    await importFile(await aliceCrl('municipality', 3, true));
    await importFile(await aliceCrl('whole CA', 2, false));
    await expect(login(alice, source)).rejects.toMatchObject({ code: 'REVOKED' });
    await importFile(await aliceCrl('municipality', 4, false));
    await expect(login(alice, source)).resolves.toMatchObject({ revocation: 'good' });
  });

  it('never applies a revocation to the certificate with the same serial from another CA generation', async () => {
    const { source, importFile } = setup(await newTable());
    const [older, newer] = pki.userAuthCas;
    expect(alice.userAuthCa).toBe(newer);
    // A card of the older generation with alice's serial: same issuer DN, same serial.
    const twin = await issueUserAuthCertificate({
      ca: older,
      serialHex: alice.userAuth.serialHex,
      notBefore: new Date(now.getTime() - DAY),
      notAfter: new Date(now.getTime() + DAY),
    });
    const twinIdentity = { ...alice, userAuth: twin, userAuthCa: older };
    await importFile(
      await file(
        await issueCrl({
          ca: older,
          ...times,
          crlNumber: 1,
          entries: [{ serialHex: alice.userAuth.serialHex, revokedAt: times.thisUpdate }],
        }),
      ),
    );
    await importFile(await aliceCrl('whole CA', 1, false));
    await expect(login(twinIdentity, source)).rejects.toMatchObject({ code: 'REVOKED' });
    await expect(login(alice, source)).resolves.toMatchObject({ revocation: 'good' });
  });
});

describe('CrlStore.importFile refusals', () => {
  it('refuses an older CRL number (CRL_NOT_NEWER) and accepts the same CRL again', async () => {
    const { importFile } = setup(await newTable());
    await importFile(await revokedCrl(5));
    await expect(importFile(await revokedCrl(4))).rejects.toMatchObject({ code: 'CRL_NOT_NEWER' });
    await expect(importFile(await revokedCrl(5))).resolves.toMatchObject({ added: 0, removed: 0 });
  });

  it('refuses a CRL from another CA with the same DN, or with a bad signature (CRL_UNTRUSTED)', async () => {
    const { importFile } = setup(await newTable());
    const forged = await createCa({
      kind: 'user-auth',
      serialHex: '06d18006',
      notBefore: new Date(now.getTime() - DAY),
      notAfter: new Date(now.getTime() + DAY),
    });
    const other = await issueCrl({
      ca: forged,
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + DAY),
      crlNumber: 9,
    });
    await expect(importFile(await file(other))).rejects.toMatchObject({ code: 'CRL_UNTRUSTED' });
    const good = Buffer.from(
      await issueCrl({
        ca: alice.userAuthCa,
        thisUpdate: now,
        nextUpdate: new Date(now.getTime() + DAY),
        crlNumber: 9,
      }),
    );
    good[good.length - 1] = (good[good.length - 1] as number) ^ 1;
    await expect(importFile(await file(good))).rejects.toMatchObject({ code: 'CRL_UNTRUSTED' });
  });

  it('refuses a CRL that is stale or not yet valid at import (CRL_NOT_CURRENT)', async () => {
    const { importFile } = setup(await newTable());
    const stale = await revokedCrl(6, {
      thisUpdate: new Date(now.getTime() - 2 * DAY),
      nextUpdate: new Date(now.getTime() - DAY),
    });
    await expect(importFile(stale)).rejects.toMatchObject({ code: 'CRL_NOT_CURRENT' });
    const future = await revokedCrl(7, {
      thisUpdate: new Date(now.getTime() + DAY),
      nextUpdate: new Date(now.getTime() + 2 * DAY),
    });
    await expect(importFile(future)).rejects.toMatchObject({ code: 'CRL_NOT_CURRENT' });
  });
});

describe('streaming import of a large CRL', () => {
  it('imports 50 000 entries, then writes only the delta of the next CRL', async () => {
    const table = await newTable();
    const client = createDynamoClient({ endpoint: table.endpoint });
    const writes = { put: 0, delete: 0 };
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as Partial<BatchWriteItemCommandInput>;
        for (const request of Object.values(input.RequestItems ?? {}).flat()) {
          if (request.PutRequest?.Item?.pk?.S?.startsWith('REVOKED#')) writes.put++;
          if (request.DeleteRequest?.Key?.pk?.S?.startsWith('REVOKED#')) writes.delete++;
        }
        return next(args);
      },
      { step: 'initialize' },
    );
    const store = new CrlStore({ client, tableName: table.tableName });
    const times = { thisUpdate: new Date(now.getTime() - HOUR), nextUpdate: new Date(now.getTime() + DAY) };
    const first = join(dir, 'large-1.crl');
    const second = join(dir, 'large-2.crl');
    await writeLargeCrl({
      ca: alice.userAuthCa,
      path: first,
      first: 0,
      count: 50_000,
      crlNumber: 10,
      ...times,
    });
    await writeLargeCrl({
      ca: alice.userAuthCa,
      path: second,
      first: 700,
      count: 50_000,
      crlNumber: 11,
      ...times,
    });

    const initial = await store.importFile(first, { anchors, secret, now });
    expect(initial).toMatchObject({ entries: 50_000, added: 50_000, removed: 0 });
    expect(writes).toEqual({ put: 50_000, delete: 0 });

    const delta = await store.importFile(second, { anchors, secret, now });
    expect(delta).toMatchObject({ entries: 50_000, added: 700, removed: 700, crlNumber: 11n });
    expect(writes).toEqual({ put: 50_700, delete: 700 });
    const items = await scanAll(table);
    expect(items.filter((item) => String(item.pk).startsWith('REVOKED#'))).toHaveLength(50_000);
    expect(items.filter((item) => String(item.pk).startsWith('CRLSNAP#'))).toHaveLength(5);
    client.destroy();
  }, 120_000);
});

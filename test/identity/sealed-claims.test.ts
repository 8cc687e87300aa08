/**
 * The sealed claims carrier and the evidence retention store on a real table (dynalite): what they
 * write is ciphertext only, opens only for its purpose and client, once at the token endpoint, and
 * once parked only for its own code (and account) or access token.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { IdentityRelease } from '../../functions/identity/release.js';
import { adapterFor } from '../../functions/op/adapter.js';
import {
  type CodeBinding,
  SEALED_CLAIMS_MODEL,
  SealedClaimsCarrier,
} from '../../functions/op/sealed-claims.js';
import { IDENTITY_EVIDENCE_MODEL, IdentityEvidenceStore } from '../../functions/storage/identity-evidence.js';
import { createDynamoAdapter } from '../../functions/storage/oidc-adapter.js';
import { scanAll, type TestTable, useLocalTables } from '../storage/local-table.js';

const newTable = useLocalTables();
const secret = new Uint8Array(randomBytes(32));

const RELEASE: IdentityRelease = {
  idToken: { name: '山田　太郎', birthdate: '1990-01-02' },
  userinfo: { address: { formatted: '東京都千代田区千代田１番１号' } },
  claimNames: ['name', 'birthdate', 'address'],
};
const PLAIN = ['山田', '太郎', '1990-01-02', '千代田', 'ab12cd34'];
const codeOf = (jti: string, clientId = 'rp', accountId = 'account-a'): CodeBinding => ({
  jti,
  clientId,
  accountId,
});

function carrierOn(table: TestTable, now?: () => number): SealedClaimsCarrier {
  const adapter = createDynamoAdapter({ ...table, ...(now ? { now } : {}) });
  return new SealedClaimsCarrier(secret, adapterFor(adapter, SEALED_CLAIMS_MODEL));
}

/** Fails when any item of the table holds one of the plain values. */
async function expectNoPlainValues(table: TestTable, plain: readonly string[]): Promise<number> {
  const items = await scanAll(table);
  const text = JSON.stringify(items);
  for (const value of plain) expect(text).not.toContain(value);
  return items.length;
}

describe('SealedClaimsCarrier', () => {
  it('parks a code’s serial and release as ciphertext and hands them out once, to their client', async () => {
    const table = await newTable();
    const carrier = carrierOn(table);
    await carrier.park(
      codeOf('code-1'),
      {
        sealedSerial: carrier.sealSerial('ab12cd34', 'rp'),
        sealedIdentity: carrier.sealRelease(RELEASE, 'rp'),
      },
      60,
    );
    expect(await expectNoPlainValues(table, PLAIN)).toBe(1);
    expect(await carrier.take(codeOf('code-1'))).toEqual({ serial: 'ab12cd34', identity: RELEASE });
    expect(await carrier.take(codeOf('code-1'))).toEqual({});
    expect(await scanAll(table)).toEqual([]);
  });

  it('opens nothing for another client, and taking still deletes it', async () => {
    const table = await newTable();
    const carrier = carrierOn(table);
    await carrier.park(codeOf('code-2'), { sealedIdentity: carrier.sealRelease(RELEASE, 'rp') }, 60);
    expect(await carrier.take(codeOf('code-2', 'other-rp'))).toEqual({});
    expect(await carrier.take(codeOf('code-2'))).toEqual({});
    // A release sealed for another client is not parked for this code's client at all.
    await carrier.park(codeOf('code-2b'), { sealedIdentity: carrier.sealRelease(RELEASE, 'other-rp') }, 60);
    expect(await scanAll(table)).toEqual([]);
  });

  it('binds a parked release to its code and account: copied under another code it opens for none', async () => {
    const table = await newTable();
    const carrier = carrierOn(table);
    const store = adapterFor(createDynamoAdapter(table), SEALED_CLAIMS_MODEL);
    await carrier.park(codeOf('code-alice'), { sealedIdentity: carrier.sealRelease(RELEASE, 'rp') }, 60);
    const parked = (await store.find('code-alice')) as Record<string, unknown>;
    // Someone who can write the table copies the release to another code of the same client.
    await store.upsert('code-bob', { ...parked }, 60);
    expect(await carrier.take(codeOf('code-bob', 'rp', 'account-b'))).toEqual({});
    await store.upsert('code-bob', { ...parked }, 60);
    expect(await carrier.take(codeOf('code-bob', 'rp', 'account-a'))).toEqual({});
    // Under its own code, for another account (a tampered code), it opens neither.
    expect(await carrier.take(codeOf('code-alice', 'rp', 'account-b'))).toEqual({});
    await carrier.park(codeOf('code-alice'), { sealedIdentity: carrier.sealRelease(RELEASE, 'rp') }, 60);
    expect(await carrier.take(codeOf('code-alice'))).toEqual({ identity: RELEASE });
  });

  it('keeps the purposes apart: a serial seal is no release, a caller seal is neither', async () => {
    const table = await newTable();
    const carrier = carrierOn(table);
    const asCaller = carrier.seal(JSON.stringify(RELEASE), 'rp');
    await carrier.park(
      codeOf('code-3'),
      { sealedSerial: carrier.sealRelease(RELEASE, 'rp'), sealedIdentity: asCaller },
      60,
    );
    expect(await carrier.take(codeOf('code-3'))).toEqual({});
    expect(carrier.open(asCaller, 'rp')).toBe(JSON.stringify(RELEASE));
    expect(carrier.open(asCaller, 'rp2')).toBeUndefined();
    // One character changed inside (the last one may carry only padding bits).
    const tampered = `${asCaller.slice(0, 20)}${asCaller[20] === 'A' ? 'B' : 'A'}${asCaller.slice(21)}`;
    expect(carrier.open(tampered, 'rp')).toBeUndefined();
    // Another deployment's secret opens nothing.
    const other = new SealedClaimsCarrier(
      new Uint8Array(randomBytes(32)),
      adapterFor(createDynamoAdapter(table), SEALED_CLAIMS_MODEL),
    );
    expect(other.open(asCaller, 'rp')).toBeUndefined();
  });

  it('keeps userinfo claims for the access token’s lifetime only, readable more than once', async () => {
    const table = await newTable();
    let now = Date.now();
    const carrier = carrierOn(table, () => now);
    await carrier.parkUserinfo('token-1', RELEASE.userinfo, 'rp', 600);
    await expectNoPlainValues(table, PLAIN);
    expect(await carrier.userinfo('token-1', 'rp')).toEqual(RELEASE.userinfo);
    expect(await carrier.userinfo('token-1', 'rp')).toEqual(RELEASE.userinfo);
    expect(await carrier.userinfo('token-1', 'other-rp')).toBeUndefined();
    now += 600_000;
    expect(await carrier.userinfo('token-1', 'rp')).toBeUndefined();
  });

  it('binds userinfo claims to their access token: copied under another token of the client they open not', async () => {
    const table = await newTable();
    const carrier = carrierOn(table);
    const store = adapterFor(createDynamoAdapter(table), SEALED_CLAIMS_MODEL);
    await carrier.parkUserinfo('token-alice', RELEASE.userinfo, 'rp', 600);
    await store.upsert('token-bob', { ...((await store.find('token-alice')) as object) }, 600);
    expect(await carrier.userinfo('token-bob', 'rp')).toBeUndefined();
    expect(await carrier.userinfo('token-alice', 'rp')).toEqual(RELEASE.userinfo);
  });
});

describe('IdentityEvidenceStore', () => {
  const BUNDLE = 'eyJhbGciOiJSUzI1NiJ9.eyJzaWduaW5nX2NlcnRpZmljYXRlIjoiTUlJIn0.c2ln';

  it('keeps a bundle encrypted with its expiry and opens it until then', async () => {
    const table = await newTable();
    let now = new Date('2026-12-01T00:00:00Z');
    const store = new IdentityEvidenceStore(
      secret,
      adapterFor(createDynamoAdapter({ ...table, now: () => now.getTime() }), IDENTITY_EVIDENCE_MODEL),
      () => now,
    );
    const id = await store.retain(BUNDLE, 'rp', 30);
    const [item] = await scanAll(table);
    expect(JSON.stringify(item)).not.toContain(BUNDLE.split('.')[1]);
    expect(item).toMatchObject({ pk: `${IDENTITY_EVIDENCE_MODEL}#${id}` });
    expect(await store.find(id)).toEqual({
      recordId: id,
      clientId: 'rp',
      bundle: BUNDLE,
      createdAt: new Date('2026-12-01T00:00:00Z'),
      expiresAt: new Date('2026-12-31T00:00:00Z'),
    });
    now = new Date('2026-12-31T00:00:00Z');
    expect(await store.find(id)).toBeUndefined();
  });

  it('opens nothing whose client was changed in the table, nor under another secret', async () => {
    const table = await newTable();
    const adapter = adapterFor(createDynamoAdapter(table), IDENTITY_EVIDENCE_MODEL);
    const store = new IdentityEvidenceStore(secret, adapter);
    const id = await store.retain(BUNDLE, 'rp', 30);
    const stored = (await adapter.find(id)) as Record<string, unknown>;
    await adapter.upsert(id, { ...stored, clientId: 'other-rp' }, 3600);
    expect(await store.find(id)).toBeUndefined();
    await adapter.upsert(id, stored, 3600);
    expect((await store.find(id))?.bundle).toBe(BUNDLE);
    expect(
      await new IdentityEvidenceStore(new Uint8Array(randomBytes(32)), adapter).find(id),
    ).toBeUndefined();
  });
});

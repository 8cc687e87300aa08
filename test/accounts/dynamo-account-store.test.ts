import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { DevIdentity } from '../../dev-pki/hierarchy.js';
import { issueUserAuthCertificate } from '../../dev-pki/issue.js';
import type { LoginCertificate } from '../../functions/accounts/account-store.js';
import { DynamoAccountStore } from '../../functions/accounts/dynamo-account-store.js';
import { FilePredecessorSource } from '../../functions/accounts/file-predecessor-source.js';
import { parseCertificate, serialHex } from '../../functions/jpki/certificate.js';
import { itemKey } from '../../functions/storage/table.js';
import { accountKey } from '../../functions/subject/account-key.js';
import { scanAll, type TestTable, useLocalTables } from '../storage/local-table.js';
import { devPki } from '../support/dev-pki.js';

const newTable = useLocalTables();
const secret = randomBytes(32);
let dir: string;
let alice: DevIdentity;
let bob: DevIdentity;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'myna-oidc-accounts-'));
  [alice, bob] = (await devPki()).identities as [DevIdentity, DevIdentity];
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function loginOf(der: Uint8Array, issuerGeneration = '2023'): LoginCertificate {
  const certificate = parseCertificate(der);
  return {
    certificate,
    certificateKey: accountKey(secret, certificate.issuer, certificate.serialNumber),
    issuerGeneration,
  };
}

/** A renewal of `identity`'s user-auth certificate: new serial, same or new key. */
async function renew(identity: DevIdentity, sameKey: boolean): Promise<Uint8Array> {
  const { der } = await issueUserAuthCertificate({
    ca: identity.userAuthCa,
    notBefore: new Date(Date.now() - 1000),
    notAfter: new Date(Date.now() + 5 * 365 * 24 * 3600 * 1000),
    ...(sameKey ? { privateKeyPem: identity.userAuth.privateKeyPem } : {}),
  });
  return der;
}

let files = 0;
async function setup(
  links: Record<string, string> = {},
): Promise<{ store: DynamoAccountStore; table: TestTable }> {
  const path = join(dir, `predecessors-${++files}.json`);
  await writeFile(path, JSON.stringify(links));
  const table = await newTable();
  const store = new DynamoAccountStore({ ...table, secret, predecessors: new FilePredecessorSource(path) });
  return { store, table };
}

describe('DynamoAccountStore', () => {
  test('the same certificate twice gives the same account; lastSeenAt moves on', async () => {
    let now = Date.parse('2025-01-01T00:00:00Z');
    const table = await newTable();
    const store = new DynamoAccountStore({
      ...table,
      secret,
      predecessors: new FilePredecessorSource(join(dir, 'absent.json')),
      now: () => now,
    });
    const login = loginOf(alice.userAuth.der);
    const first = await store.accountForLogin(login);
    now += 60_000;
    const second = await store.accountForLogin(login);
    expect(first.accountId).toBe(login.certificateKey);
    expect(second.accountId).toBe(first.accountId);
    expect(second.certificates).toEqual([
      {
        certificateKey: login.certificateKey,
        issuerGeneration: '2023',
        notAfter: login.certificate.notAfter.toISOString(),
        firstSeenAt: '2025-01-01T00:00:00.000Z',
        lastSeenAt: '2025-01-01T00:01:00.000Z',
      },
    ]);
    expect(await store.find(first.accountId)).toEqual(second);
    expect(await store.find('no-such-account')).toBeUndefined();
  });

  test.each([
    ['the same key', true],
    ['a new key', false],
  ])('a renewed certificate (%s) linked by the predecessor file joins the account', async (_, sameKey) => {
    const renewed = await renew(alice, sameKey as boolean);
    const { store } = await setup({
      [serialHex(parseCertificate(renewed).serialNumber)]: alice.userAuth.serialHex,
    });
    const original = await store.accountForLogin(loginOf(alice.userAuth.der));
    const afterRenewal = await store.accountForLogin(loginOf(renewed));
    expect(afterRenewal.accountId).toBe(original.accountId);
    expect(afterRenewal.certificates.map((certificate) => certificate.certificateKey).sort()).toEqual(
      [loginOf(alice.userAuth.der).certificateKey, loginOf(renewed).certificateKey].sort(),
    );
    expect((await store.accountForLogin(loginOf(renewed))).certificates).toHaveLength(2);
    expect((await store.accountForLogin(loginOf(alice.userAuth.der))).accountId).toBe(original.accountId);
  });

  test('a renewal whose predecessor was never seen, and an unrelated certificate, get new accounts', async () => {
    const renewed = await renew(alice, true);
    const { store } = await setup({
      [serialHex(parseCertificate(renewed).serialNumber)]: alice.userAuth.serialHex,
    });
    const renewedAccount = await store.accountForLogin(loginOf(renewed));
    expect(renewedAccount.accountId).toBe(loginOf(renewed).certificateKey);
    const bobAccount = await store.accountForLogin(loginOf(bob.userAuth.der, '2019'));
    expect(bobAccount.accountId).not.toBe(renewedAccount.accountId);
    expect(bobAccount.certificates).toHaveLength(1);
  });

  test('concurrent first logins with one certificate create one account', async () => {
    const { store, table } = await setup();
    const accounts = await Promise.all(
      Array.from({ length: 20 }, () => store.accountForLogin(loginOf(alice.userAuth.der))),
    );
    expect(new Set(accounts.map((account) => account.accountId)).size).toBe(1);
    const items = await scanAll(table);
    expect(items.filter((item) => String(item.pk).startsWith('ACCOUNT#'))).toHaveLength(1);
    expect(items.filter((item) => String(item.pk).startsWith('CERT#'))).toHaveLength(1);
  });

  test('concurrent first logins with a renewed certificate link it once', async () => {
    const renewed = await renew(alice, false);
    const { store } = await setup({
      [serialHex(parseCertificate(renewed).serialNumber)]: alice.userAuth.serialHex,
    });
    const original = await store.accountForLogin(loginOf(alice.userAuth.der));
    const accounts = await Promise.all(
      Array.from({ length: 10 }, () => store.accountForLogin(loginOf(renewed))),
    );
    expect(new Set(accounts.map((account) => account.accountId))).toEqual(new Set([original.accountId]));
    expect((await store.find(original.accountId))?.certificates).toHaveLength(2);
  });

  test('no item holds a raw serial number', async () => {
    const renewed = await renew(alice, true);
    const serials = [
      alice.userAuth.serialHex,
      bob.userAuth.serialHex,
      serialHex(parseCertificate(renewed).serialNumber),
    ];
    const { store, table } = await setup({ [serials[2] as string]: alice.userAuth.serialHex });
    await store.accountForLogin(loginOf(alice.userAuth.der));
    await store.accountForLogin(loginOf(renewed));
    await store.accountForLogin(loginOf(bob.userAuth.der));
    const dump = JSON.stringify(await scanAll(table)).toLowerCase();
    expect(dump).toContain('account#');
    for (const serial of serials) {
      expect(dump).not.toContain(serial);
      expect(dump).not.toContain(Buffer.from(serial, 'hex').toString('base64'));
      expect(dump).not.toContain(Buffer.from(serial, 'hex').toString('base64url').toLowerCase());
    }
  });
});

describe('DynamoAccountStore after an interrupted login', () => {
  test('a pointer whose certificate entry was never written is completed by the next login', async () => {
    const { store, table } = await setup();
    const original = await store.accountForLogin(loginOf(alice.userAuth.der));
    const bobLogin = loginOf(bob.userAuth.der);
    await table.client.send(
      new PutItemCommand({
        TableName: table.tableName,
        Item: marshall({ ...itemKey('CERT', bobLogin.certificateKey), accountId: original.accountId }),
      }),
    );
    const account = await store.accountForLogin(bobLogin);
    expect(account.accountId).toBe(original.accountId);
    expect(account.certificates).toHaveLength(2);
  });

  test('a pointer to a missing account is an AccountStoreError', async () => {
    const { store, table } = await setup();
    const login = loginOf(alice.userAuth.der);
    await table.client.send(
      new PutItemCommand({
        TableName: table.tableName,
        Item: marshall({ ...itemKey('CERT', login.certificateKey), accountId: 'gone' }),
      }),
    );
    await expect(store.accountForLogin(login)).rejects.toMatchObject({ code: 'ACCOUNT_MISSING' });
  });
});

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { meterDynamo } from '../../bench/dynamo-meter.js';
import type { DevIdentity, DevPki } from '../../dev-pki/hierarchy.js';
import { issueUserAuthCertificate } from '../../dev-pki/issue.js';
import { AccountRecords, certificatePointerKey } from '../../functions/accounts/account-records.js';
import { type Account, NO_PREDECESSORS } from '../../functions/accounts/account-store.js';
import { DynamoAccountStore } from '../../functions/accounts/dynamo-account-store.js';
import { FilePredecessorSource } from '../../functions/accounts/file-predecessor-source.js';
import { CERTIFICATE_POINTER_SLACK_DAYS, DEFAULT_ACCOUNT_RETENTION_DAYS } from '../../functions/defaults.js';
import { parseCertificate, serialHex } from '../../functions/jpki/certificate.js';
import type { TrustAnchors } from '../../functions/jpki/trust-anchors.js';
import { readLambdaEnv } from '../../functions/op/lambda-env.js';
import { createDynamoClient } from '../../functions/storage/dynamo-client.js';
import { ReleaseHistory } from '../../functions/storage/release-history.js';
import { itemKey } from '../../functions/storage/table.js';
import { scanAll, type TestTable, useLocalTables } from '../storage/local-table.js';
import { devPki, userAuthAnchors } from '../support/dev-pki.js';
import { loginCertificate } from './login-certificate.js';

const DAY = 24 * 3600 * 1000;
const newTable = useLocalTables();
const secret = randomBytes(32);
let dir: string;
let alice: DevIdentity;
let bob: DevIdentity;
let pki: DevPki;
let anchors: TrustAnchors;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'myna-oidc-accounts-'));
  pki = await devPki();
  anchors = userAuthAnchors(pki);
  [alice, bob] = pki.identities as [DevIdentity, DevIdentity];
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const loginOf = (der: Uint8Array) => loginCertificate(der, anchors, secret);

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
    // The certificate key of its first certificate, and a random part (newAccountId).
    expect(first.accountId).toMatch(new RegExp(`^${login.certificateKey}\\.[\\w-]{22}$`));
    expect(second.accountId).toBe(first.accountId);
    expect(second.certificates).toEqual([
      {
        certificateKey: login.certificateKey,
        issuerKeyId: login.issuerKeyId,
        issuerGeneration: login.issuerGeneration,
        issuedAt: login.certificate.notBefore.toISOString().slice(0, 10),
        firstSeenAt: '2025-01-01T00:00:00.000Z',
        lastSeenAt: '2025-01-01T00:01:00.000Z',
      },
    ]);
    // Kept DEFAULT_ACCOUNT_RETENTION_DAYS after the last login.
    expect(second.expiresAt).toBe(new Date(now + DEFAULT_ACCOUNT_RETENTION_DAYS * DAY).toISOString());
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
    expect(renewedAccount.accountId.startsWith(`${loginOf(renewed).certificateKey}.`)).toBe(true);
    const bobAccount = await store.accountForLogin(loginOf(bob.userAuth.der));
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

describe('a returning certificate', () => {
  /** A store on its own metered client (the calls it sends), on a clock. */
  async function meteredStore(links: Record<string, string> = {}) {
    const table = await newTable();
    const path = join(dir, `predecessors-${++files}.json`);
    await writeFile(path, JSON.stringify(links));
    const client = createDynamoClient({ endpoint: table.endpoint });
    const meter = meterDynamo(client);
    const clock = { now: Date.parse('2025-01-01T00:00:00Z') };
    const store = new DynamoAccountStore({
      client,
      tableName: table.tableName,
      secret,
      predecessors: new FilePredecessorSource(path),
      now: () => clock.now,
    });
    const calls = () => meter.calls.map((call) => `${call.command} ${call.kind}`);
    return { store, table, client, meter, clock, calls, close: () => client.destroy() };
  }

  test('logs in with ONE UpdateItem of its account while its pointer needs no write', async () => {
    const { store, meter, clock, calls, close } = await meteredStore();
    try {
      const login = loginOf(alice.userAuth.der);
      const first = await store.accountForLogin(login);
      clock.now += 60_000;
      meter.reset();
      const second = await store.accountForLogin(login);
      expect(calls()).toEqual(['UpdateItem ACCOUNT']);
      expect(second).toEqual({
        ...first,
        expiresAt: new Date(clock.now + DEFAULT_ACCOUNT_RETENTION_DAYS * DAY).toISOString(),
        certificates: [{ ...first.certificates[0], lastSeenAt: new Date(clock.now).toISOString() }],
      });
    } finally {
      close();
    }
  });

  test('its pointer is written again when due (the one-write login waits for it), then one write again', async () => {
    const { store, table, meter, clock, calls, close } = await meteredStore();
    try {
      const login = loginOf(alice.userAuth.der);
      await store.accountForLogin(login);
      const pointerExpiry = async () =>
        Number((await scanAll(table)).find((item) => String(item.pk).startsWith('CERT#'))?.expiresAt);
      const before = await pointerExpiry();
      clock.now += (CERTIFICATE_POINTER_SLACK_DAYS + 1) * DAY;
      meter.reset();
      await store.accountForLogin(login);
      expect(calls()).toEqual([
        'UpdateItem ACCOUNT',
        'GetItem CERT',
        'UpdateItem CERT',
        'UpdateItem ACCOUNT',
      ]);
      expect(await pointerExpiry()).toBe(before + ((CERTIFICATE_POINTER_SLACK_DAYS + 1) * DAY) / 1000);
      meter.reset();
      await store.accountForLogin(login);
      expect(calls()).toEqual(['UpdateItem ACCOUNT']);
    } finally {
      close();
    }
  });

  test('a renewed certificate (its account is named after another) takes the full path to the same account', async () => {
    const renewed = await renew(alice, false);
    const { store, meter, calls, close } = await meteredStore({
      [serialHex(parseCertificate(renewed).serialNumber)]: alice.userAuth.serialHex,
    });
    try {
      const original = await store.accountForLogin(loginOf(alice.userAuth.der));
      await store.accountForLogin(loginOf(renewed));
      meter.reset();
      expect((await store.accountForLogin(loginOf(renewed))).accountId).toBe(original.accountId);
      expect(calls()).toEqual(['UpdateItem ACCOUNT', 'GetItem CERT', 'UpdateItem ACCOUNT']);
    } finally {
      close();
    }
  });

  test('after the retention is shortened, the pointer is read again: its recorded expiry is not trusted', async () => {
    const { store, table, clock, close } = await meteredStore();
    const client = createDynamoClient({ endpoint: table.endpoint });
    try {
      const login = loginOf(alice.userAuth.der);
      await store.accountForLogin(login);
      const shorter = new DynamoAccountStore({
        client,
        tableName: table.tableName,
        secret,
        predecessors: NO_PREDECESSORS,
        retentionDays: 30,
        now: () => clock.now,
      });
      const meter = meterDynamo(client);
      const account = await shorter.accountForLogin(login);
      expect(meter.calls.map((call) => `${call.command} ${call.kind}`)).toEqual([
        'UpdateItem ACCOUNT',
        'GetItem CERT',
        'UpdateItem ACCOUNT',
      ]);
      expect(account.expiresAt).toBe(new Date(clock.now + 30 * DAY).toISOString());
    } finally {
      client.destroy();
      close();
    }
  });

  test('the one-write login keeps the CA-key binding: another CA key with the same certificate key is refused', async () => {
    const { store, close } = await meteredStore();
    try {
      const login = loginOf(alice.userAuth.der);
      await store.accountForLogin(login);
      await expect(store.accountForLogin({ ...login, issuerKeyId: 'f'.repeat(64) })).rejects.toMatchObject({
        code: 'ISSUER_KEY_MISMATCH',
      });
    } finally {
      close();
    }
  });

  describe('knownAccount: the account its one-write login is recorded on, read before it', () => {
    type Metered = Awaited<ReturnType<typeof meteredStore>>;

    /** Another store over the metered one's table, client and clock, keeping accounts `retentionDays`. */
    const withRetention = ({ client, table, clock }: Metered, retentionDays: number) =>
      new DynamoAccountStore({
        client,
        tableName: table.tableName,
        secret,
        predecessors: NO_PREDECESSORS,
        retentionDays,
        now: () => clock.now,
      });

    /**
     * knownAccount of `login`'s certificate key, checked to send one GetItem and change no item,
     * then the login, checked to agree: a known account is the one its single UpdateItem records
     * the login on, with the certificate's CA key; with none, that write is refused and the longer
     * path runs.
     */
    async function knownThenLogin(
      { meter, calls, table }: Metered,
      login: ReturnType<typeof loginOf>,
      store: DynamoAccountStore,
    ) {
      const before = await scanAll(table);
      meter.reset();
      const known = await store.knownAccount(login.certificateKey);
      expect(calls()).toEqual(['GetItem ACCOUNT']);
      expect(await scanAll(table)).toEqual(before);
      meter.reset();
      const account = await store.accountForLogin(login);
      if (known) {
        expect(calls()).toEqual(['UpdateItem ACCOUNT']);
        expect(known).toEqual({ accountId: account.accountId, issuerKeyId: login.issuerKeyId });
      } else {
        expect(meter.calls[0]).toMatchObject({
          command: 'UpdateItem',
          error: 'ConditionalCheckFailedException',
        });
        expect(calls().length).toBeGreaterThan(1);
      }
      return { known, account };
    }

    /**
     * Runs `body` on a metered store (closed after it; keeping accounts `retentionDays` when given)
     * on which alice's certificate `login` made its account `first`.
     */
    async function onAliceAccount(
      body: (
        on: Metered & { login: ReturnType<typeof loginOf>; first: Account; start: number },
      ) => Promise<void>,
      { links, retentionDays }: { links?: Record<string, string>; retentionDays?: number } = {},
    ) {
      const metered = await meteredStore(links);
      try {
        const store = retentionDays === undefined ? metered.store : withRetention(metered, retentionDays);
        const login = loginOf(alice.userAuth.der);
        const first = await store.accountForLogin(login);
        await body({ ...metered, store, login, first, start: metered.clock.now });
      } finally {
        metered.close();
      }
    }

    test("a returning certificate's account and CA key, as accountForLogin then finds them; nothing written", () =>
      onAliceAccount(async (on) => {
        on.clock.now += 60_000;
        const { known, account } = await knownThenLogin(on, on.login, on.store);
        expect(known).toEqual({ accountId: on.first.accountId, issuerKeyId: on.login.issuerKeyId });
        expect(account.accountId).toBe(on.first.accountId);
        expect(account.certificates[0]?.issuerKeyId).toBe(known?.issuerKeyId);
      }));

    test('an unknown certificate key: undefined', () =>
      onAliceAccount(async (on) => {
        for (const key of ['', 'no-such-key', `${on.login.certificateKey}x`])
          expect(await on.store.knownAccount(key)).toBeUndefined();
        // bob's first login creates his account (the longer path); his next one is known.
        const bobLogin = loginOf(bob.userAuth.der);
        expect((await knownThenLogin(on, bobLogin, on.store)).known).toBeUndefined();
        const { known, account } = await knownThenLogin(on, bobLogin, on.store);
        expect(known?.accountId).toBe(account.accountId);
      }));

    test('an expired account: undefined from the second its retention ends', () =>
      // One day's retention: the account expires while its pointer's recorded expiry is still in range.
      onAliceAccount(
        async (on) => {
          on.clock.now = on.start + DAY - 1;
          expect(await on.store.knownAccount(on.login.certificateKey)).toEqual({
            accountId: on.first.accountId,
            issuerKeyId: on.login.issuerKeyId,
          });
          on.clock.now = on.start + DAY;
          const { known, account } = await knownThenLogin(on, on.login, on.store);
          expect(known).toBeUndefined();
          expect(account.accountId).not.toBe(on.first.accountId);
        },
        { retentionDays: 1 },
      ));

    test("a renewed certificate: undefined (its account is keyed by the first one's key), accountForLogin still finds it", async () => {
      const renewed = await renew(alice, false);
      await onAliceAccount(
        async (on) => {
          await on.store.accountForLogin(loginOf(renewed));
          const { known, account } = await knownThenLogin(on, loginOf(renewed), on.store);
          expect(known).toBeUndefined();
          expect(account.accountId).toBe(on.first.accountId);
          expect(account.certificates).toHaveLength(2);
          // The first certificate's own login is still known.
          expect(await on.store.knownAccount(on.login.certificateKey)).toEqual({
            accountId: on.first.accountId,
            issuerKeyId: on.login.issuerKeyId,
          });
        },
        { links: { [serialHex(parseCertificate(renewed).serialNumber)]: alice.userAuth.serialHex } },
      );
    });

    test("a pointer due for its write (recorded expiry before the account's new one): undefined past the bound", () =>
      onAliceAccount(async (on) => {
        // The bound is inclusive: the recorded expiry equals the account's new expiry, still one write.
        on.clock.now = on.start + CERTIFICATE_POINTER_SLACK_DAYS * DAY;
        expect((await knownThenLogin(on, on.login, on.store)).known).toBeDefined();
        on.clock.now += 1000;
        expect((await knownThenLogin(on, on.login, on.store)).known).toBeUndefined();
        // The pointer was written again by that login: known again.
        expect((await knownThenLogin(on, on.login, on.store)).known).toBeDefined();
      }));

    test('after the retention is shortened (recorded expiry past what a pointer gets now): undefined', () =>
      onAliceAccount(async (on) => {
        // One day shorter: a pointer written a day later gets the recorded expiry (inclusive bound).
        const dayShorter = withRetention(on, DEFAULT_ACCOUNT_RETENTION_DAYS - 1);
        on.clock.now = on.start + DAY - 1000;
        expect(await dayShorter.knownAccount(on.login.certificateKey)).toBeUndefined();
        on.clock.now = on.start + DAY;
        expect((await knownThenLogin(on, on.login, dayShorter)).known).toEqual({
          accountId: on.first.accountId,
          issuerKeyId: on.login.issuerKeyId,
        });
        const { known, account } = await knownThenLogin(on, on.login, withRetention(on, 30));
        expect(known).toBeUndefined();
        expect(account).toMatchObject({
          accountId: on.first.accountId,
          expiresAt: new Date(on.clock.now + 30 * DAY).toISOString(),
        });
      }));

    test('an erased account: undefined', () =>
      onAliceAccount(async (on) => {
        await new AccountRecords(on.table).erase(on.first.accountId);
        const { known, account } = await knownThenLogin(on, on.login, on.store);
        expect(known).toBeUndefined();
        expect(account.accountId).not.toBe(on.first.accountId);
      }));

    test('an entry from before the CA-key binding and the recorded pointer expiry: undefined', async () => {
      const metered = await meteredStore();
      try {
        const { store, table } = metered;
        const login = loginOf(alice.userAuth.der);
        const entry = { issuerGeneration: login.issuerGeneration, firstSeenAt: '2024-01-01T00:00:00.000Z' };
        for (const item of [
          {
            ...itemKey('ACCOUNT', login.certificateKey),
            accountId: login.certificateKey,
            createdAt: entry.firstSeenAt,
            certificates: { [login.certificateKey]: { ...entry, lastSeenAt: entry.firstSeenAt } },
          },
          { ...itemKey('CERT', login.certificateKey), accountId: login.certificateKey },
        ])
          await table.client.send(new PutItemCommand({ TableName: table.tableName, Item: marshall(item) }));
        const { known, account } = await knownThenLogin(metered, login, store);
        expect(known).toBeUndefined();
        expect(account.accountId).toBe(login.certificateKey);
      } finally {
        metered.close();
      }
    });
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

  test('an account made after an erasure is a new one: new id (so new pairwise subs), the old id finds nothing', async () => {
    const { store, table } = await setup();
    const login = loginOf(alice.userAuth.der);
    const erased = await store.accountForLogin(login);
    await new AccountRecords(table).erase(erased.accountId);
    expect(await scanAll(table)).toEqual([]);
    const renewedLife = await store.accountForLogin(login);
    expect(renewedLife.accountId).not.toBe(erased.accountId);
    expect(renewedLife.accountId.startsWith(`${login.certificateKey}.`)).toBe(true);
    expect(await store.find(erased.accountId)).toBeUndefined();
    // The old id names the same item key: erasing it again touches nothing of the new account.
    expect(await new AccountRecords(table).erase(erased.accountId)).toMatchObject({ found: false });
    expect(await store.find(renewedLife.accountId)).toMatchObject({ accountId: renewedLife.accountId });
    expect(
      await store.markCertificateRevoked(erased.accountId, login.certificateKey, {
        reason: 'x',
        revokedAt: new Date(),
      }),
    ).toBe(false);
  });

  test('a pointer to a vanished account (erased, or deleted by TTL) is dropped and a new account starts', async () => {
    const { store, table } = await setup();
    const login = loginOf(alice.userAuth.der);
    await table.client.send(
      new PutItemCommand({
        TableName: table.tableName,
        Item: marshall({ ...itemKey('CERT', login.certificateKey), accountId: 'gone' }),
      }),
    );
    const account = await store.accountForLogin(login);
    expect(account.accountId.startsWith(`${login.certificateKey}.`)).toBe(true);
    const pointers = (await scanAll(table)).filter((item) => String(item.pk).startsWith('CERT#'));
    expect(pointers).toEqual([expect.objectContaining({ accountId: account.accountId })]);
  });
});

describe('certificates of two CA generations with one DN and one serial', () => {
  /** A card of the other generation with alice's serial: same issuer DN, same serial, same certificate key. */
  async function aliceTwin(): Promise<Uint8Array> {
    const [older] = pki.userAuthCas;
    const { der } = await issueUserAuthCertificate({
      ca: older,
      serialHex: alice.userAuth.serialHex,
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + DAY),
    });
    return der;
  }

  function recordingStore(table: TestTable) {
    const warnings: { event: string; fields?: Record<string, unknown> }[] = [];
    const store = new DynamoAccountStore({
      ...table,
      secret,
      predecessors: NO_PREDECESSORS,
      logger: { info: () => undefined, warn: (event, fields) => warnings.push({ event, fields }) },
    });
    return { store, warnings };
  }

  test('the second generation is refused with ISSUER_KEY_MISMATCH and a warning, the first keeps its account', async () => {
    const table = await newTable();
    const { store, warnings } = recordingStore(table);
    const original = loginOf(alice.userAuth.der);
    const twin = loginOf(await aliceTwin());
    expect(twin.certificateKey).toBe(original.certificateKey);
    expect(twin.issuerKeyId).not.toBe(original.issuerKeyId);

    const account = await store.accountForLogin(original);
    await expect(store.accountForLogin(twin)).rejects.toMatchObject({
      name: 'VerificationError',
      code: 'ISSUER_KEY_MISMATCH',
    });
    expect(warnings).toEqual([
      {
        event: 'account.issuer_key_mismatch',
        fields: {
          presentedIssuerKey: twin.issuerKeyId.slice(0, 12),
          presentedGeneration: twin.issuerGeneration,
          boundIssuerKey: original.issuerKeyId.slice(0, 12),
        },
      },
    ]);
    const logged = JSON.stringify(warnings);
    expect(logged).not.toContain(alice.userAuth.serialHex);
    expect(logged).not.toContain(original.certificateKey);
    expect(await store.find(account.accountId)).toEqual(account);
    await expect(store.accountForLogin(original)).resolves.toMatchObject({ accountId: account.accountId });
  });

  test('the older generation first: the newer one is refused the same way', async () => {
    const { store } = recordingStore(await newTable());
    const twin = loginOf(await aliceTwin());
    await store.accountForLogin(twin);
    await expect(store.accountForLogin(loginOf(alice.userAuth.der))).rejects.toMatchObject({
      code: 'ISSUER_KEY_MISMATCH',
    });
  });

  test('a pointer from before the binding is bound by its next login, keeping its account id', async () => {
    const table = await newTable();
    const { store } = recordingStore(table);
    const original = loginOf(alice.userAuth.der);
    const legacyEntry = {
      issuerGeneration: original.issuerGeneration,
      notAfter: original.certificate.notAfter.toISOString(),
      firstSeenAt: '2024-01-01T00:00:00.000Z',
      lastSeenAt: '2024-01-01T00:00:00.000Z',
    };
    for (const item of [
      {
        ...itemKey('ACCOUNT', original.certificateKey),
        accountId: original.certificateKey,
        createdAt: legacyEntry.firstSeenAt,
        certificates: { [original.certificateKey]: legacyEntry },
      },
      { ...itemKey('CERT', original.certificateKey), accountId: original.certificateKey },
    ]) {
      await table.client.send(new PutItemCommand({ TableName: table.tableName, Item: marshall(item) }));
    }
    const account = await store.accountForLogin(original);
    expect(account.accountId).toBe(original.certificateKey);
    expect(account.certificates).toEqual([
      expect.objectContaining({ issuerKeyId: original.issuerKeyId, firstSeenAt: legacyEntry.firstSeenAt }),
    ]);
    // Data minimisation: the certificate's expiry (a birthday) is gone from the stored item.
    const dump = await scanAll(table);
    expect(JSON.stringify(dump)).not.toContain('notAfter');
    expect(dump.find((item) => String(item.pk).startsWith('CERT#'))).toMatchObject({
      issuerKeyId: original.issuerKeyId,
      expiresAt: expect.any(Number),
    });
    await expect(store.accountForLogin(loginOf(await aliceTwin()))).rejects.toMatchObject({
      code: 'ISSUER_KEY_MISMATCH',
    });
  });

  test("a CRL of one generation finds no account of the other generation's certificate", async () => {
    const { store } = recordingStore(await newTable());
    const original = loginOf(alice.userAuth.der);
    const account = await store.accountForLogin(original);
    const twin = loginOf(await aliceTwin());
    expect(await store.accountsOfCertificateKeys([twin.certificateKey], twin.issuerKeyId)).toEqual(new Map());
    expect(await store.accountsOfCertificateKeys([original.certificateKey], original.issuerKeyId)).toEqual(
      new Map([[original.certificateKey, account.accountId]]),
    );
  });
});

describe('account retention', () => {
  function clockedStore(table: TestTable, start: number, retentionDays?: number) {
    const clock = { now: start };
    const store = new DynamoAccountStore({
      ...table,
      secret,
      predecessors: NO_PREDECESSORS,
      ...(retentionDays === undefined ? {} : { retentionDays }),
      now: () => clock.now,
    });
    return { store, clock };
  }

  test('an account reads as absent once its retention after the last login has passed; a login renews it', async () => {
    const table = await newTable();
    const start = Date.parse('2025-01-01T00:00:00Z');
    const { store, clock } = clockedStore(table, start, 30);
    const login = loginOf(alice.userAuth.der);
    const account = await store.accountForLogin(login);
    clock.now = start + 20 * DAY;
    await store.accountForLogin(login);
    clock.now = start + 45 * DAY; // 25 days after the last login: still kept
    expect(await store.find(account.accountId)).toMatchObject({
      expiresAt: new Date(start + 50 * DAY).toISOString(),
    });
    clock.now = start + 51 * DAY;
    expect(await store.find(account.accountId)).toBeUndefined();
    const items = await scanAll(table);
    const accountItem = items.find((item) => String(item.pk).startsWith('ACCOUNT#'));
    const pointer = items.find((item) => String(item.pk).startsWith('CERT#'));
    // DynamoDB TTL deletes the item itself; the pointer outlives the account it names.
    expect(accountItem?.expiresAt).toBe((start + 50 * DAY) / 1000);
    expect(Number(pointer?.expiresAt)).toBeGreaterThan(Number(accountItem?.expiresAt));
  });

  test('a login after expiry erases the old account and starts a new one', async () => {
    const table = await newTable();
    const start = Date.parse('2025-01-01T00:00:00Z');
    const { store, clock } = clockedStore(table, start, 30);
    const login = loginOf(alice.userAuth.der);
    await store.accountForLogin(login);
    clock.now = start + 31 * DAY;
    const fresh = await store.accountForLogin(login);
    expect(fresh.createdAt).toBe(new Date(clock.now).toISOString());
    expect(fresh.certificates).toEqual([expect.objectContaining({ firstSeenAt: fresh.createdAt })]);
    expect((await scanAll(table)).filter((item) => String(item.pk).startsWith('ACCOUNT#'))).toHaveLength(1);
  });

  test('a new account over an expired item whose pointer is gone erases what named the old one', async () => {
    const table = await newTable();
    const start = Date.parse('2025-01-01T00:00:00Z');
    const { store, clock } = clockedStore(table, start, 30);
    const login = loginOf(alice.userAuth.der);
    const old = await store.accountForLogin(login);
    await new ReleaseHistory({ ...table, now: () => clock.now }).record({
      accountId: old.accountId,
      clientId: 'rp',
      at: new Date(start),
      scopes: ['openid'],
      claims: ['sub'],
    });
    // TTL deleted the pointer, not (yet) the expired account item.
    await table.client.send(
      new DeleteItemCommand({
        TableName: table.tableName,
        Key: marshall(certificatePointerKey(login.certificateKey)),
      }),
    );
    clock.now = start + 31 * DAY;
    const fresh = await store.accountForLogin(login);
    expect(fresh.accountId).not.toBe(old.accountId);
    expect(JSON.stringify(await scanAll(table))).not.toContain(old.accountId);
  });

  test("the OP Lambda's retention comes from OP_ACCOUNT_RETENTION_DAYS (unset: the default)", () => {
    const env = {
      OP_ISSUER: 'https://login.example.jp',
      OP_TABLE_NAME: 't',
      OP_SECRET_ID: 's',
      OP_TRUST_ANCHORS_FILE: 'anchors.pem',
    };
    expect(readLambdaEnv({ ...env, OP_ACCOUNT_RETENTION_DAYS: '400' }).accountRetentionDays).toBe(400);
    expect(readLambdaEnv(env).accountRetentionDays).toBeUndefined();
    expect(() => readLambdaEnv({ ...env, OP_ACCOUNT_RETENTION_DAYS: 'forever' })).toThrow(
      /OP_ACCOUNT_RETENTION_DAYS must be an integer/,
    );
  });

  test('the retention must be a whole number of days', () => {
    expect(() => clockedStore({ client: undefined as never, endpoint: '', tableName: 't' }, 0, 0)).toThrow(
      RangeError,
    );
  });
});

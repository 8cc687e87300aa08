/**
 * The release history: names only, expiry checked on every read, erasure; and its write on the
 * login path — one PutItem that rides in the login's BatchWriteItem, so the returning login's
 * DynamoDB calls stay within test/storage/ddb-login-calls.test.ts's budget.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type MeteredLogin, startMeteredLogin } from '../../bench/login-cost.js';
import { recordCodeRelease } from '../../functions/accounts/op-account-services.js';
import { type IssuedCode, releaseOfCode } from '../../functions/accounts/release-of-code.js';
import { DEFAULT_RELEASE_HISTORY_RETENTION_DAYS } from '../../functions/defaults.js';
import {
  EVIDENCE_CLAIM,
  EVIDENCE_RECORD_CLAIM,
  SUBSTITUTES_CLAIM,
} from '../../functions/identity/vocabulary.js';
import { ACCOUNT_CLIENT_ID } from '../../functions/op/account/account-client.js';
import type { OpStorage } from '../../functions/op/config.js';
import { RAW_SERIAL_CLAIM, RAW_SERIAL_SCOPE } from '../../functions/op/raw-serial.js';
import { MemoryCrlSource } from '../../functions/revocation/memory-crl-source.js';
import { ReleaseHistory } from '../../functions/storage/release-history.js';
import { scanAll, type TestTable, useLocalTables } from '../storage/local-table.js';
import { aliceCard } from '../support/card.js';
import { userAuthAnchors } from '../support/dev-pki.js';

const newTable = useLocalTables();
const T0 = Date.parse('2030-01-01T00:00:00Z');
const HOUR = 3_600_000;

const entry = (accountId: string, clientId: string, atMs: number) => ({
  accountId,
  clientId,
  at: new Date(atMs),
  scopes: ['openid', 'birthdate'],
  claims: ['sub', 'acr', 'amr', 'auth_time'],
  identityClaims: ['age_over_20'],
});

describe('ReleaseHistory', () => {
  it('lists an account’s releases oldest first, names only, and never another account’s', async () => {
    const table = await newTable();
    let now = T0;
    const history = new ReleaseHistory({ ...table, now: () => now });
    await history.record(entry('acct-1', 'rp-b', T0 + HOUR));
    await history.record(entry('acct-1', 'rp-a', T0));
    await history.record(entry('acct-2', 'rp-a', T0));
    now = T0 + 2 * HOUR;
    const listed = await history.list('acct-1');
    expect(listed.map((e) => [e.clientId, e.at.toISOString()])).toEqual([
      ['rp-a', new Date(T0).toISOString()],
      ['rp-b', new Date(T0 + HOUR).toISOString()],
    ]);
    expect(listed[0]).toEqual(entry('acct-1', 'rp-a', T0));
    const items = await scanAll(table);
    expect(items).toHaveLength(3);
    for (const item of items) {
      expect(Object.keys(item).sort()).toEqual(
        ['at', 'claims', 'clientId', 'expiresAt', 'identityClaims', 'pk', 'scopes', 'sk'].sort(),
      );
    }
    expect(items[0]?.expiresAt).toBe(
      Math.floor(Date.parse(String(items[0]?.at)) / 1000) + DEFAULT_RELEASE_HISTORY_RETENTION_DAYS * 86_400,
    );
  });

  it('leaves out entries past the retention period on read (TTL deletes late), and eraseAll removes all', async () => {
    const table = await newTable();
    let now = T0;
    const history = new ReleaseHistory({ ...table, retentionDays: 1, now: () => now });
    await history.record(entry('acct-1', 'rp-a', T0));
    await history.record(entry('acct-1', 'rp-a', T0 + 12 * HOUR));
    now = T0 + 23 * HOUR;
    expect(await history.list('acct-1')).toHaveLength(2);
    now = T0 + 25 * HOUR;
    expect((await history.list('acct-1')).map((e) => e.at.getTime())).toEqual([T0 + 12 * HOUR]);
    now = T0 + 37 * HOUR;
    expect(await history.list('acct-1')).toEqual([]);
    // The expired items are still there until TTL; eraseAll takes them too.
    expect(await scanAll(table)).toHaveLength(2);
    expect(await history.eraseAll('acct-1')).toEqual({ releases: 2, evidenceLinks: 0 });
    expect(await scanAll(table)).toEqual([]);
  });

  it('links retained evidence to the account until the record’s own expiry, apart from releases; eraseAll cuts the links', async () => {
    const table = await newTable();
    let now = T0;
    const history = new ReleaseHistory({ ...table, retentionDays: 1, now: () => now });
    await history.record(entry('acct-1', 'rp-a', T0));
    const link = {
      accountId: 'acct-1',
      clientId: 'rp-a',
      recordId: 'rec-1',
      createdAt: new Date(T0),
      keptUntil: new Date(T0 + 30 * 24 * HOUR),
    };
    await history.recordEvidence(link);
    expect(await history.read('acct-1')).toEqual({
      releases: [entry('acct-1', 'rp-a', T0)],
      evidence: [link],
    });
    expect(await history.list('acct-1')).toEqual([entry('acct-1', 'rp-a', T0)]);
    // Past the history's retention, the link stays while the record does.
    now = T0 + 2 * 24 * HOUR;
    expect(await history.read('acct-1')).toEqual({ releases: [], evidence: [link] });
    const stored = (await scanAll(table)).find((item) => item.recordId === 'rec-1');
    expect(stored?.expiresAt).toBe(Math.floor(link.keptUntil.getTime() / 1000));
    expect(Object.keys(stored ?? {}).sort()).toEqual(
      ['at', 'clientId', 'expiresAt', 'keptUntil', 'pk', 'recordId', 'sk'].sort(),
    );
    now = T0 + 31 * 24 * HOUR;
    expect((await history.read('acct-1')).evidence).toEqual([]);
    expect(await history.eraseAll('acct-1')).toEqual({ releases: 1, evidenceLinks: 1 });
    expect(await scanAll(table)).toEqual([]);
  });

  it('refuses a retention that is not a whole number of days', () => {
    const table = { client: undefined as never, tableName: 't' };
    expect(() => new ReleaseHistory({ ...table, retentionDays: 0 })).toThrow(RangeError);
    expect(() => new ReleaseHistory({ ...table, retentionDays: 1.5 })).toThrow(RangeError);
  });
});

describe('releaseOfCode', () => {
  const claimsByScope = {
    openid: ['sub', 'acr', SUBSTITUTES_CLAIM, EVIDENCE_CLAIM, EVIDENCE_RECORD_CLAIM],
    sid: null,
    email: ['email'],
    address: ['address'],
    birthdate: ['birthdate'],
    [RAW_SERIAL_SCOPE]: [RAW_SERIAL_CLAIM],
    verified_claims: null,
    age_over_20: null,
  };

  it('names the scopes, their claims and the claims parameter’s members the grant accepted, without values', () => {
    const released = releaseOfCode(
      {
        accountId: 'acct',
        clientId: 'rp',
        scope: 'openid email',
        claims: { id_token: { auth_time: { essential: true } }, userinfo: { locale: null, nickname: null } },
      },
      claimsByScope,
      new Date(T0),
      { grantedClaims: ['sub', 'auth_time', 'nickname'] },
    );
    expect(released).toEqual({
      accountId: 'acct',
      clientId: 'rp',
      at: new Date(T0),
      scopes: ['openid', 'email'],
      // `locale` was asked for, never granted.
      claims: ['acr', 'auth_time', 'email', 'nickname', 'sub'],
    });
    expect(releaseOfCode({ clientId: 'rp', scope: 'openid' }, claimsByScope, new Date(T0))).toBeUndefined();
  });

  it('lists identity facts only as released (identityClaims), never the vocabulary or the OP’s pseudo-claims', () => {
    const code = {
      accountId: 'acct',
      clientId: 'rp',
      scope: `openid address birthdate ${RAW_SERIAL_SCOPE}`,
      claims: {
        id_token: { verified_claims: { claims: { name: null, birthdate: null } }, age_over_20: null },
        userinfo: { address: null },
      },
    };
    const grantedClaims = ['sub', 'verified_claims', 'age_over_20', 'address', 'birthdate'];
    // The person ticked birthdate only; the client is not flagged for the raw serial.
    const released = releaseOfCode(code, claimsByScope, new Date(T0), {
      grantedClaims,
      identityClaims: ['birthdate'],
    });
    expect(released?.claims).toEqual(['acr', 'sub']);
    expect(released?.identityClaims).toEqual(['birthdate']);
    // A flagged client's transaction carries the serial.
    expect(
      releaseOfCode(code, claimsByScope, new Date(T0), { grantedClaims, rawSerial: true })?.claims,
    ).toEqual(['acr', RAW_SERIAL_CLAIM, 'sub'].sort());
  });

  it('lists the raw serial only when the code’s scope asks for it, even for a flagged client’s transaction', () => {
    // The claims parameter names the serial, the grant accepted it, but the scope is missing:
    // provider-claims.ts withholds the serial, so the history must not list it.
    const code = {
      accountId: 'acct',
      clientId: 'rp',
      scope: 'openid',
      claims: { id_token: { [RAW_SERIAL_CLAIM]: null } },
    };
    const released = releaseOfCode(code, claimsByScope, new Date(T0), {
      grantedClaims: ['sub', RAW_SERIAL_CLAIM],
      rawSerial: true,
    });
    expect(released?.claims).toEqual(['acr', 'sub']);
  });
});

describe('recordCodeRelease', () => {
  /** ctx.oidc of a request on `route` that issued `code` under a grant of `granted` claims. */
  const oidcOf = (route: string, code: IssuedCode | undefined, granted: string[] = []) => ({
    route,
    entities: { AuthorizationCode: code, Grant: { getOIDCClaims: () => granted } },
  });

  it('records a code issued by the authorization or resume route, never the token route or the OP’s own client', async () => {
    const table = await newTable();
    const releaseHistory = new ReleaseHistory(table);
    const storage = { accountData: { ...table, releaseHistory } } as unknown as OpStorage;
    const code = {
      accountId: 'acct',
      clientId: 'rp-a',
      scope: 'openid',
      claims: { userinfo: { nickname: null, locale: null } },
    };
    const claims = { openid: ['sub'] };
    await recordCodeRelease(storage, oidcOf('token', code), claims);
    await recordCodeRelease(storage, oidcOf('resume', { ...code, clientId: ACCOUNT_CLIENT_ID }), claims);
    await recordCodeRelease(storage, oidcOf('resume', undefined), claims);
    expect(await releaseHistory.list('acct')).toEqual([]);
    await recordCodeRelease(storage, oidcOf('resume', code, ['nickname']), claims, {
      identity: { sealed: 'x', claimNames: ['birthdate', 7] },
    });
    await recordCodeRelease(storage, oidcOf('authorization', code), claims);
    // (Both in the same millisecond, maybe: in either order.)
    const listed = await releaseHistory.list('acct');
    expect(listed).toHaveLength(2);
    expect(listed.map(({ identityClaims, claims }) => ({ identityClaims, claims }))).toEqual(
      expect.arrayContaining([
        { identityClaims: ['birthdate'], claims: ['nickname', 'sub'] },
        { identityClaims: undefined, claims: ['sub'] },
      ]),
    );
  });
});

describe('the release history on the login path', () => {
  let metered: MeteredLogin;
  let table: TestTable;

  beforeAll(async () => {
    const { pki, identity } = await aliceCard();
    const trustAnchors = userAuthAnchors(pki);
    const revocation = new MemoryCrlSource(trustAnchors);
    for (const crl of pki.crls.filter(
      (c) => c.name.startsWith('user-auth') && c.name.endsWith('.empty.crl'),
    )) {
      await revocation.load(crl.der);
    }
    table = await newTable();
    metered = await startMeteredLogin({ ...table, trustAnchors, revocation, identity });
  });
  afterAll(async () => {
    await metered?.close();
  });

  it('costs no DynamoDB call of its own: its one PutItem joins the code issuance’s BatchWriteItem', async () => {
    const before = (await scanAll(table)).filter((item) => String(item.pk).startsWith('ReleaseHistory#'));
    expect(before).toHaveLength(1);
    const { dynamo } = await metered.login();
    const touching = metered.meter.calls.filter((call) => call.kind?.split('+').includes('ReleaseHistory'));
    expect(touching.map((call) => call.command)).toEqual(['BatchWriteItem']);
    expect(touching[0]?.kind?.split('+').length).toBeGreaterThan(1);
    // test/storage/ddb-login-calls.test.ts's budget of calls and round trips holds; the entry is
    // one more write unit in the batch (17 before the history).
    expect(dynamo.calls).toBeLessThanOrEqual(14);
    expect(dynamo.sequential).toBeLessThanOrEqual(13);
    expect(dynamo.writeUnits).toBeLessThanOrEqual(18);
    const after = (await scanAll(table)).filter((item) => String(item.pk).startsWith('ReleaseHistory#'));
    expect(after).toHaveLength(2);
    expect(after.map((item) => item.scopes)).toEqual([['openid'], ['openid']]);
  });
});

import type {
  BatchWriteItemCommandInput,
  BatchWriteItemCommandOutput,
  DeleteItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, test } from '@jest/globals';
import type { AdapterPayload } from 'oidc-provider';
import { createDynamoClient } from '../../functions/storage/dynamo-client.js';
import { StorageError } from '../../functions/storage/errors.js';
import { createDynamoAdapter, type DynamoAdapterConstructor } from '../../functions/storage/oidc-adapter.js';
import { scanAll, type TestTable, useLocalTables } from './local-table.js';

const newTable = useLocalTables();
const T0 = 1_700_000_000_000;

/** An adapter class over a fresh table with a settable clock. */
async function setup(): Promise<{
  Adapter: DynamoAdapterConstructor;
  clock: { now: number };
  table: TestTable;
}> {
  const table = await newTable();
  const clock = { now: T0 };
  return { Adapter: createDynamoAdapter({ ...table, now: () => clock.now }), clock, table };
}

const common = { iat: 1_700_000_000, exp: 1_700_003_600, jti: 'jti-1', clientId: 'rp-1' };
/** Payloads shaped like oidc-provider's, with nested maps, lists, numbers, booleans, null and empties. */
const payloads: Record<string, AdapterPayload> = {
  Session: {
    ...common,
    kind: 'Session',
    uid: 'uid-1',
    accountId: 'account-1',
    loginTs: 1_700_000_000,
    transient: false,
    authorizations: { 'rp-1': { sid: 'sid-1', grantId: 'grant-1', persistsLogout: true } },
    state: { secret: 'x', clientId: 'rp-1', postLogoutRedirectUri: 'https://rp.example/out' },
  },
  AccessToken: {
    ...common,
    kind: 'AccessToken',
    accountId: 'account-1',
    grantId: 'grant-1',
    gty: 'authorization_code refresh_token',
    scope: 'openid profile',
    sessionUid: 'uid-1',
    aud: ['https://api.example', 'https://other.example'],
    extra: { ratio: 1.5, negative: -3, zero: 0, empty: '', none: null, list: [], map: {} },
  },
  AuthorizationCode: {
    ...common,
    kind: 'AuthorizationCode',
    grantId: 'grant-1',
    accountId: 'account-1',
    acr: 'urn:myna-oidc:jpki:user-auth',
    amr: ['sc', 'pin', 'hwk'],
    authTime: 1_699_999_990,
    claims: { id_token: { acr: { essential: true, values: ['a', 'b'] } }, userinfo: {} },
    codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    codeChallengeMethod: 'S256',
    nonce: 'n-0S6_WzA2Mj',
    redirectUri: 'https://rp.example/cb',
    resource: undefined,
    scope: 'openid',
    sessionUid: 'uid-1',
  },
  RefreshToken: {
    ...common,
    kind: 'RefreshToken',
    grantId: 'grant-1',
    rotations: 2,
    iiat: 1_699_990_000,
    rar: [{ type: 'payment', amount: 12.34, tags: ['x'] }],
  } as AdapterPayload,
  DeviceCode: {
    ...common,
    kind: 'DeviceCode',
    userCode: 'BCDF-GHJK',
    deviceInfo: { ip: '127.0.0.1', ua: 'test' },
    params: { client_id: 'rp-1', scope: 'openid' },
    inFlight: false,
  },
  ClientCredentials: { ...common, kind: 'ClientCredentials', scope: 'api', aud: 'https://api.example' },
  Client: {
    client_id: 'rp-1',
    client_secret: 's3cret',
    redirect_uris: ['https://rp.example/cb'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    subject_type: 'pairwise',
    require_auth_time: true,
    default_max_age: 3600,
    jwks: { keys: [{ kty: 'RSA', n: 'abc', e: 'AQAB', use: 'sig' }] },
  },
  InitialAccessToken: { ...common, kind: 'InitialAccessToken', policies: ['default'] },
  RegistrationAccessToken: { ...common, kind: 'RegistrationAccessToken', policies: [] },
  Interaction: {
    ...common,
    kind: 'Interaction',
    grantId: 'grant-1',
    returnTo: 'http://localhost:3000/auth/abc',
    params: { client_id: 'rp-1', redirect_uri: 'https://rp.example/cb', ui_locales: 'ja en' },
    prompt: { name: 'login', reasons: ['no_session'], details: {} },
    session: { uid: 'uid-1', cookie: 'cookie-1', acr: 'x', amr: ['sc'], accountId: 'account-1' },
    result: { login: { accountId: 'account-1', remember: false } },
  },
  ReplayDetection: { ...common, kind: 'ReplayDetection', iss: 'rp-1' },
  PushedAuthorizationRequest: {
    ...common,
    kind: 'PushedAuthorizationRequest',
    request: 'eyJhbGciOi.x.y',
    trusted: ['rp-1'],
  },
  Grant: {
    ...common,
    kind: 'Grant',
    accountId: 'account-1',
    openid: { scope: 'openid profile', claims: ['sub', 'acr'] },
    resources: { 'https://api.example': 'api:read' },
    rejected: {},
  } as AdapterPayload,
  BackchannelAuthenticationRequest: {
    ...common,
    kind: 'BackchannelAuthenticationRequest',
    grantId: 'grant-1',
    error: 'access_denied',
    errorDescription: 'denied',
    params: { binding_message: 'W4SCT' },
  },
};

describe('DynamoDB adapter for oidc-provider', () => {
  test.each(Object.keys(payloads))('%s payloads round-trip exactly (as JSON)', async (model) => {
    const { Adapter } = await setup();
    const adapter = new Adapter(model);
    const payload = payloads[model] as AdapterPayload;
    await adapter.upsert('id-1', payload, 3600);
    expect(await adapter.find('id-1')).toStrictEqual(JSON.parse(JSON.stringify(payload)));
    expect(await adapter.find('id-2')).toBeUndefined();
    expect(await new Adapter(`${model}Other`).find('id-1')).toBeUndefined();
  });

  test('items without expiresIn never expire; items with it are gone on read once expired', async () => {
    const { Adapter, clock } = await setup();
    const tokens = new Adapter('AccessToken');
    await tokens.upsert('short', { ...payloads.AccessToken }, 1);
    await tokens.upsert('forever', { ...payloads.AccessToken });
    clock.now = T0 + 999;
    expect(await tokens.find('short')).toBeDefined();
    clock.now = T0 + 1000;
    expect(await tokens.find('short')).toBeUndefined();
    clock.now = T0 + 10 * 365 * 24 * 3600 * 1000;
    expect(await tokens.find('forever')).toBeDefined();
  });

  test('findByUid and findByUserCode resolve through pointer items, and respect expiry', async () => {
    const { Adapter, clock } = await setup();
    const sessions = new Adapter('Session');
    const devices = new Adapter('DeviceCode');
    await sessions.upsert('session-1', { ...payloads.Session, uid: 'uid-a' }, 60);
    await devices.upsert('device-1', { ...payloads.DeviceCode, userCode: 'AAAA-BBBB' }, 60);
    expect(await sessions.findByUid('uid-a')).toMatchObject({ uid: 'uid-a', accountId: 'account-1' });
    expect(await devices.findByUserCode('AAAA-BBBB')).toMatchObject({ userCode: 'AAAA-BBBB' });
    expect(await sessions.findByUid('uid-b')).toBeUndefined();
    expect(await devices.findByUserCode('CCCC-DDDD')).toBeUndefined();
    expect(await new Adapter('Interaction').findByUid('uid-a')).toBeUndefined();
    clock.now = T0 + 60_000;
    expect(await sessions.findByUid('uid-a')).toBeUndefined();
    expect(await devices.findByUserCode('AAAA-BBBB')).toBeUndefined();
  });

  test('destroying a session removes its uid pointer, unless the pointer names a newer id of it', async () => {
    // oidc-provider gives a session its uid once; resetIdentifier saves it under a new id, then
    // destroys the old one.
    const { Adapter } = await setup();
    const sessions = new Adapter('Session');
    await sessions.upsert('session-1', { ...payloads.Session, uid: 'uid-a', jti: 'session-1' }, 60);
    await sessions.upsert('session-2', { ...payloads.Session, uid: 'uid-a', jti: 'session-2' }, 60);
    await sessions.destroy('session-1');
    expect(await sessions.findByUid('uid-a')).toMatchObject({ uid: 'uid-a', jti: 'session-2' });
    await sessions.destroy('session-2');
    expect(await sessions.findByUid('uid-a')).toBeUndefined();
    expect(await sessions.find('session-2')).toBeUndefined();
  });

  test.each([
    ['its uid pointer', 'uid'],
    ['the session item', 'item'],
  ])(
    'a session destroy that fails at deleting %s leaves no pointer to a destroyed session',
    async (_, failing) => {
      const { table } = await setup();
      const client = createDynamoClient({ endpoint: table.endpoint });
      // DynamoDB refusing one of the two deletes (throttling, an outage between the two calls).
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const key = (args.input as DeleteItemCommandInput).Key;
          if (context.commandName === 'DeleteItemCommand' && key?.sk?.S === failing) {
            throw new Error('injected DeleteItem failure');
          }
          return next(args);
        },
        { step: 'initialize', name: 'failingDelete' },
      );
      try {
        const sessions = new (createDynamoAdapter({ client, tableName: table.tableName }))('Session');
        await sessions.upsert('session-1', { ...payloads.Session, uid: 'uid-a' }, 60);
        await expect(sessions.destroy('session-1')).rejects.toThrow('injected DeleteItem failure');
        // findByUid (what session-bound tokens check) never finds a session already deleted: the
        // pointer goes first, so a failed pointer delete leaves both, a failed item delete neither.
        const byUid = await sessions.findByUid('uid-a');
        if (failing === 'uid') {
          expect(byUid).toMatchObject({ uid: 'uid-a' });
          expect(await sessions.find('session-1')).toMatchObject({ uid: 'uid-a' });
        } else {
          expect(byUid).toBeUndefined();
        }
      } finally {
        client.destroy();
      }
    },
  );

  test('of 20 concurrent consumes of one code exactly one wins; the others throw StorageError ALREADY_CONSUMED', async () => {
    const { Adapter, clock } = await setup();
    const codes = new Adapter('AuthorizationCode');
    await codes.upsert('code-1', { ...payloads.AuthorizationCode }, 60);
    clock.now = T0 + 5_000;
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => codes.consume('code-1')));
    const rejected = results.filter((result) => result.status === 'rejected');
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect(rejected).toHaveLength(19);
    for (const result of rejected) {
      const error = (result as PromiseRejectedResult).reason;
      expect(error).toBeInstanceOf(StorageError);
      expect(error).toMatchObject({ code: 'ALREADY_CONSUMED' });
    }
    expect(await codes.find('code-1')).toMatchObject({
      consumed: (T0 + 5_000) / 1000,
      nonce: 'n-0S6_WzA2Mj',
    });
  });

  test('consuming a missing or expired item throws ALREADY_CONSUMED', async () => {
    const { Adapter, clock } = await setup();
    const codes = new Adapter('AuthorizationCode');
    await expect(codes.consume('missing')).rejects.toMatchObject({ code: 'ALREADY_CONSUMED' });
    await codes.upsert('code-1', { ...payloads.AuthorizationCode }, 10);
    clock.now = T0 + 10_000;
    await expect(codes.consume('code-1')).rejects.toMatchObject({ code: 'ALREADY_CONSUMED' });
  });

  test('re-saving a consumed item keeps it consumed', async () => {
    const { Adapter } = await setup();
    const tokens = new Adapter('RefreshToken');
    await tokens.upsert('rt-1', { ...payloads.RefreshToken }, 60);
    await tokens.consume('rt-1');
    await tokens.upsert('rt-1', (await tokens.find('rt-1')) as AdapterPayload, 60);
    await expect(tokens.consume('rt-1')).rejects.toMatchObject({ code: 'ALREADY_CONSUMED' });
  });

  test('revokeByGrantId deletes every item of that model and grant (several batches), nothing else', async () => {
    const { Adapter, table } = await setup();
    const accessTokens = new Adapter('AccessToken');
    const refreshTokens = new Adapter('RefreshToken');
    const ids = Array.from({ length: 60 }, (_, index) => `at-${index}`);
    await Promise.all(
      ids.map((id) => accessTokens.upsert(id, { ...payloads.AccessToken, grantId: 'grant-x' }, 60)),
    );
    await accessTokens.upsert('at-other', { ...payloads.AccessToken, grantId: 'grant-y' }, 60);
    await refreshTokens.upsert('rt-1', { ...payloads.RefreshToken, grantId: 'grant-x' }, 60);
    await new Adapter('Interaction').upsert('int-1', { ...payloads.Interaction, grantId: 'grant-x' }, 60);
    const before = (await scanAll(table)).length;

    await accessTokens.revokeByGrantId('grant-x');

    expect((await scanAll(table)).length).toBe(before - 60);
    expect(await accessTokens.find('at-0')).toBeUndefined();
    expect(await accessTokens.find('at-59')).toBeUndefined();
    expect(await accessTokens.find('at-other')).toBeDefined();
    expect(await refreshTokens.find('rt-1')).toBeDefined();
    expect(await new Adapter('Interaction').find('int-1')).toBeDefined();
    await refreshTokens.revokeByGrantId('grant-x');
    expect(await refreshTokens.find('rt-1')).toBeUndefined();
    await accessTokens.revokeByGrantId('grant-unknown');
  });

  test('revokeByGrantId re-sends UnprocessedItems until all are deleted', async () => {
    const { table } = await setup();
    const client = createDynamoClient({ endpoint: table.endpoint });
    let batchCalls = 0;
    // Process only half of the first batch and report the rest unprocessed, as throttled DynamoDB does.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'BatchWriteItemCommand') return next(args);
        batchCalls++;
        if (batchCalls > 1) return next(args);
        const input = args.input as BatchWriteItemCommandInput;
        const requests = input.RequestItems?.[table.tableName] ?? [];
        const half = Math.ceil(requests.length / 2);
        const result = await next({
          ...args,
          input: { ...input, RequestItems: { [table.tableName]: requests.slice(0, half) } },
        });
        (result.output as BatchWriteItemCommandOutput).UnprocessedItems = {
          [table.tableName]: requests.slice(half),
        };
        return result;
      },
      { step: 'initialize', name: 'halfProcessed' },
    );
    try {
      const tokens = new (createDynamoAdapter({ client, tableName: table.tableName }))('AccessToken');
      const ids = Array.from({ length: 10 }, (_, index) => `at-${index}`);
      await Promise.all(
        ids.map((id) => tokens.upsert(id, { ...payloads.AccessToken, grantId: 'grant-z' }, 60)),
      );
      await tokens.revokeByGrantId('grant-z');
      expect(batchCalls).toBe(2);
      for (const id of ids) expect(await tokens.find(id)).toBeUndefined();
    } finally {
      client.destroy();
    }
  });
});

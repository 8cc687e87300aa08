/**
 * RequestScope (one request's DynamoDB work: read once, write together) and the OP's adapter reads
 * (client cache, prefetch), counted with the bench's meter on a real dynalite.
 */
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, describe, expect, test } from '@jest/globals';
import { type DynamoMeter, meterDynamo } from '../../bench/dynamo-meter.js';
import { accountItemKey } from '../../functions/accounts/dynamo-account-store.js';
import { atTokenEndpoint, CLIENT_CACHE_TTL_MS, storageReads } from '../../functions/op/storage-reads.js';
import { AccountArtifacts } from '../../functions/storage/account-artifacts.js';
import { DynamoChallengeStore } from '../../functions/storage/challenge-store.js';
import { createDynamoClient } from '../../functions/storage/dynamo-client.js';
import {
  createDynamoAdapter,
  type DynamoAdapter,
  uidPointerKey,
} from '../../functions/storage/oidc-adapter.js';
import { RequestScope } from '../../functions/storage/request-scope.js';
import { itemKey } from '../../functions/storage/table.js';
import { scanAll, type TestTable, useLocalTables } from './local-table.js';

const newTable = useLocalTables();
const clients: { destroy(): void }[] = [];
afterAll(() => {
  for (const client of clients) client.destroy();
});

/** A DynamoDB client for `endpoint`, destroyed after the file's tests. */
function clientFor(endpoint: string) {
  const client = createDynamoClient({ endpoint });
  clients.push(client);
  return client;
}

/** A fresh table with its own metered client and a request scope on it. */
async function setup(): Promise<{ table: TestTable; scope: RequestScope; meter: DynamoMeter }> {
  const shared = await newTable();
  const client = clientFor(shared.endpoint);
  const table = { ...shared, client };
  const scope = new RequestScope(client, table.tableName);
  return { table, scope, meter: meterDynamo(client) };
}

const commands = (meter: DynamoMeter) => meter.calls.map((call) => call.command);

/**
 * A session upserted in a request whose batch gives up with its uid pointer (and account pointer)
 * written but its item not: DynamoDB throttles the session item's partition, writing the rest of
 * each batch and handing the session's put back as unprocessed, every round.
 */
async function sessionWithoutItem(table: TestTable, scope: RequestScope, sessions: DynamoAdapter) {
  const sessionKey = itemKey('Session', 'session-1');
  type Batch = {
    RequestItems: Record<string, { PutRequest?: { Item: Record<string, { S?: string }> } }[]>;
  };
  table.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'BatchWriteItemCommand') return next(args);
      const input = args.input as Batch;
      const requests = input.RequestItems[table.tableName] ?? [];
      const withheld = (request: (typeof requests)[number]) =>
        request.PutRequest?.Item.pk?.S === sessionKey.pk && request.PutRequest.Item.sk?.S === sessionKey.sk;
      const sent = requests.filter((request) => !withheld(request));
      const result = (
        sent.length > 0
          ? await next({ ...args, input: { RequestItems: { [table.tableName]: sent } } })
          : { output: { $metadata: {} } }
      ) as Awaited<ReturnType<typeof next>>;
      const unprocessed = requests.filter(withheld);
      const output = { ...(result.output as object), UnprocessedItems: { [table.tableName]: unprocessed } };
      return { ...result, output } as Awaited<ReturnType<typeof next>>;
    },
    { step: 'initialize', name: 'throttleSessionItem' },
  );
  await expect(
    scope.run(async () => {
      await sessions.upsert('session-1', { jti: 'session-1', uid: 'uid-1', accountId: 'account-1' }, 60);
    }),
  ).rejects.toMatchObject({ code: 'UNPROCESSED_ITEMS' });
  expect(await sessions.find('session-1')).toBeUndefined();
}

describe('RequestScope', () => {
  test('holds unconditional writes and sends them as one BatchWriteItem before run returns', async () => {
    const { table, scope, meter } = await setup();
    const Adapter = createDynamoAdapter(table);
    const interactions = new Adapter('Interaction');
    const grants = new Adapter('Grant');
    await scope.run(async () => {
      await grants.upsert('grant-1', { accountId: 'account-1', clientId: 'rp' }, 60);
      await interactions.upsert('uid-1', { returnTo: '/a' }, 60);
      // Read your own writes without a call.
      expect(await interactions.find('uid-1')).toEqual({ returnTo: '/a' });
      expect(await grants.find('grant-1')).toMatchObject({ clientId: 'rp' });
      expect(meter.calls).toHaveLength(0);
      // Seen from outside (another client), nothing is written yet.
      expect(await scanAll({ ...table, client: clientFor(table.endpoint) })).toHaveLength(0);
    });
    expect(commands(meter)).toEqual(['BatchWriteItem']);
    // grant + its account pointer, interaction
    expect(await scanAll(table)).toHaveLength(3);
    expect(await interactions.find('uid-1')).toEqual({ returnTo: '/a' });
  });

  test('sends a uid pointer with its session, in the BatchWriteItem that ends the request', async () => {
    const { table, scope, meter } = await setup();
    const sessions = new (createDynamoAdapter(table))('Session');
    const outside = { ...table, client: clientFor(table.endpoint) };
    await scope.run(async () => {
      await sessions.upsert('session-1', { uid: 'uid-1', accountId: 'account-1' }, 60);
      expect(await sessions.findByUid('uid-1')).toMatchObject({ accountId: 'account-1' });
      expect(await scanAll(outside)).toHaveLength(0);
    });
    expect(commands(meter)).toEqual(['BatchWriteItem']);
    // The session, its account pointer and its uid pointer.
    expect((await scanAll(outside)).map((item) => item.sk).sort()).toEqual([
      'Session#session-1',
      'item',
      'uid',
    ]);
    expect(await sessions.findByUid('uid-1')).toMatchObject({ accountId: 'account-1' });
  });

  test('a session whose batch fails is handed to no one: the request fails', async () => {
    const { table, scope } = await setup();
    const sessions = new (createDynamoAdapter(table))('Session');
    const throttled = new Error('the table refused the batch');
    table.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'BatchWriteItemCommand') throw throttled;
        return next(args);
      },
      { step: 'initialize', name: 'refuseBatches' },
    );
    await expect(
      scope.run(async () => {
        await sessions.upsert('session-1', { uid: 'uid-1', accountId: 'account-1' }, 60);
        return 'the response';
      }),
    ).rejects.toBe(throttled);
  });

  test('a batch that gives up with the uid pointer written and its session not: a logout still ends it', async () => {
    const { table, scope } = await setup();
    const sessions = new (createDynamoAdapter(table))('Session');
    await sessionWithoutItem(table, scope, sessions);
    // The next request finds the session by its cookie's uid (the pointer's copy) and logs out.
    await scope.run(async () => {
      expect(await sessions.findByUid('uid-1')).toMatchObject({ accountId: 'account-1' });
      await sessions.destroy('session-1');
    });
    expect(await sessions.findByUid('uid-1')).toBeUndefined();
    expect((await scanAll(table)).filter((item) => item.sk === 'uid')).toEqual([]);
  }, 30_000);

  test('a session whose batch gave up (pointer without item) is still found and ended by a revocation', async () => {
    const { table, scope } = await setup();
    await sessionWithoutItem(table, scope, new (createDynamoAdapter(table))('Session'));
    // The notification job, another process: no memory of the pointer.
    const job = { ...table, client: clientFor(table.endpoint) };
    const artifacts = new AccountArtifacts({ ...job, batchWrites: false });
    const found = await artifacts.find('account-1');
    expect(found.sessions.map((session) => session.id)).toEqual(['session-1']);
    await artifacts.revoke(found);
    expect(await new (createDynamoAdapter(job))('Session').findByUid('uid-1')).toBeUndefined();
  }, 30_000);

  test('reads an item once per request; the next request reads it again', async () => {
    const { table, scope, meter } = await setup();
    const interactions = new (createDynamoAdapter(table))('Interaction');
    await interactions.upsert('uid-1', { returnTo: '/a' }, 60);
    meter.reset();
    await scope.run(async () => {
      expect(await interactions.find('uid-1')).toEqual({ returnTo: '/a' });
      expect(await interactions.find('uid-1')).toEqual({ returnTo: '/a' });
    });
    expect(commands(meter)).toEqual(['GetItem']);
    await table.client.send(
      new PutItemCommand({
        TableName: table.tableName,
        Item: marshall({ ...itemKey('Interaction', 'uid-1'), payload: { returnTo: '/b' } }),
      }),
    );
    await scope.run(async () => {
      expect(await interactions.find('uid-1')).toEqual({ returnTo: '/b' });
    });
  });

  test('a conditional write flushes what is held first and is never answered by the scope', async () => {
    const { table, scope, meter } = await setup();
    const codes = new (createDynamoAdapter(table))('AuthorizationCode');
    await scope.run(async () => {
      await codes.upsert('code-1', { grantId: 'grant-1' }, 60);
      // Single use stays one conditional UpdateItem against the table: the held code is sent first.
      await codes.consume('code-1');
      await expect(codes.consume('code-1')).rejects.toMatchObject({ code: 'ALREADY_CONSUMED' });
      // The copy of a changed item is dropped: this read goes to the table and sees `consumed`.
      expect(await codes.find('code-1')).toMatchObject({ consumed: expect.any(Number) });
    });
    expect(commands(meter)).toEqual(['BatchWriteItem', 'UpdateItem', 'UpdateItem', 'GetItem']);
  });

  test('an update that returns the whole new item leaves it as the copy: the next read costs nothing', async () => {
    const { table, scope, meter } = await setup();
    const challenges = new DynamoChallengeStore(table);
    const interactions = new (createDynamoAdapter(table))('Interaction');
    const prompt = { name: 'login', reasons: ['no_session'], details: {} };
    await interactions.upsert('uid-1', { uid: 'uid-1', prompt }, 60);
    meter.reset();
    await scope.run(async () => {
      // Issue and consume are each one conditional UpdateItem on the interaction's item (ALL_NEW),
      // whose answer is the copy oidc-provider's next read gets: no GetItem.
      // (The interaction was stored with challenge 1: issue makes challenge 2 live.)
      expect(await challenges.issue('uid-1', 10)).toBe(2);
      expect(await interactions.find('uid-1')).toMatchObject({ uid: 'uid-1' });
      expect(await challenges.consume('uid-1', 10)).toBe(2);
      expect(await interactions.find('uid-1')).toMatchObject({ uid: 'uid-1' });
      expect(commands(meter)).toEqual(['UpdateItem', 'UpdateItem']);
      // A refused update answers nothing: the store reads the item once to tell why (a limit or
      // no challenge), and that read is the copy the next read gets.
      expect(await challenges.consume('uid-1', 10)).toBeUndefined();
      expect(await interactions.find('uid-1')).toMatchObject({ uid: 'uid-1' });
    });
    expect(commands(meter)).toEqual(['UpdateItem', 'UpdateItem', 'UpdateItem', 'GetItem']);
  });

  test('of concurrent consumes in separate requests exactly one wins', async () => {
    const { table, scope } = await setup();
    const codes = new (createDynamoAdapter(table))('AuthorizationCode');
    await codes.upsert('code-1', { grantId: 'grant-1' }, 60);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () =>
        scope.run(async () => {
          await codes.find('code-1');
          await codes.consume('code-1');
        }),
      ),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
  });

  test('a delete then a read in one request finds nothing; the writes made before a failure are kept', async () => {
    const { table, scope } = await setup();
    const Adapter = createDynamoAdapter(table);
    const interactions = new Adapter('Interaction');
    const grants = new Adapter('Grant');
    await interactions.upsert('uid-1', { returnTo: '/a' }, 60);
    await expect(
      scope.run(async () => {
        await interactions.destroy('uid-1');
        expect(await interactions.find('uid-1')).toBeUndefined();
        await grants.upsert('grant-1', { clientId: 'rp' }, 60);
        throw new Error('request failed');
      }),
    ).rejects.toThrow('request failed');
    expect(await interactions.find('uid-1')).toBeUndefined();
    expect(await grants.find('grant-1')).toEqual({ clientId: 'rp' });
  });

  test('prefetch reads several items with one BatchGetItem; later GetItems use it', async () => {
    const { table, scope, meter } = await setup();
    const grants = new (createDynamoAdapter(table))('Grant');
    await grants.upsert('grant-1', { clientId: 'rp' }, 60);
    meter.reset();
    await scope.run(async () => {
      scope.prefetch([itemKey('Grant', 'grant-1'), itemKey('Grant', 'missing')]);
      expect(await grants.find('grant-1')).toEqual({ clientId: 'rp' });
      expect(await grants.find('missing')).toBeUndefined();
    });
    expect(commands(meter)).toEqual(['BatchGetItem']);
  });

  test('a prefetched key DynamoDB left unprocessed is read on its own', async () => {
    const { table, scope, meter } = await setup();
    const grants = new (createDynamoAdapter(table))('Grant');
    await grants.upsert('grant-1', { clientId: 'rp' }, 60);
    // DynamoDB answers a throttled BatchGetItem with UnprocessedKeys instead of an error.
    table.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'BatchGetItemCommand') return next(args);
        const { RequestItems } = args.input as { RequestItems: Record<string, unknown> };
        return { output: { $metadata: {}, Responses: {}, UnprocessedKeys: RequestItems } } as never;
      },
      { step: 'build', name: 'throttledBatchGet' },
    );
    meter.reset();
    await scope.run(async () => {
      scope.prefetch([itemKey('Grant', 'grant-1')]);
      expect(await grants.find('grant-1')).toEqual({ clientId: 'rp' });
    });
    expect(commands(meter)).toEqual(['BatchGetItem', 'GetItem']);
  });

  test('outside run the client is untouched (CLI, jobs)', async () => {
    const { table, meter } = await setup();
    const interactions = new (createDynamoAdapter(table))('Interaction');
    await interactions.upsert('uid-1', { returnTo: '/a' }, 60);
    await interactions.find('uid-1');
    await interactions.find('uid-1');
    expect(commands(meter)).toEqual(['PutItem', 'GetItem', 'GetItem']);
  });
});

describe('storageReads', () => {
  /** The consume tests below run as oidc-provider's token endpoint does (storage-reads.ts atTokenEndpoint). */
  const defersConsume = () => true;

  test('caches client metadata for CLIENT_CACHE_TTL_MS; a change through the adapter drops it at once', async () => {
    const { table, scope, meter } = await setup();
    const clock = { now: 1_000_000 };
    const Adapter = storageReads(createDynamoAdapter(table), { scope, now: () => clock.now });
    const clients = new Adapter('Client');
    await clients.upsert('rp', { client_id: 'rp', client_name: 'A' });
    meter.reset();
    expect(await clients.find('rp')).toMatchObject({ client_name: 'A' });
    expect(await clients.find('rp')).toMatchObject({ client_name: 'A' });
    expect(commands(meter)).toEqual(['GetItem']);
    // A change made elsewhere (the operator CLI) is seen once the entry is older than the TTL.
    await new (createDynamoAdapter(table))('Client').upsert('rp', { client_id: 'rp', client_name: 'B' });
    expect(await clients.find('rp')).toMatchObject({ client_name: 'A' });
    clock.now += CLIENT_CACHE_TTL_MS;
    expect(await clients.find('rp')).toMatchObject({ client_name: 'B' });
    await clients.upsert('rp', { client_id: 'rp', client_name: 'C' });
    expect(await clients.find('rp')).toMatchObject({ client_name: 'C' });
    await clients.destroy('rp');
    expect(await clients.find('rp')).toBeUndefined();
    // Unknown clients are not remembered: registering one works at once.
    await new (createDynamoAdapter(table))('Client').upsert('rp', { client_id: 'rp', client_name: 'D' });
    expect(await clients.find('rp')).toMatchObject({ client_name: 'D' });
  });

  test('a cached client cannot be changed by whoever uses the payload', async () => {
    const { table, scope } = await setup();
    const clients = new (storageReads(createDynamoAdapter(table), { scope }))('Client');
    await clients.upsert('rp', { client_id: 'rp', redirect_uris: ['https://rp.example/cb'] });
    const first = (await clients.find('rp')) as { redirect_uris: string[] };
    first.redirect_uris.push('https://evil.example/cb');
    expect(await clients.find('rp')).toEqual({ client_id: 'rp', redirect_uris: ['https://rp.example/cb'] });
  });

  test("reading a token prefetches its grant, account and session in one call, and sees the session's end", async () => {
    const { table, scope, meter } = await setup();
    const Adapter = storageReads(createDynamoAdapter(table), { scope });
    const sessions = new Adapter('Session');
    const tokens = new Adapter('AccessToken');
    const grants = new Adapter('Grant');
    await grants.upsert('grant-1', { accountId: 'account-1', clientId: 'rp' }, 60);
    await sessions.upsert('session-1', { uid: 'uid-1', accountId: 'account-1' }, 60);
    const token = {
      grantId: 'grant-1',
      accountId: 'account-1',
      sessionUid: 'uid-1',
      expiresWithSession: true,
    };
    await tokens.upsert('token-1', token, 60);
    meter.reset();
    await scope.run(async () => {
      expect(await tokens.find('token-1')).toEqual(token);
      expect(await sessions.findByUid('uid-1')).toMatchObject({ accountId: 'account-1' });
      expect(await grants.find('grant-1')).toMatchObject({ clientId: 'rp' });
      await table.client.send(
        new GetItemCommand({
          TableName: table.tableName,
          Key: marshall(accountItemKey('account-1')),
          ConsistentRead: true,
        }),
      );
    });
    expect(commands(meter)).toEqual(['GetItem', 'BatchGetItem']);
    await sessions.destroy('session-1');
    await scope.run(async () => {
      await tokens.find('token-1');
      expect(await sessions.findByUid('uid-1')).toBeUndefined();
    });
  });

  test('a token saved after a consume is sent alongside it and stored when the consume wins', async () => {
    const { table, scope, meter } = await setup();
    const Adapter = storageReads(createDynamoAdapter(table), { scope, defersConsume });
    const codes = new Adapter('AuthorizationCode');
    const tokens = new Adapter('AccessToken');
    await codes.upsert('code-1', { grantId: 'grant-1' }, 60);
    meter.reset();
    await scope.run(async () => {
      await codes.consume('code-1');
      await tokens.upsert('token-1', { grantId: 'grant-1' }, 60);
    });
    // The token's BatchWriteItem started before the consume's UpdateItem ended: one round trip.
    expect(commands(meter).sort()).toEqual(['BatchWriteItem', 'UpdateItem']);
    expect(meter.summary().sequential).toBe(1);
    expect(await new (createDynamoAdapter(table))('AccessToken').find('token-1')).toEqual({
      grantId: 'grant-1',
    });
    expect(await codes.find('code-1')).toMatchObject({ consumed: expect.any(Number) });
  });

  test('a token saved after a consume that lost is deleted and its save throws ALREADY_CONSUMED', async () => {
    const { table, scope } = await setup();
    const Adapter = storageReads(createDynamoAdapter(table), { scope, defersConsume });
    const codes = new Adapter('AuthorizationCode');
    const tokens = new Adapter('RefreshToken');
    await codes.upsert('code-1', { grantId: 'grant-1' }, 60);
    await codes.consume('code-1');
    await scope.run(async () => {
      await codes.consume('code-1');
      await expect(tokens.upsert('token-1', { grantId: 'grant-1' }, 60)).rejects.toMatchObject({
        code: 'ALREADY_CONSUMED',
      });
    });
    expect(await new (createDynamoAdapter(table))('RefreshToken').find('token-1')).toBeUndefined();
    expect((await scanAll(table)).map((item) => item.pk)).toEqual(['AuthorizationCode#code-1']);
  });

  test('a request whose consume lost and that saved no token after it fails', async () => {
    const { table, scope } = await setup();
    const codes = new (storageReads(createDynamoAdapter(table), { scope, defersConsume }))(
      'AuthorizationCode',
    );
    await codes.upsert('code-1', { grantId: 'grant-1' }, 60);
    await codes.consume('code-1');
    await expect(scope.run(() => codes.consume('code-1'))).rejects.toMatchObject({
      code: 'ALREADY_CONSUMED',
    });
    // Outside a request the consume is awaited as before, and so is any consume of what is no
    // grant source (a pushed authorization request's), inside a request too.
    await expect(codes.consume('code-1')).rejects.toMatchObject({ code: 'ALREADY_CONSUMED' });
    const pushed = new (storageReads(createDynamoAdapter(table), { scope, defersConsume }))(
      'PushedAuthorizationRequest',
    );
    await expect(scope.run(() => pushed.consume('request-1'))).rejects.toMatchObject({
      code: 'ALREADY_CONSUMED',
    });
    await scope.run(async () => {
      await expect(pushed.consume('request-1')).rejects.toMatchObject({ code: 'ALREADY_CONSUMED' });
    });
  });

  test("anywhere but oidc-provider's token endpoint a consume is awaited where it is made: a lost one throws there", async () => {
    const { table, scope } = await setup();
    const Adapter = storageReads(createDynamoAdapter(table), { scope });
    const codes = new Adapter('AuthorizationCode');
    const sessions = new Adapter('MynaAccountSession');
    await codes.upsert('code-1', { grantId: 'grant-1' }, 60);
    await codes.consume('code-1');
    expect(atTokenEndpoint()).toBe(false);
    // As the account page's code exchange does: the consume, then (only if it won) a session.
    await scope.run(async () => {
      await expect(codes.consume('code-1')).rejects.toMatchObject({ code: 'ALREADY_CONSUMED' });
    });
    await scope.run(async () => {
      await codes.upsert('code-2', { grantId: 'grant-2' }, 60);
      await codes.consume('code-2');
      await sessions.upsert('session-1', { accountId: 'account-1' }, 60);
    });
    expect(await codes.find('code-2')).toMatchObject({ consumed: expect.any(Number) });
    expect(await sessions.find('session-1')).toEqual({ accountId: 'account-1' });
  });

  test('a uid pointer written before pointers carried the payload still resolves through its target', async () => {
    const { table } = await setup();
    const sessions = new (createDynamoAdapter(table))('Session');
    await sessions.upsert('session-1', { uid: 'uid-1', accountId: 'account-1' }, 60);
    await table.client.send(
      new PutItemCommand({
        TableName: table.tableName,
        Item: marshall({ ...uidPointerKey('Session', 'uid-1'), target: 'session-1' }),
      }),
    );
    expect(await sessions.findByUid('uid-1')).toMatchObject({ accountId: 'account-1' });
  });
});

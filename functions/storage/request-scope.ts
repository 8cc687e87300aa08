/**
 * One HTTP request's DynamoDB work, made cheaper without changing what it does: a middleware on
 * the OP's DynamoDB client that, inside `RequestScope.run`, (AsyncLocalStorage)
 *
 * - **reads once**: a GetItem of an item this request already read or wrote is answered from the
 *   request's own copy (oidc-provider reads an interaction again right before saving it, and
 *   finds what it just saved);
 * - **writes once, together**: unconditional PutItem / DeleteItem (upserts, destroys, challenge
 *   issues — last writer wins anyway) are held and sent as ONE BatchWriteItem when the request's
 *   work ends (before its response leaves), or earlier, right before any other command, so every
 *   command still sees the effects of the ones before it, in order;
 * - **reads together**: `prefetch(keys)` fetches items the request is about to read with ONE
 *   BatchGetItem (strongly consistent), e.g. the grant and session of a token just read.
 *
 * - **waits for a consume in flight only where it must**: `track(consume)` registers a
 *   conditional write sent but not awaited by its caller (at oidc-provider's token endpoint only,
 *   the OP's adapter starts a code's or refresh token's consume and lets oidc-provider build the
 *   tokens meanwhile, op/storage-reads.ts; everywhere else a consume is awaited where it is made);
 *   `tracked()` hands them to the one who reports their outcome, and `run` waits for any left
 *   before it returns, so a request never ends well after a failed consume.
 *
 * Never held or answered from the copy: conditional writes (single use — codes, challenges,
 * refresh tokens — is one conditional UpdateItem, consume.ts), writes that return values,
 * UpdateItem, reads with a projection, Query, Scan. Such a command first flushes what is held, and drops the request's copy
 * of the item it changes — or, for an UpdateItem that returns the whole new item (`ALL_NEW`),
 * keeps that as the copy. Nothing outlives the request: the next request reads DynamoDB again, so
 * expiry, revocation and consumption are exactly as strict as without the scope. Outside `run`
 * the client behaves as usual (CLI, jobs, tests).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type AttributeValue,
  BatchGetItemCommand,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { batchWrite } from './batch-delete.js';
import { BATCH_GET_LIMIT } from './batch-get.js';
import { PARTITION_KEY, SORT_KEY, type TableKey } from './table.js';

type Item = Record<string, AttributeValue>;

/** Scopes made so far: each adds its own middleware (several OPs may share one client in tests). */
let scopes = 0;

interface ScopeState {
  /** The request's copy of items: read or written (undefined: known absent), by key. */
  readonly items: Map<string, Promise<Item | undefined>>;
  /** Conditional writes in flight that the request's outcome depends on (`track`). */
  readonly tracked: Promise<void>[];
  /** Held writes by key, in order of first write (a later write to the same key replaces it). */
  readonly held: Map<string, WriteRequest>;
}

interface CommandInput {
  TableName?: string;
  Key?: Item;
  Item?: Item;
  ConditionExpression?: string;
  ProjectionExpression?: string;
  ReturnValues?: string;
  AttributesToGet?: string[];
  Expected?: unknown;
}

function keyString(key: Item | TableKey): string {
  const part = (value: unknown) =>
    typeof value === 'string' ? value : ((value as AttributeValue | undefined)?.S ?? '');
  const record = key as Record<string, unknown>;
  return `${part(record[PARTITION_KEY])}\u0000${part(record[SORT_KEY])}`;
}

/** Keeps `item` as the request's copy of `key`; a failed read is forgotten, so the next one retries. */
function remember(state: ScopeState, key: string, item: Promise<Item | undefined>): void {
  state.items.set(key, item);
  item.catch(() => {
    if (state.items.get(key) === item) state.items.delete(key);
  });
}

/** The request scope of one DynamoDB client and table; see the module comment. */
export class RequestScope {
  readonly #storage = new AsyncLocalStorage<ScopeState>();
  readonly #client: DynamoDBClient;
  readonly #tableName: string;

  constructor(client: DynamoDBClient, tableName: string) {
    this.#client = client;
    this.#tableName = tableName;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const state = this.#storage.getStore();
        if (!state) return next(args);
        /** A result made here, in the shape the next handler gives. */
        const answer = (output: object) =>
          ({ output: { $metadata: {}, ...output } }) as Awaited<ReturnType<typeof next>>;
        const input = args.input as CommandInput;
        const command = String(context.commandName);
        const holdable =
          input.TableName === this.#tableName &&
          input.ConditionExpression === undefined &&
          input.Expected === undefined &&
          (input.ReturnValues === undefined || input.ReturnValues === 'NONE');
        if (command === 'PutItemCommand' && holdable && input.Item) {
          this.#hold(state, keyString(input.Item), { PutRequest: { Item: input.Item } }, input.Item);
          return answer({});
        }
        if (command === 'DeleteItemCommand' && holdable && input.Key) {
          this.#hold(state, keyString(input.Key), { DeleteRequest: { Key: input.Key } }, undefined);
          return answer({});
        }
        if (
          command === 'GetItemCommand' &&
          input.TableName === this.#tableName &&
          input.Key &&
          input.ProjectionExpression === undefined &&
          input.AttributesToGet === undefined
        ) {
          const key = keyString(input.Key);
          const read = () => {
            const item = (next(args) as Promise<{ output: { Item?: Item } }>).then(
              ({ output }) => output.Item,
            );
            remember(state, key, item);
            return item;
          };
          const copy = state.items.get(key);
          // A prefetch DynamoDB did not get to (throttling) falls back to reading the item itself.
          const found = copy ? await copy.catch(read) : await read();
          return answer(found ? { Item: found } : {});
        }
        await this.#flush(state);
        if (input.Key) state.items.delete(keyString(input.Key));
        if (input.Item) state.items.delete(keyString(input.Item));
        const result = await next(args);
        // An update that returned the whole new item leaves it as the request's copy.
        const updated = (result.output as { Attributes?: Item }).Attributes;
        if (
          command === 'UpdateItemCommand' &&
          input.TableName === this.#tableName &&
          input.ReturnValues === 'ALL_NEW' &&
          input.Key &&
          updated
        ) {
          state.items.set(keyString(input.Key), Promise.resolve(updated));
        }
        return result;
      },
      { step: 'initialize', priority: 'high', name: `requestScope${++scopes}` },
    );
  }

  /**
   * Runs one request's work in a fresh scope and sends what it held before returning, also when
   * `work` throws (the writes made before a failure are kept, as without the scope).
   */
  async run<T>(work: () => Promise<T>): Promise<T> {
    const state: ScopeState = { items: new Map(), held: new Map(), tracked: [] };
    return this.#storage.run(state, async () => {
      try {
        const result = await work();
        // A tracked write nobody waited for decides too: its failure fails the request.
        await Promise.all(state.tracked.splice(0));
        return result;
      } finally {
        await this.#flush(state);
      }
    });
  }

  /** True inside `run`. */
  get active(): boolean {
    return this.#storage.getStore() !== undefined;
  }

  /**
   * Registers `write`, a conditional write in flight whose caller goes on without waiting for it
   * (see the module comment); its failure is reported by `tracked()` and by `run`, never as an
   * unhandled rejection. Outside a scope nothing reports it: the caller awaits `write` itself.
   */
  track(write: Promise<void>): void {
    write.catch(() => undefined);
    this.#storage.getStore()?.tracked.push(write);
  }

  /**
   * Hands the writes `track` registered in this request so far to the caller, which reports their
   * outcome (`run` no longer waits for them): undefined when there are none, else a promise that
   * settles when they all have, rejecting with the first failure.
   */
  tracked(): Promise<void> | undefined {
    const writes = this.#storage.getStore()?.tracked.splice(0) ?? [];
    return writes.length === 0 ? undefined : Promise.all(writes).then(() => undefined);
  }

  /** Sends the writes held so far now, instead of before the next command or the response. */
  async flush(): Promise<void> {
    const state = this.#storage.getStore();
    if (state) await this.#flush(state);
  }

  /**
   * Reads the items of `keys` the request has no copy of yet with one strongly consistent
   * BatchGetItem, so the GetItems that follow are answered from the copy. Outside a scope: nothing.
   */
  prefetch(keys: readonly TableKey[]): void {
    const state = this.#storage.getStore();
    if (!state) return;
    const wanted = [...new Map(keys.map((key) => [keyString(key), key])).entries()]
      .filter(([key]) => !state.items.has(key))
      .slice(0, BATCH_GET_LIMIT);
    if (wanted.length === 0) return;
    const batch = this.#storage
      .exit(() =>
        this.#client.send(
          new BatchGetItemCommand({
            RequestItems: {
              [this.#tableName]: { Keys: wanted.map(([, key]) => marshall(key)), ConsistentRead: true },
            },
          }),
        ),
      )
      .then((output) => {
        const found = new Map<string, Item>();
        for (const item of output.Responses?.[this.#tableName] ?? []) found.set(keyString(item), item);
        return {
          found,
          unprocessed: new Set((output.UnprocessedKeys?.[this.#tableName]?.Keys ?? []).map(keyString)),
        };
      });
    for (const [key] of wanted) {
      const item = batch.then(({ found, unprocessed }) => {
        // A key DynamoDB did not get to (throttling) is read on its own when asked for.
        if (unprocessed.has(key)) throw new Error('unprocessed');
        return found.get(key);
      });
      remember(state, key, item);
    }
  }

  #hold(state: ScopeState, key: string, request: WriteRequest, item: Item | undefined): void {
    state.held.delete(key);
    state.held.set(key, request);
    state.items.set(key, Promise.resolve(item));
  }

  /** Sends the held writes (one BatchWriteItem per 25), outside the scope so they are not held again. */
  async #flush(state: ScopeState): Promise<void> {
    if (state.held.size === 0) return;
    const requests = [...state.held.values()];
    state.held.clear();
    await this.#storage.exit(() => batchWrite(this.#client, this.#tableName, requests, 1));
  }
}

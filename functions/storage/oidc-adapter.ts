/**
 * oidc-provider's storage adapter on the single table (see table.ts), for every model.
 *
 * - `<Model>#<id>` / `item` holds `payload` (a map, exactly what oidc-provider gave), `expiresAt`,
 *   `model`, `grantId` (the sparse GSI, scoped by model) and `consumed`; a re-save replaces the
 *   whole item (and so drops what challenge-store.ts keeps beside an interaction's payload). A new
 *   interaction at its login prompt is stored with its first challenge (challenge-store.ts
 *   firstChallengeAttributes), so its login page needs no write.
 * - Sessions and device codes get a pointer item (`<Model>#<uid|userCode>` / `uid|userCode` →
 *   `target` id, with a copy of the payload), so findByUid and findByUserCode are one strongly
 *   consistent GetItem, never an eventually consistent index read. The pointer is written with its
 *   item (in a request, the one BatchWriteItem that ends it, request-scope.ts: a batch that leaves
 *   either unwritten fails the request, so no client is handed the uid of a session whose item is
 *   missing) and `destroy` deletes it before its item (unless it already names a newer item), so a
 *   pointer never outlives a destroyed item, even when the second write fails. A batch that gives
 *   up with the pointer written and its item not leaves a pointer whose copy still answers
 *   findByUid; destroying that id (a logout, which found the session by its uid in the same
 *   process) still deletes the pointer: destroy takes the uid from the pointer it resolved when
 *   the item is gone, at no cost to a normal request.
 * - Clients live in the listable `Client` partition so the operator CLI can list them with a Query.
 * - Grants and sessions with an accountId get an account-index pointer (`AccountRef#<accountId>` /
 *   `<Model>#<id>`), so the revocation notification job finds an account's grants and sessions
 *   with one Query instead of a Scan (listAccountArtifacts). Pointers may outlive their target;
 *   readers resolve them with find(). A session's carries its uid, so the job also finds a session
 *   whose uid pointer was written without its item (findByUid).
 * - Every read checks `expiresAt` (TTL deletes late; dynalite never does).
 * - An id no stored item can have — not a string, empty, or over MAX_STORED_ID_BYTES (a code or
 *   token of 3 KB would exceed DynamoDB's 2048-byte key limit and make it fail) — is never sent
 *   to DynamoDB: find() answers "not found", consume() ALREADY_CONSUMED, destroy() nothing, so the
 *   endpoint answers its 4xx (e.g. `invalid_grant`) as for any unknown id.
 * - `consume` is one conditional UpdateItem (consume.ts): of concurrent redemptions exactly one succeeds; the
 *   others throw StorageError ALREADY_CONSUMED, which the OP turns into oidc-provider's InvalidGrant
 *   (op/storage-errors.ts) so the token endpoint answers `invalid_grant` (400) instead of a 500.
 *   `ReplayDetection` upserts (seen DPoP proof and client assertion ids) are one conditional PutItem,
 *   refused with StorageError ALREADY_SEEN while an unexpired entry exists, which the OP turns into
 *   the replay refusal oidc-provider gives (op/storage-errors.ts).
 *   Storage itself never loads oidc-provider (its types only), so the notification job does not
 *   bundle it.
 */

import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { MAX_STORED_ID_BYTES } from '../defaults.js';
import { batchDelete } from './batch-delete.js';
import { firstChallengeAttributes, INTERACTION_MODEL } from './challenge-store.js';
import { writeIf } from './conditional-write.js';
import { CONSUMED_ATTRIBUTE, consumeItem } from './consume.js';
import { StorageError } from './errors.js';
import { type Clock, epochSeconds, expiresAtAfter, hasExpired } from './expiry.js';
import { partitionQuery, queryPages } from './query-pages.js';
import {
  EXPIRES_AT_ATTRIBUTE,
  GRANT_INDEX,
  itemKey,
  listedItemKey,
  PARTITION_KEY,
  SORT_KEY,
  type TableKey,
} from './table.js';

/** oidc-provider's model name of registered clients. */
export const CLIENT_MODEL = 'Client';
/** oidc-provider's model of seen DPoP proof and client assertion ids (single use). */
export const REPLAY_DETECTION_MODEL = 'ReplayDetection';
/** Models kept in one listable partition (pk = model, sk = id). */
const LISTED_MODELS: ReadonlySet<string> = new Set([CLIENT_MODEL]);
/** Models with a secondary lookup, and the payload field it looks up by. */
const POINTER_FIELDS: Readonly<Record<string, PointerField>> = { Session: 'uid', DeviceCode: 'userCode' };
type PointerField = 'uid' | 'userCode';
/** Models indexed by accountId (account-index pointers). */
export const ACCOUNT_INDEXED_MODELS: ReadonlySet<string> = new Set(['Grant', 'Session']);
/** At most this many resolved pointers are remembered for destroy (createDynamoAdapter). */
const RESOLVED_POINTER_ENTRIES = 1_000;
/** Kind of the account-index pointer items. */
const ACCOUNT_INDEX_KIND = 'AccountRef';

/** One grant or session of an account, as its account-index pointer names it. */
export interface AccountArtifactRef {
  readonly model: string;
  readonly id: string;
  /** A session's uid (its pointer's), so a session whose item is missing is still found by it. */
  readonly uid?: string;
}

/** The key of the account-index pointer of one grant or session of `accountId`. */
export function accountArtifactRefKey(accountId: string, ref: AccountArtifactRef): TableKey {
  return itemKey(ACCOUNT_INDEX_KIND, accountId, `${ref.model}#${ref.id}`);
}

/** The account's grants and sessions by their pointers (possibly already gone: resolve with find). */
export async function listAccountArtifacts(
  client: DynamoDBClient,
  tableName: string,
  accountId: string,
): Promise<AccountArtifactRef[]> {
  const refs: AccountArtifactRef[] = [];
  const query = partitionQuery(tableName, itemKey(ACCOUNT_INDEX_KIND, accountId).pk);
  for await (const items of queryPages(client, query)) {
    for (const item of items) {
      const stored = unmarshall(item);
      const sort = String(stored[SORT_KEY]);
      const at = sort.indexOf('#');
      const ref = { model: sort.slice(0, at), id: sort.slice(at + 1) };
      refs.push(typeof stored.uid === 'string' ? { ...ref, uid: stored.uid } : ref);
    }
  }
  return refs;
}

/** True when `id` can be the id of a stored item (see the module comment). */
export function isStorableId(id: unknown): id is string {
  return typeof id === 'string' && id !== '' && Buffer.byteLength(id, 'utf8') <= MAX_STORED_ID_BYTES;
}

/** The key `find(id)` of `model` reads (e.g. to prefetch it, request-scope.ts). */
export function modelItemKey(model: string, id: string): TableKey {
  return LISTED_MODELS.has(model) ? listedItemKey(model, id) : itemKey(model, id);
}

/** The key of the pointer `findByUid` of `model` reads first (e.g. to prefetch it). */
export function uidPointerKey(model: string, uid: string): TableKey {
  return itemKey(model, uid, 'uid');
}

/** Options of createDynamoAdapter. */
export interface DynamoAdapterOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Current time in epoch milliseconds (default Date.now); used for expiresAt and expiry checks. */
  readonly now?: Clock;
  /**
   * False: revokeByGrantId deletes with one DeleteItem per item, never BatchWriteItem — for a role
   * allowed to delete but not to put in the token partitions (the notification job's), since IAM
   * cannot limit BatchWriteItem to its deletes. Default true.
   */
  readonly batchWrites?: boolean;
}

/** The adapter of one model; `list` works for listed models (Client) only. */
export interface DynamoAdapter extends Adapter {
  readonly model: string;
  /** All unexpired items of a listed model, in id order. Throws StorageError MODEL_NOT_LISTED otherwise. */
  list(): Promise<AdapterPayload[]>;
}

/** What `new Adapter(model)` gives; pass the class as oidc-provider's `adapter` option. */
export type DynamoAdapterConstructor = new (model: string) => DynamoAdapter;

/** An item as stored (after unmarshall). */
interface StoredItem {
  readonly pk: string;
  readonly sk: string;
  readonly payload?: AdapterPayload;
  readonly expiresAt?: number;
  readonly consumed?: unknown;
  /** Pointer items: the id of the item pointed to. */
  readonly target?: string;
}

/** Creates the oidc-provider adapter class over `tableName` (which ensureTable creates). */
export function createDynamoAdapter(options: DynamoAdapterOptions): DynamoAdapterConstructor {
  const { client, tableName, now = Date.now, batchWrites = true } = options;

  const getItem = async (key: TableKey): Promise<StoredItem | undefined> => {
    const { Item } = await client.send(
      new GetItemCommand({ TableName: tableName, Key: marshall(key), ConsistentRead: true }),
    );
    const item = Item && (unmarshall(Item) as StoredItem);
    return item && !hasExpired(item.expiresAt, now()) ? item : undefined;
  };

  /**
   * The pointer values (uid, userCode) of items this process resolved from a pointer's payload
   * copy, by `<model>\0<id>`: what destroy deletes the pointer by when the item itself is missing
   * (a batch that wrote the pointer but gave up on its item). A hint only, bounded, and the delete
   * it leads to is conditional on the pointer naming that id.
   */
  const resolvedPointers = new Map<string, string>();
  const resolvedKey = (model: string, id: string) => `${model}\u0000${id}`;
  const rememberPointer = (model: string, id: string, value: string) => {
    const key = resolvedKey(model, id);
    resolvedPointers.delete(key);
    if (resolvedPointers.size >= RESOLVED_POINTER_ENTRIES) {
      resolvedPointers.delete(resolvedPointers.keys().next().value as string);
    }
    resolvedPointers.set(key, value);
  };

  const payloadOf = (item: StoredItem): AdapterPayload => {
    const payload = item.payload ?? {};
    return item.consumed === undefined ? payload : { ...payload, consumed: item.consumed };
  };

  /** Every item of a Query, over all pages. */
  const queryAll = async (input: QueryCommandInput, onPage: (items: StoredItem[]) => Promise<void>) => {
    for await (const items of queryPages(client, input)) {
      await onPage(items.map((item) => unmarshall(item) as StoredItem));
    }
  };

  return class DynamoDbAdapter implements DynamoAdapter {
    constructor(readonly model: string) {}

    private key(id: string): TableKey {
      return modelItemKey(this.model, id);
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const expiresAt = expiresIn === undefined ? undefined : expiresAtAfter(now(), expiresIn);
      const item = {
        ...this.key(id),
        [GRANT_INDEX.sortKey]: this.model,
        [GRANT_INDEX.partitionKey]: payload.grantId,
        [EXPIRES_AT_ATTRIBUTE]: expiresAt,
        [CONSUMED_ATTRIBUTE]: payload.consumed,
        payload,
        // A new interaction at its login prompt holds its first challenge (challenge-store.ts).
        ...(this.model === INTERACTION_MODEL ? firstChallengeAttributes(payload, now()) : {}),
      };
      const Item = marshall(item, { removeUndefinedValues: true });
      if (this.model === REPLAY_DETECTION_MODEL) {
        // Written only if no unexpired entry exists, sent at once (conditional writes are never
        // held, request-scope.ts): of concurrent uses of one proof or assertion exactly one passes.
        const stored = await writeIf(
          client,
          new PutItemCommand({
            TableName: tableName,
            Item,
            ConditionExpression: 'attribute_not_exists(#pk) OR #expiresAt <= :now',
            ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#expiresAt': EXPIRES_AT_ATTRIBUTE },
            ExpressionAttributeValues: marshall({ ':now': epochSeconds(now()) }),
          }),
        );
        if (!stored) throw new StorageError('ALREADY_SEEN', `${this.model} ${id} already stored`);
        return;
      }
      await client.send(new PutItemCommand({ TableName: tableName, Item }));
      // The account-index pointer is held with its target (one BatchWriteItem): it may land without
      // its target (readers resolve it with find()).
      const accountId = payload.accountId;
      if (ACCOUNT_INDEXED_MODELS.has(this.model) && typeof accountId === 'string') {
        const pointer = {
          ...accountArtifactRefKey(accountId, { model: this.model, id }),
          [EXPIRES_AT_ATTRIBUTE]: expiresAt,
          uid: this.model === 'Session' ? payload.uid : undefined,
        };
        await client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: marshall(pointer, { removeUndefinedValues: true }),
          }),
        );
      }
      // The uid pointer goes with its target (held together: see the module comment). It carries a
      // copy of the payload, so findByUid is one read; destroy removes it first.
      const field = POINTER_FIELDS[this.model];
      const value = field && payload[field];
      if (field && typeof value === 'string') {
        const pointer = {
          ...itemKey(this.model, value, field),
          target: id,
          [EXPIRES_AT_ATTRIBUTE]: expiresAt,
          payload,
        };
        await client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: marshall(pointer, { removeUndefinedValues: true }),
          }),
        );
      }
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (!isStorableId(id)) return undefined;
      const item = await getItem(this.key(id));
      return item && payloadOf(item);
    }

    findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.findByPointer('uid', uid);
    }

    findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.findByPointer('userCode', userCode);
    }

    private async findByPointer(field: PointerField, value: string): Promise<AdapterPayload | undefined> {
      if (!isStorableId(value)) return undefined;
      const pointer = await getItem(itemKey(this.model, value, field));
      if (pointer?.target === undefined) return undefined;
      // Pointers written before they carried the payload are resolved through their target.
      const payload = pointer.payload ? payloadOf(pointer) : await this.find(pointer.target);
      // A pointer left behind by a replaced item must not resolve to another item's payload.
      if (payload?.[field] !== value) return undefined;
      if (pointer.payload) rememberPointer(this.model, pointer.target, value);
      return payload;
    }

    async consume(id: string): Promise<void> {
      if (!isStorableId(id) || !(await consumeItem(client, tableName, this.key(id), now()))) {
        throw new StorageError('ALREADY_CONSUMED', `${this.model} already consumed or expired`);
      }
    }

    async destroy(id: string): Promise<void> {
      if (!isStorableId(id)) return;
      const field = POINTER_FIELDS[this.model];
      const hint = resolvedKey(this.model, id);
      const value = field && ((await getItem(this.key(id)))?.payload?.[field] ?? resolvedPointers.get(hint));
      resolvedPointers.delete(hint);
      if (field && typeof value === 'string') {
        // Its pointer (and payload copy) goes first, unless it already names a newer item: if the
        // item's own delete then fails, nothing finds the item through the pointer any more.
        await writeIf(
          client,
          new DeleteItemCommand({
            TableName: tableName,
            Key: marshall(itemKey(this.model, value, field)),
            ConditionExpression: '#target = :id',
            ExpressionAttributeNames: { '#target': 'target' },
            ExpressionAttributeValues: marshall({ ':id': id }),
          }),
        );
      }
      await client.send(new DeleteItemCommand({ TableName: tableName, Key: marshall(this.key(id)) }));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await queryAll(
        {
          TableName: tableName,
          IndexName: GRANT_INDEX.name,
          KeyConditionExpression: '#grantId = :grantId AND #model = :model',
          ProjectionExpression: '#pk, #sk',
          ExpressionAttributeNames: {
            '#grantId': GRANT_INDEX.partitionKey,
            '#model': GRANT_INDEX.sortKey,
            '#pk': PARTITION_KEY,
            '#sk': SORT_KEY,
          },
          ExpressionAttributeValues: marshall({ ':grantId': grantId, ':model': this.model }),
        },
        async (items) => {
          const keys = items.map(({ pk, sk }) => marshall({ pk, sk }));
          if (batchWrites) return batchDelete(client, tableName, keys);
          for (const Key of keys) await client.send(new DeleteItemCommand({ TableName: tableName, Key }));
        },
      );
    }

    async list(): Promise<AdapterPayload[]> {
      if (!LISTED_MODELS.has(this.model)) {
        throw new StorageError('MODEL_NOT_LISTED', `${this.model} items cannot be listed`);
      }
      const payloads: AdapterPayload[] = [];
      const nowMs = now();
      await queryAll(
        {
          TableName: tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
          ExpressionAttributeValues: marshall({ ':pk': this.model }),
          ConsistentRead: true,
        },
        async (items) => {
          for (const item of items) if (!hasExpired(item.expiresAt, nowMs)) payloads.push(payloadOf(item));
        },
      );
      return payloads;
    }
  };
}

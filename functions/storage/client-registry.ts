/**
 * Registered OIDC clients, for the operator CLI (`myna-oidc clients add|update|rotate-secret|show|
 * list|remove`) and the local stack's seeding. Clients are the adapter's `Client` model, so
 * oidc-provider finds exactly what this registry stores; they live in the table's listable `Client`
 * partition (pk `Client`, sk the client_id) so `list` is a strongly consistent Query, not a Scan.
 *
 * Writes are never destructive by accident: `add` is a conditional create (it refuses an existing
 * client_id instead of replacing it and its secret), and `update` is an optimistic read-modify-write
 * on the item's `version` attribute (one conditional PutItem; dynalite has no transactions), so two
 * operators editing one client at once cannot lose either change. Only `put` replaces, for clients
 * defined in code (the local stack's demo RP, tests). The `version` is 1 on creation, +1 on every
 * write. (The OP's client cache, op/storage-reads.ts, does not read it: it keeps metadata
 * CLIENT_CACHE_TTL_MS and drops it on a change made through the adapter.)
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type PutItemCommandInput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { ClientMetadata } from 'oidc-provider';
import { StorageError } from './errors.js';
import { CLIENT_MODEL, createDynamoAdapter, type DynamoAdapter } from './oidc-adapter.js';
import { GRANT_INDEX, listedItemKey, PARTITION_KEY, type TableKey } from './table.js';

/** The attribute holding a client item's write counter. */
export const CLIENT_VERSION_ATTRIBUTE = 'version';

/** How often `update` re-reads and re-applies its change when another writer got in between. */
const UPDATE_ATTEMPTS = 5;

/** Options of ClientRegistry. */
export interface ClientRegistryOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

/** A stored client and its write counter. */
export interface VersionedClient {
  readonly metadata: ClientMetadata;
  readonly version: number;
}

/** Computes a client's new metadata from its current metadata (may run more than once). */
export type ClientChange = (current: ClientMetadata) => ClientMetadata | Promise<ClientMetadata>;

/** Create, list, read, update and remove client metadata (stored as given, without expiry). */
export class ClientRegistry {
  private readonly clients: DynamoAdapter;
  private readonly dynamo: DynamoDBClient;
  private readonly tableName: string;

  constructor(options: ClientRegistryOptions) {
    const Adapter = createDynamoAdapter(options);
    this.clients = new Adapter(CLIENT_MODEL);
    this.dynamo = options.client;
    this.tableName = options.tableName;
  }

  /**
   * Registers a new client. Throws StorageError CLIENT_EXISTS when its client_id is taken (nothing
   * is written), CLIENT_ID_MISSING without a non-empty string client_id.
   */
  async add(metadata: ClientMetadata): Promise<void> {
    const clientId = clientIdOf(metadata);
    try {
      await this.write(clientId, metadata, 1, IS_NEW);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      throw new StorageError('CLIENT_EXISTS', `a client ${clientId} is already registered`, { cause: error });
    }
  }

  /**
   * Stores `metadata` under its client_id, replacing a client with the same id: for clients defined
   * in code, whose seeding must be idempotent. Operators' registrations use `add` and `update`.
   */
  async put(metadata: ClientMetadata): Promise<void> {
    const clientId = clientIdOf(metadata);
    await this.dynamo.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: marshall(keyOf(clientId)),
        UpdateExpression: 'SET #payload = :payload, #model = :model ADD #version :one',
        ExpressionAttributeNames: {
          '#payload': 'payload',
          '#model': GRANT_INDEX.sortKey,
          '#version': CLIENT_VERSION_ATTRIBUTE,
        },
        ExpressionAttributeValues: marshall(
          { ':payload': metadata, ':model': CLIENT_MODEL, ':one': 1 },
          { removeUndefinedValues: true },
        ),
      }),
    );
  }

  /**
   * Applies `change` to the stored client and writes the result only if nobody wrote the client in
   * between (else re-reads and re-applies, a few times). Returns what was stored. Throws StorageError
   * CLIENT_NOT_FOUND without such a client, CLIENT_CHANGED when other writes kept winning; errors
   * of `change` propagate with nothing written. The client_id cannot change.
   */
  async update(clientId: string, change: ClientChange): Promise<VersionedClient> {
    for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
      const current = await this.getVersioned(clientId);
      if (!current) throw new StorageError('CLIENT_NOT_FOUND', `no client ${clientId} is registered`);
      const metadata = { ...(await change(current.metadata)), client_id: clientId };
      const version = current.version + 1;
      try {
        await this.write(clientId, metadata, version, isAtVersion(current.version));
        return { metadata, version };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    throw new StorageError(
      'CLIENT_CHANGED',
      `client ${clientId} kept changing while being updated; nothing was written, try again`,
    );
  }

  /** Every registered client, in client_id order. */
  async list(): Promise<ClientMetadata[]> {
    return (await this.clients.list()) as ClientMetadata[];
  }

  /** The client with this id, or undefined. */
  async get(clientId: string): Promise<ClientMetadata | undefined> {
    return (await this.getVersioned(clientId))?.metadata;
  }

  /** The client with this id and its version (0 for an item written before versioning), or undefined. */
  async getVersioned(clientId: string): Promise<VersionedClient | undefined> {
    const { Item } = await this.dynamo.send(
      new GetItemCommand({ TableName: this.tableName, Key: marshall(keyOf(clientId)), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const item = unmarshall(Item) as { payload?: ClientMetadata; [CLIENT_VERSION_ATTRIBUTE]?: number };
    return { metadata: item.payload as ClientMetadata, version: item[CLIENT_VERSION_ATTRIBUTE] ?? 0 };
  }

  /** Removes the client (one DeleteItem); returns false when there was none. */
  async remove(clientId: string): Promise<boolean> {
    const { Attributes } = await this.dynamo.send(
      new DeleteItemCommand({
        TableName: this.tableName,
        Key: marshall(keyOf(clientId)),
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Attributes !== undefined;
  }

  /** One PutItem of the client item, laid out as the adapter lays it out, under `condition`. */
  private async write(
    clientId: string,
    metadata: ClientMetadata,
    version: number,
    condition: WriteCondition,
  ): Promise<void> {
    const item = {
      ...keyOf(clientId),
      [GRANT_INDEX.sortKey]: CLIENT_MODEL,
      [CLIENT_VERSION_ATTRIBUTE]: version,
      payload: metadata,
    };
    await this.dynamo.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: marshall(item, { removeUndefinedValues: true }),
        ...condition,
      }),
    );
  }
}

type WriteCondition = Pick<
  PutItemCommandInput,
  'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
>;

/** The client must not exist yet. */
const IS_NEW: WriteCondition = {
  ConditionExpression: 'attribute_not_exists(#pk)',
  ExpressionAttributeNames: { '#pk': PARTITION_KEY },
};

/** The client must still be at `version` (0: an item written before versioning, without the attribute). */
function isAtVersion(version: number): WriteCondition {
  if (version === 0) {
    return {
      ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(#version)',
      ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#version': CLIENT_VERSION_ATTRIBUTE },
    };
  }
  return {
    ConditionExpression: '#version = :seen',
    ExpressionAttributeNames: { '#version': CLIENT_VERSION_ATTRIBUTE },
    ExpressionAttributeValues: marshall({ ':seen': version }),
  };
}

function keyOf(clientId: string): TableKey {
  return listedItemKey(CLIENT_MODEL, clientId);
}

function clientIdOf(metadata: ClientMetadata): string {
  const clientId: unknown = metadata.client_id;
  if (typeof clientId !== 'string' || clientId.length === 0) {
    throw new StorageError('CLIENT_ID_MISSING', 'client metadata needs a non-empty client_id');
  }
  return clientId;
}

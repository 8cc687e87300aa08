/**
 * The single-table schema: the one source of truth for the key layout, the TTL attribute and the
 * grant-id index. The CDK stack imports these constants; local development creates the same table
 * with `ensureTable`.
 *
 * Design: a composite primary key (`pk` partition, `sk` sort), always string-typed.
 * - Almost every item is alone in its partition (`pk` = `<Kind>#<id>`, `sk` = `ITEM_SORT_KEY`), so
 *   every lookup is a strongly consistent GetItem and load spreads over partitions.
 * - Pointer items (session uid, device user code) share the partition value space but use their own
 *   sort key, so they can never collide with a main item.
 * - The sort key is what makes listing possible without a Scan or a second index: the few kinds an
 *   operator must enumerate (registered clients) live in one partition (`pk` = the kind,
 *   `sk` = the id) and are listed with a Query.
 * - One sparse GSI, on `grantId` (+ `model`), serves `revokeByGrantId`; nothing else needs an index.
 * - `expiresAt` (epoch seconds) is the TTL attribute; reads check it too (see expiry.ts).
 */
import {
  type AttributeDefinition,
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { StorageError } from './errors.js';

/** Partition key attribute (string). */
export const PARTITION_KEY = 'pk';
/** Sort key attribute (string). */
export const SORT_KEY = 'sk';
/** Epoch seconds after which an item is dead; DynamoDB TTL is enabled on this attribute. */
export const EXPIRES_AT_ATTRIBUTE = 'expiresAt';
/** On-demand capacity: no provisioning, no throttling from a forgotten capacity setting. */
export const BILLING_MODE = 'PAY_PER_REQUEST';

/** The only GSI: items by grant id and model name, keys only, for revokeByGrantId. */
export const GRANT_INDEX = {
  name: 'grantId-index',
  partitionKey: 'grantId',
  sortKey: 'model',
} as const;

/** Sort key of an item that is alone in its partition. */
export const ITEM_SORT_KEY = 'item';

/** The primary key of one item. */
export interface TableKey {
  readonly pk: string;
  readonly sk: string;
}

/** The key of item `id` of kind `kind` (its own partition), or of a pointer item when `sort` is given. */
export function itemKey(kind: string, id: string, sort: string = ITEM_SORT_KEY): TableKey {
  return { pk: `${kind}#${id}`, sk: sort };
}

/** The key of item `id` in the shared, listable partition of `kind`. */
export function listedItemKey(kind: string, id: string): TableKey {
  return { pk: kind, sk: id };
}

const stringAttribute = (name: string): AttributeDefinition => ({ AttributeName: name, AttributeType: 'S' });

/** CreateTable input of the table (for local and development use; the CDK stack declares the same). */
export function createTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: BILLING_MODE,
    AttributeDefinitions: [PARTITION_KEY, SORT_KEY, GRANT_INDEX.partitionKey, GRANT_INDEX.sortKey].map(
      stringAttribute,
    ),
    KeySchema: [
      { AttributeName: PARTITION_KEY, KeyType: 'HASH' },
      { AttributeName: SORT_KEY, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: GRANT_INDEX.name,
        KeySchema: [
          { AttributeName: GRANT_INDEX.partitionKey, KeyType: 'HASH' },
          { AttributeName: GRANT_INDEX.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ],
  };
}

/** How long ensureTable waits for the table to become ACTIVE. */
const TABLE_WAIT_SECONDS = 60;

/**
 * Creates the table when it does not exist and waits until it is ACTIVE. Does not enable TTL
 * (dynalite has no TTL; in AWS the CDK stack enables it): correctness never depends on TTL.
 * Throws StorageError TABLE_NOT_ACTIVE when the table does not become ACTIVE in time.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    try {
      await client.send(new CreateTableCommand(createTableInput(tableName)));
    } catch (createError) {
      // Created concurrently by another process: fine, wait for it below.
      if (!(createError instanceof ResourceInUseException)) throw createError;
    }
  }
  try {
    await waitUntilTableExists(
      { client, maxWaitTime: TABLE_WAIT_SECONDS, minDelay: 1, maxDelay: 2 },
      { TableName: tableName },
    );
  } catch (error) {
    throw new StorageError('TABLE_NOT_ACTIVE', `table ${tableName} did not become ACTIVE`, { cause: error });
  }
}

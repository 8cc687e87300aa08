/**
 * Deletes or puts many items with BatchWriteItem: chunks of 25 (the API's limit), re-sending
 * UnprocessedItems (what DynamoDB returns instead of an error when a partition is throttled)
 * with exponential backoff and full jitter until none are left.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { StorageError } from './errors.js';

/** BatchWriteItem accepts at most this many requests. */
export const BATCH_WRITE_LIMIT = 25;
/** Rounds of re-sending UnprocessedItems before giving up with StorageError UNPROCESSED_ITEMS. */
export const MAX_UNPROCESSED_ROUNDS = 10;
const BASE_DELAY_MS = 25;
const MAX_DELAY_MS = 2_000;

/** Deletes the items with these primary keys from `tableName`; absent items are no error. */
export async function batchDelete(
  client: DynamoDBClient,
  tableName: string,
  keys: readonly Record<string, AttributeValue>[],
  concurrency = 1,
): Promise<void> {
  await batchWrite(
    client,
    tableName,
    keys.map((Key) => ({ DeleteRequest: { Key } })),
    concurrency,
  );
}

/** Puts these items (replacing any with the same key), up to `concurrency` batches in flight. */
export async function batchPut(
  client: DynamoDBClient,
  tableName: string,
  items: readonly Record<string, AttributeValue>[],
  concurrency = 1,
): Promise<void> {
  await batchWrite(
    client,
    tableName,
    items.map((Item) => ({ PutRequest: { Item } })),
    concurrency,
  );
}

/** Sends these put and delete requests (at most one per key), up to `concurrency` batches in flight. */
export async function batchWrite(
  client: DynamoDBClient,
  tableName: string,
  requests: readonly WriteRequest[],
  concurrency: number,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let start = next; start < requests.length; start = next) {
      next += BATCH_WRITE_LIMIT;
      await writeUntilProcessed(client, tableName, requests.slice(start, start + BATCH_WRITE_LIMIT));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}

async function writeUntilProcessed(
  client: DynamoDBClient,
  tableName: string,
  requests: WriteRequest[],
): Promise<void> {
  let pending = requests;
  for (let round = 0; ; round++) {
    const output = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
    pending = output.UnprocessedItems?.[tableName] ?? [];
    if (pending.length === 0) return;
    if (round + 1 >= MAX_UNPROCESSED_ROUNDS) {
      throw new StorageError(
        'UNPROCESSED_ITEMS',
        `${pending.length} writes still unprocessed after ${MAX_UNPROCESSED_ROUNDS} rounds`,
      );
    }
    await sleep(Math.random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** round));
  }
}

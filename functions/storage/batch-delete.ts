/**
 * Deletes many items with BatchWriteItem: chunks of 25 (the API's limit), re-sending
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
): Promise<void> {
  for (let start = 0; start < keys.length; start += BATCH_WRITE_LIMIT) {
    const chunk = keys.slice(start, start + BATCH_WRITE_LIMIT).map((Key) => ({ DeleteRequest: { Key } }));
    await writeUntilProcessed(client, tableName, chunk);
  }
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
        `${pending.length} deletes still unprocessed after ${MAX_UNPROCESSED_ROUNDS} rounds`,
      );
    }
    await sleep(Math.random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** round));
  }
}

/**
 * Reads many items by primary key with BatchGetItem: chunks of 100 (the API's limit), re-sending
 * UnprocessedKeys with exponential backoff and full jitter (like batch-delete.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type AttributeValue, BatchGetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { StorageError } from './errors.js';

/** BatchGetItem accepts at most this many keys. */
export const BATCH_GET_LIMIT = 100;
const MAX_ROUNDS = 10;
const BASE_DELAY_MS = 25;
const MAX_DELAY_MS = 2_000;

type Item = Record<string, AttributeValue>;

/** The items with these keys that exist (in no particular order); strongly consistent. */
export async function batchGet(
  client: DynamoDBClient,
  tableName: string,
  keys: readonly Item[],
  projection?: { expression: string; names: Record<string, string> },
): Promise<Item[]> {
  const found: Item[] = [];
  for (let start = 0; start < keys.length; start += BATCH_GET_LIMIT) {
    let pending: Item[] = keys.slice(start, start + BATCH_GET_LIMIT);
    for (let round = 0; pending.length > 0; round++) {
      if (round >= MAX_ROUNDS) {
        throw new StorageError(
          'UNPROCESSED_ITEMS',
          `${pending.length} reads unprocessed after ${round} rounds`,
        );
      }
      if (round > 0) await sleep(Math.random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** round));
      const output = await client.send(
        new BatchGetItemCommand({
          RequestItems: {
            [tableName]: {
              Keys: pending,
              ConsistentRead: true,
              ...(projection
                ? { ProjectionExpression: projection.expression, ExpressionAttributeNames: projection.names }
                : {}),
            },
          },
        }),
      );
      found.push(...(output.Responses?.[tableName] ?? []));
      pending = (output.UnprocessedKeys?.[tableName]?.Keys ?? []) as Item[];
    }
  }
  return found;
}

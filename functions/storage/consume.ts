/**
 * Single use, the DynamoDB way: one conditional UpdateItem marks an item consumed only if it
 * exists, is not consumed yet and has not expired. DynamoDB applies conditional writes to one item
 * serially, so of any number of concurrent consumers exactly one succeeds — no transaction needed.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { epochSeconds } from './expiry.js';
import { EXPIRES_AT_ATTRIBUTE, PARTITION_KEY, type TableKey } from './table.js';

/** Set to the epoch seconds of consumption on a consumed item. */
export const CONSUMED_ATTRIBUTE = 'consumed';

/**
 * Consumes the item at `key` at `nowMs`. Returns the item as it was before (unmarshalled), or
 * undefined when it is missing, already consumed or expired.
 */
export async function consumeItem(
  client: DynamoDBClient,
  tableName: string,
  key: TableKey,
  nowMs: number,
): Promise<Record<string, unknown> | undefined> {
  try {
    const { Attributes } = await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: marshall(key),
        UpdateExpression: 'SET #consumed = :now',
        ConditionExpression:
          'attribute_exists(#pk) AND attribute_not_exists(#consumed) AND ' +
          '(attribute_not_exists(#expiresAt) OR #expiresAt > :now)',
        ExpressionAttributeNames: {
          '#pk': PARTITION_KEY,
          '#consumed': CONSUMED_ATTRIBUTE,
          '#expiresAt': EXPIRES_AT_ATTRIBUTE,
        },
        ExpressionAttributeValues: marshall({ ':now': epochSeconds(nowMs) }),
        ReturnValues: 'ALL_OLD',
      }),
    );
    return unmarshall(Attributes ?? {});
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
}

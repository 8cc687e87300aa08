/** A conditional PutItem, UpdateItem or DeleteItem that reports a failed condition as `false` instead of throwing. */
import {
  ConditionalCheckFailedException,
  type DeleteItemCommand,
  type DynamoDBClient,
  type PutItemCommand,
  type UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';

/** Sends `command`; true when it was applied, false when its ConditionExpression failed. */
export async function writeIf(
  client: DynamoDBClient,
  command: PutItemCommand | UpdateItemCommand | DeleteItemCommand,
): Promise<boolean> {
  try {
    await client.send(command as PutItemCommand);
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

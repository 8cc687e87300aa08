/** Conditional PutItem, UpdateItem or DeleteItem that report a failed condition instead of throwing. */
import {
  ConditionalCheckFailedException,
  type DeleteItemCommand,
  type DynamoDBClient,
  type PutItemCommand,
  type UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';

/** Runs `send` (one conditional write); its output, or undefined when its ConditionExpression failed. */
export async function sendIf<Output>(send: () => Promise<Output>): Promise<Output | undefined> {
  try {
    return await send();
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
}

/** Sends `command`; true when it was applied, false when its ConditionExpression failed. */
export async function writeIf(
  client: DynamoDBClient,
  command: PutItemCommand | UpdateItemCommand | DeleteItemCommand,
): Promise<boolean> {
  return (await sendIf(() => client.send(command as PutItemCommand))) !== undefined;
}

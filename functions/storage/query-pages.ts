/** Paginated Queries on the OP's table, written once for every listing. */
import {
  type AttributeValue,
  type DynamoDBClient,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { PARTITION_KEY } from './table.js';

/** The raw item pages of a Query, following LastEvaluatedKey to the end. */
export async function* queryPages(
  client: DynamoDBClient,
  input: QueryCommandInput,
): AsyncGenerator<Record<string, AttributeValue>[]> {
  let ExclusiveStartKey = input.ExclusiveStartKey;
  do {
    const page = await client.send(new QueryCommand({ ...input, ExclusiveStartKey }));
    yield page.Items ?? [];
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
}

/** A strongly consistent Query of the partition `pk`; `extra` adds a filter, a limit… */
export function partitionQuery(
  tableName: string,
  pk: string,
  extra: Partial<QueryCommandInput> = {},
): QueryCommandInput {
  return {
    TableName: tableName,
    KeyConditionExpression: '#pk = :pk',
    ConsistentRead: true,
    ...extra,
    ExpressionAttributeNames: { '#pk': PARTITION_KEY, ...extra.ExpressionAttributeNames },
    ExpressionAttributeValues: { ':pk': { S: pk }, ...extra.ExpressionAttributeValues },
  };
}

/** One in-process dynalite per test file and a fresh table per test, so tests cannot see each other's items. */

import { type DynamoDBClient, ScanCommand, type ScanCommandInput } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll } from '@jest/globals';
import { type LocalDynamo, startLocalDynamo } from '../../functions/storage/local-dynamodb.js';
import { ensureTable } from '../../functions/storage/table.js';

export interface TestTable {
  /** URL of the file's dynalite, for tests that build their own client. */
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

/** Starts dynalite for this file (stopped after all its tests); returns a factory of empty tables. */
export function useLocalTables(): () => Promise<TestTable> {
  let local: LocalDynamo | undefined;
  let count = 0;
  beforeAll(async () => {
    local = await startLocalDynamo();
  });
  afterAll(async () => {
    await local?.close();
  });
  return async () => {
    if (!local) throw new Error('useLocalTables() must be called at the top of a test file');
    const tableName = `test-table-${++count}`;
    await ensureTable(local.client, tableName);
    return { endpoint: local.endpoint, client: local.client, tableName };
  };
}

/** Every item of the table (test inspection only). */
export async function scanAll({ client, tableName }: TestTable): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: ScanCommandInput['ExclusiveStartKey'];
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey }));
    items.push(...(page.Items ?? []).map((item) => unmarshall(item)));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, test } from '@jest/globals';
import { startLocalDynamo } from '../../functions/storage/local-dynamodb.js';
import { createDynamoAdapter } from '../../functions/storage/oidc-adapter.js';
import { ensureTable, GRANT_INDEX } from '../../functions/storage/table.js';

describe('local DynamoDB (dynalite)', () => {
  test('persists to a LevelDB folder across restarts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'myna-oidc-dynalite-'));
    const path = join(dir, 'data', 'dynamodb');
    try {
      const first = await startLocalDynamo({ path });
      expect(first.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await ensureTable(first.client, 'myna-oidc');
      await new (createDynamoAdapter({ client: first.client, tableName: 'myna-oidc' }))('Grant').upsert(
        'g-1',
        {
          accountId: 'account-1',
        },
      );
      await first.close();

      const second = await startLocalDynamo({ path });
      await ensureTable(second.client, 'myna-oidc');
      const grants = new (createDynamoAdapter({ client: second.client, tableName: 'myna-oidc' }))('Grant');
      expect(await grants.find('g-1')).toEqual({ accountId: 'account-1' });
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('ensureTable creates the table with the grant index once and is idempotent', async () => {
    const local = await startLocalDynamo();
    try {
      await ensureTable(local.client, 'myna-oidc');
      await ensureTable(local.client, 'myna-oidc');
      const { Table } = await local.client.send(new DescribeTableCommand({ TableName: 'myna-oidc' }));
      expect(Table?.TableStatus).toBe('ACTIVE');
      expect(Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName)).toEqual([GRANT_INDEX.name]);
      expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    } finally {
      await local.close();
    }
  });
});

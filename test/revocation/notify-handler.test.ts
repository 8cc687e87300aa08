/**
 * The notification Lambda's entry point (notify-handler.ts) with its real environment: the shared
 * environment reader, secrets from Secrets Manager, the table, OP_PRIVATE_RP_HOSTS, and the time
 * it keeps free before the Lambda's timeout. The AWS SDK clients it creates find the local
 * dynalite and a local Secrets Manager through the SDK's own endpoint variables.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startFakeSecretsManager } from '../../bench/lambda-coldstart.js';
import { NOTIFY_RESERVE_MS } from '../../functions/defaults.js';
import { handler } from '../../functions/revocation/notify-handler.js';
import { generateSecrets } from '../../functions/secrets/local-secrets.js';
import { LogoutQueue } from '../../functions/storage/logout-queue.js';
import { type TestTable, useLocalTables } from '../storage/local-table.js';

const newTable = useLocalTables();
const SECRET_ID = 'myna-oidc/op';
let table: TestTable;
let secretsManager: Awaited<ReturnType<typeof startFakeSecretsManager>>;
let rp: Server;
const received: string[] = [];
const saved = { ...process.env };

beforeAll(async () => {
  table = await newTable();
  secretsManager = await startFakeSecretsManager(SECRET_ID, await generateSecrets());
  rp = createServer((request, response) => {
    received.push(request.url ?? '/');
    request.resume();
    request.on('end', () => response.writeHead(200).end());
  });
  await new Promise<void>((resolve) => rp.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: table.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
    AWS_REGION: 'ap-northeast-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    OP_ISSUER: 'https://login.example.jp',
    OP_TABLE_NAME: table.tableName,
    OP_SECRET_ID: SECRET_ID,
    OP_PRIVATE_RP_HOSTS: '127.0.0.1',
  });
});
afterAll(async () => {
  for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
  Object.assign(process.env, saved);
  await secretsManager?.close();
  await new Promise<void>((resolve) => rp.close(() => resolve()));
});

describe('the notification Lambda', () => {
  it('keeps NOTIFY_RESERVE_MS free, then delivers to an allow-listed private RP on the next run', async () => {
    const uri = `http://127.0.0.1:${(rp.address() as AddressInfo).port}/bc`;
    await new LogoutQueue(table).enqueue(
      { id: 'logout:sid-1#rp-a', clientId: 'rp-a', uri, sub: 'sub-1', sid: 'sid-1', alg: 'RS256' },
      new Date(),
    );
    const almostOut = { getRemainingTimeInMillis: () => NOTIFY_RESERVE_MS - 1 };
    await expect(handler({}, almostOut)).resolves.toMatchObject({ stoppedEarly: true, delivered: 0 });
    expect(received).toEqual([]);
    const plenty = { getRemainingTimeInMillis: () => NOTIFY_RESERVE_MS + 60_000 };
    await expect(handler({}, plenty)).resolves.toMatchObject({ stoppedEarly: false, delivered: 1 });
    expect(received).toEqual(['/bc']);
  });

  it('names a missing variable', async () => {
    const issuer = process.env.OP_ISSUER;
    delete process.env.OP_ISSUER;
    try {
      await expect(handler({})).rejects.toThrow('environment variable OP_ISSUER is required');
    } finally {
      process.env.OP_ISSUER = issuer;
    }
  });
});

/**
 * The notification Lambda's entry point (notify-handler.ts) with its real environment: its
 * environment reader, the identity secrets from Secrets Manager, the table, OP_PRIVATE_RP_HOSTS,
 * the time it keeps free before the Lambda's timeout, and the logout-token signer Lambda
 * (logout-signer-handler.ts, the real handler behind a local Lambda Invoke endpoint) that signs
 * its logout tokens. The AWS SDK clients and the Lambda invocation find the local dynalite, a local
 * Secrets Manager and the local Invoke endpoint through the SDK's own endpoint variables.
 */
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jwtVerify } from 'jose';
import { startFakeSecretsManager } from '../../bench/lambda-coldstart.js';
import { NOTIFY_RESERVE_MS } from '../../functions/defaults.js';
import { handler as logoutSigner } from '../../functions/revocation/logout-signer-handler.js';
import { BACKCHANNEL_LOGOUT_EVENT } from '../../functions/revocation/notification/logout-token.js';
import { handler } from '../../functions/revocation/notify-handler.js';
import { generateSecrets } from '../../functions/secrets/local-secrets.js';
import type { OpSecrets } from '../../functions/secrets/op-secrets.js';
import { ClientRegistry } from '../../functions/storage/client-registry.js';
import { LogoutQueue } from '../../functions/storage/logout-queue.js';
import { type TestTable, useLocalTables } from '../storage/local-table.js';
import { type FakeLambda, startFakeLambda } from './fake-lambda.js';

const newTable = useLocalTables();
const SECRET_ID = 'myna-oidc/op';
const SIGNER = 'MynaOidc-LogoutTokenSigner';
const ISSUER = 'https://login.example.jp';
let secrets: OpSecrets;
let lambda: FakeLambda;
let table: TestTable;
let secretsManager: Awaited<ReturnType<typeof startFakeSecretsManager>>;
let rp: Server;
const received: { path: string; token: string }[] = [];
const saved = { ...process.env };

beforeAll(async () => {
  table = await newTable();
  secrets = await generateSecrets();
  secretsManager = await startFakeSecretsManager(SECRET_ID, secrets);
  lambda = await startFakeLambda({ [SIGNER]: logoutSigner });
  rp = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      received.push({ path: request.url ?? '/', token: new URLSearchParams(body).get('logout_token') ?? '' });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => rp.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: table.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
    AWS_REGION: 'ap-northeast-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
    OP_ISSUER: ISSUER,
    OP_TABLE_NAME: table.tableName,
    // The job's identity secrets (here one secret holding every part)…
    OP_CERTIFICATE_KEY_SECRET_ID: SECRET_ID,
    OP_PAIRWISE_SECRET_ID: SECRET_ID,
    OP_LOGOUT_TOKEN_SIGNER_FUNCTION: SIGNER,
    // …and the signer's signing secret (both handlers run in this one process).
    OP_SECRET_ID: SECRET_ID,
    OP_PRIVATE_RP_HOSTS: '127.0.0.1',
  });
});
afterAll(async () => {
  for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
  Object.assign(process.env, saved);
  await secretsManager?.close();
  await lambda?.close();
  await new Promise<void>((resolve) => rp.close(() => resolve()));
});

describe('the notification Lambda', () => {
  it('keeps NOTIFY_RESERVE_MS free, then delivers a token the signer Lambda signed on the next run', async () => {
    const uri = `http://127.0.0.1:${(rp.address() as AddressInfo).port}/bc`;
    await new ClientRegistry(table).put({
      client_id: 'rp-a',
      redirect_uris: ['https://rp-a.example/cb'],
      backchannel_logout_uri: uri,
    });
    await new LogoutQueue(table).enqueue(
      { id: 'logout:sid-1#rp-a', clientId: 'rp-a', uri, sub: 'sub-1', sid: 'sid-1', alg: 'RS256' },
      new Date(),
    );
    const almostOut = { getRemainingTimeInMillis: () => NOTIFY_RESERVE_MS - 1 };
    await expect(handler({}, almostOut)).resolves.toMatchObject({ stoppedEarly: true, delivered: 0 });
    expect(received).toEqual([]);
    const plenty = { getRemainingTimeInMillis: () => NOTIFY_RESERVE_MS + 60_000 };
    await expect(handler({}, plenty)).resolves.toMatchObject({ stoppedEarly: false, delivered: 1 });
    expect(received.map((request) => request.path)).toEqual(['/bc']);
    // Signed by the signer Lambda (one SigV4-signed Invoke), verifiable with the OP's JWKS.
    expect(lambda.invocations.map((invocation) => invocation.functionName)).toEqual([SIGNER]);
    const active = secrets.jwks.keys.find((key) => key.alg === 'RS256' && key.status === 'active');
    const { payload, protectedHeader } = await jwtVerify(
      received[0]?.token ?? '',
      createPublicKey({ key: active as unknown as JsonWebKey, format: 'jwk' }),
      { issuer: ISSUER, audience: 'rp-a', typ: 'logout+jwt' },
    );
    expect(protectedHeader).toMatchObject({ alg: 'RS256', kid: active?.kid });
    expect(payload).toMatchObject({ sub: 'sub-1', sid: 'sid-1', events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } });
    expect(payload.nonce).toBeUndefined();
  });

  it('needs the signer: without OP_LOGOUT_TOKEN_SIGNER_FUNCTION it does not start', async () => {
    const signer = process.env.OP_LOGOUT_TOKEN_SIGNER_FUNCTION;
    delete process.env.OP_LOGOUT_TOKEN_SIGNER_FUNCTION;
    try {
      await expect(handler({})).rejects.toThrow(
        'environment variable OP_LOGOUT_TOKEN_SIGNER_FUNCTION is required',
      );
    } finally {
      process.env.OP_LOGOUT_TOKEN_SIGNER_FUNCTION = signer;
    }
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

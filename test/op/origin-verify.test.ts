/**
 * Origin verification (WAF option): the OP behind CloudFront refuses every request that does not
 * carry the origin-verify secret CloudFront adds — a client calling the execute-api endpoint
 * directly, skipping the WAF, gets 403 — over real HTTP, with the real OP behind it, and follows a
 * rotation of the secret without a restart.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createOpApp } from '../../functions/op/app.js';
import {
  lambdaOriginGuard,
  ORIGIN_VERIFY_HEADER,
  ORIGIN_VERIFY_SECRET_ENV,
  OriginVerifier,
  originVerifySecretValues,
  verifyingOrigin,
} from '../../functions/op/origin-verify.js';
import { fakeSecretsManager } from '../infra/fake-secrets-manager.js';
import { useLocalTables } from '../storage/local-table.js';
import { memoryLogger, testOpConfig } from '../support/op-stack.js';

const SECRET = 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:MynaOidcOriginVerify-abc';
const CURRENT = 'Current0riginVerifyValue0123456789abcdefABCDEFGH';
const ROTATED = 'Rotated0riginVerifyValue0123456789abcdefABCDEFGH';

const newTable = useLocalTables();

/** Listens on 127.0.0.1:0; returns the server and its URL. */
async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the OP behind origin verification', () => {
  const logger = memoryLogger();
  const fake = fakeSecretsManager({ [SECRET]: CURRENT });
  let server: Server;
  let url: string;
  let clock = 0;

  beforeAll(async () => {
    server = createServer();
    url = await listen(server);
    const { listener } = await createOpApp(await testOpConfig(url, { table: await newTable(), logger }));
    const verifier = new OriginVerifier({
      load: originVerifySecretValues(SECRET, fake.client),
      refreshAfterMs: 60_000,
      now: () => clock,
    });
    await verifier.ready();
    server.on('request', verifyingOrigin(listener, verifier, logger));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const discovery = (headers: Record<string, string> = {}) =>
    fetch(`${url}/.well-known/openid-configuration`, { headers });

  it('refuses a request that skipped CloudFront (no header, or a wrong one) with 403 and logs no value', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { [ORIGIN_VERIFY_HEADER]: 'guess' },
      { [ORIGIN_VERIFY_HEADER]: ROTATED },
    ];
    for (const headers of attempts) {
      const response = await discovery(headers);
      expect(response.status).toBe(403);
      const body = await response.text();
      expect(body).not.toMatch(/openid|issuer|x-myna/i);
    }
    const token = await fetch(`${url}/token`, { method: 'POST', body: 'grant_type=authorization_code' });
    expect(token.status).toBe(403);
    const refused = logger.lines.filter((line) => line.event === 'origin_verify.refused');
    expect(refused.length).toBeGreaterThanOrEqual(4);
    expect(refused[0]?.fields).toEqual({
      method: 'GET',
      path: '/.well-known/openid-configuration',
      headerPresent: false,
    });
    expect(JSON.stringify(logger.lines)).not.toContain(ROTATED);
    expect(JSON.stringify(logger.lines)).not.toContain('guess');
  });

  it('serves a request CloudFront forwarded', async () => {
    const response = await discovery({ [ORIGIN_VERIFY_HEADER]: CURRENT });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { issuer: string }).issuer).toBe(url);
  });

  it('follows a rotation: the new value after the refresh interval, the previous one still', async () => {
    fake.versions(SECRET).push({ value: ROTATED });
    const before = fake.calls.length;
    // Within the refresh interval an unknown value causes no re-read, however many arrive.
    for (let i = 0; i < 5; i++)
      expect((await discovery({ [ORIGIN_VERIFY_HEADER]: ROTATED })).status).toBe(403);
    expect(fake.calls.length).toBe(before);
    clock += 60_000;
    expect((await discovery({ [ORIGIN_VERIFY_HEADER]: ROTATED })).status).toBe(200);
    // CloudFront may still send the previous value until its redeploy is done.
    expect((await discovery({ [ORIGIN_VERIFY_HEADER]: CURRENT })).status).toBe(200);
    expect(fake.calls.slice(before)).toEqual([`GetSecretValue ${SECRET}`, `GetSecretValue ${SECRET}`]);
  });
});

describe('origin verification of the Lambda', () => {
  it('hands the listener the request without the header', async () => {
    const fake = fakeSecretsManager({ [SECRET]: CURRENT });
    const seen: IncomingMessage['headers'][] = [];
    const guarded = await lambdaOriginGuard(
      (req, res) => {
        seen.push(req.headers);
        res.end('ok');
      },
      { [ORIGIN_VERIFY_SECRET_ENV]: SECRET },
      () => fake.client,
    );
    const server = createServer(guarded);
    const url = await listen(server);
    try {
      expect((await fetch(url, { headers: { [ORIGIN_VERIFY_HEADER]: CURRENT } })).status).toBe(200);
      expect(seen).toHaveLength(1);
      expect(seen[0]).not.toHaveProperty(ORIGIN_VERIFY_HEADER);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('is off without the secret variable, and fails the cold start on a short secret', async () => {
    const listener = () => undefined;
    expect(await lambdaOriginGuard(listener, {})).toBe(listener);
    const fake = fakeSecretsManager({ [SECRET]: 'short' });
    await expect(
      lambdaOriginGuard(listener, { [ORIGIN_VERIFY_SECRET_ENV]: SECRET }, () => fake.client),
    ).rejects.toMatchObject({ code: 'ORIGIN_VERIFY_SECRET_INVALID' });
  });
});

/**
 * Identifiers no stored item can have (over DynamoDB's 2048-byte key limit, empty) get the
 * endpoint's 4xx before storage, and every 5xx is logged with its cause (issue 13 §1). On the
 * code before, a 3 KB code at /token made DynamoDB fail and the OP answer 500, unlogged.
 */
import { describe, expect, it } from '@jest/globals';
import type * as client from 'openid-client';
import { startOpServer } from '../../functions/op/local-server.js';
import { type TestTable, useLocalTables } from '../storage/local-table.js';
import { relyingParty } from '../support/oidc-flow.js';
import { memoryLogger, TEST_CLIENTS, testOpConfig } from '../support/op-stack.js';

const newTable = useLocalTables();
const A = TEST_CLIENTS.firstParty;
const REDIRECT_URI = A.redirect_uris[0] as string;

async function withOp<T>(
  work: (
    rp: client.Configuration,
    op: { url: string },
    logger: ReturnType<typeof memoryLogger>,
  ) => Promise<T>,
  table?: TestTable,
): Promise<T> {
  const logger = memoryLogger();
  const op = await startOpServer({
    config: async (url) => testOpConfig(url, { table: table ?? (await newTable()), logger }),
  });
  try {
    const rp = await relyingParty({ issuer: op.url, clientId: A.client_id, clientSecret: A.client_secret });
    return await work(rp, op, logger);
  } finally {
    await op.close();
  }
}

/** The token endpoint's answer to `params`, authenticated as client A (client_secret_basic). */
async function tokenRequest(rp: client.Configuration, params: Record<string, string>) {
  const endpoint = rp.serverMetadata().token_endpoint as string;
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${A.client_id}:${A.client_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(params),
  });
  return { status: response.status, body: (await response.json()) as { error?: string } };
}

describe('oversized and malformed identifiers', () => {
  it('answers invalid_grant (400), not 500, to a 3 KB code and a 3 KB refresh token', async () => {
    await withOp(async (rp, _op, logger) => {
      const huge = 'A'.repeat(3 * 1024);
      const code = await tokenRequest(rp, {
        grant_type: 'authorization_code',
        code: huge,
        redirect_uri: REDIRECT_URI,
        code_verifier: 'v'.repeat(43),
      });
      expect(code).toEqual({ status: 400, body: expect.objectContaining({ error: 'invalid_grant' }) });
      const refresh = await tokenRequest(rp, { grant_type: 'refresh_token', refresh_token: huge });
      expect(refresh.status).toBe(400);
      expect(refresh.body.error).toBe('invalid_grant');
      expect(logger.lines.filter((line) => line.event === 'http.server_error')).toEqual([]);
    });
  });

  it('answers 4xx to huge tokens at userinfo, introspection and revocation, and a huge interaction id', async () => {
    await withOp(async (rp, op) => {
      const huge = 'B'.repeat(3 * 1024);
      const userinfo = await fetch(rp.serverMetadata().userinfo_endpoint as string, {
        headers: { authorization: `Bearer ${huge}` },
      });
      expect(userinfo.status).toBe(401);
      const auth = `Basic ${Buffer.from(`${A.client_id}:${A.client_secret}`).toString('base64')}`;
      for (const endpoint of ['introspection_endpoint', 'revocation_endpoint'] as const) {
        const response = await fetch(rp.serverMetadata()[endpoint] as string, {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token: huge }),
        });
        expect(response.status).toBe(200);
      }
      // The interaction route refuses ids over 64 characters; a huge session cookie finds nothing.
      const page = await fetch(`${op.url}/interaction/${'C'.repeat(3000)}`);
      expect(page.status).toBeLessThan(500);
    });
  });
});

describe('5xx logging', () => {
  it('logs a server error with its cause and no request data', async () => {
    const table = await newTable();
    await withOp(async (rp, _op, logger) => {
      // The table disappears under the OP: every storage call now fails.
      const { DeleteTableCommand } = await import('@aws-sdk/client-dynamodb');
      await table.client.send(new DeleteTableCommand({ TableName: table.tableName }));
      const response = await tokenRequest(rp, {
        grant_type: 'authorization_code',
        code: 'x'.repeat(43),
        redirect_uri: REDIRECT_URI,
        code_verifier: 'v'.repeat(43),
      });
      expect(response.status).toBe(500);
      const logged = logger.lines.filter((line) => line.event === 'http.server_error');
      expect(logged).toHaveLength(1);
      expect(logged[0]?.level).toBe('warn');
      expect(logged[0]?.fields).toMatchObject({
        route: 'token',
        method: 'POST',
        path: '/token',
        error: [expect.objectContaining({ name: 'ResourceNotFoundException' })],
      });
      expect(JSON.stringify(logged)).not.toContain('x'.repeat(43));
    }, table);
  });
});

/**
 * The adapter under the real oidc-provider, with the OP's mapping of storage errors
 * (op/storage-errors.ts): concurrent redemptions of one code at the token endpoint.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, test } from '@jest/globals';
import Provider from 'oidc-provider';
import { withOidcErrors } from '../../functions/op/storage-errors.js';
import { createDynamoAdapter } from '../../functions/storage/oidc-adapter.js';
import { useLocalTables } from './local-table.js';

const newTable = useLocalTables();
const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

const CLIENT = { client_id: 'rp', client_secret: 'rp-secret', redirect_uris: ['https://rp.example/cb'] };

describe('oidc-provider token endpoint on the DynamoDB adapter', () => {
  test('20 concurrent redemptions of one code: exactly 1 success, 19 invalid_grant, no 500', async () => {
    const provider = new Provider('http://127.0.0.1', {
      adapter: withOidcErrors(createDynamoAdapter(await newTable())),
      clients: [CLIENT],
      findAccount: (_ctx, accountId) => ({ accountId, claims: () => ({ sub: accountId }) }),
      features: { devInteractions: { enabled: false } },
      ttl: { Grant: 600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
    });
    const grant = new provider.Grant({ accountId: 'account-1', clientId: CLIENT.client_id });
    grant.addOIDCScope('openid');
    const grantId = await grant.save();
    const client = await provider.Client.find(CLIENT.client_id);
    const code = await new provider.AuthorizationCode({
      accountId: 'account-1',
      grantId,
      client,
      redirectUri: CLIENT.redirect_uris[0],
      scope: 'openid',
      authTime: Math.floor(Date.now() / 1000),
    } as ConstructorParameters<typeof provider.AuthorizationCode>[0]).save();

    const server = createServer(provider.callback());
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const redeem = async () => {
      const response = await fetch(`http://127.0.0.1:${port}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${CLIENT.client_id}:${CLIENT.client_secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: CLIENT.redirect_uris[0] as string,
        }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const results = await Promise.all(Array.from({ length: 20 }, redeem));
    expect(results.filter((result) => result.status === 200)).toHaveLength(1);
    const failures = results.filter((result) => result.status !== 200);
    expect(failures).toHaveLength(19);
    for (const failure of failures)
      expect(failure).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });
});

/**
 * The adapter under the real oidc-provider, with the OP's mapping of storage errors
 * (op/storage-errors.ts): concurrent redemptions of one code at the token endpoint — on the bare
 * adapter, and as the OP runs it (request scope, op/storage-reads.ts: the access token is written
 * while the code's consume is in flight; ddb-request-scope.test.ts checks the loser's token is deleted).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, test } from '@jest/globals';
import Provider from 'oidc-provider';
import { withOidcErrors } from '../../functions/op/storage-errors.js';
import { storageReads } from '../../functions/op/storage-reads.js';
import { createDynamoClient } from '../../functions/storage/dynamo-client.js';
import { createDynamoAdapter, type DynamoAdapterConstructor } from '../../functions/storage/oidc-adapter.js';
import { RequestScope } from '../../functions/storage/request-scope.js';
import { type TestTable, useLocalTables } from './local-table.js';

const newTable = useLocalTables();
const servers: Server[] = [];
const clients: { destroy(): void }[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  for (const client of clients) client.destroy();
});

/** How the provider stores: its adapter and, as the OP has it, the request scope around each request. */
interface Storage {
  readonly adapter: DynamoAdapterConstructor;
  readonly scope?: RequestScope;
}

/** The bare adapter on `table`. */
const bareStorage = (table: TestTable): Storage => ({ adapter: createDynamoAdapter(table) });

/** The adapter as the OP builds it (op/dynamo-storage.ts), on a client of its own. */
function opStorage(table: TestTable): Storage {
  const client = createDynamoClient({ endpoint: table.endpoint });
  clients.push(client);
  const scope = new RequestScope(client, table.tableName);
  return { adapter: storageReads(createDynamoAdapter({ ...table, client }), { scope }), scope };
}

const CLIENT = { client_id: 'rp', client_secret: 'rp-secret', redirect_uris: ['https://rp.example/cb'] };

describe('oidc-provider token endpoint on the DynamoDB adapter', () => {
  test.each([
    ['the bare adapter', bareStorage],
    ["the OP's storage (request scope, token written alongside the consume)", opStorage],
  ])(
    '20 concurrent redemptions of one code on %s: exactly 1 success, 19 invalid_grant, no 500',
    async (_name, storageOn) => {
      const table = await newTable();
      const { adapter, scope } = storageOn(table);
      const provider = new Provider('http://127.0.0.1', {
        adapter: withOidcErrors(adapter),
        clients: [CLIENT],
        findAccount: (_ctx, accountId) => ({ accountId, claims: () => ({ sub: accountId }) }),
        features: { devInteractions: { enabled: false } },
        ttl: { Grant: 600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
      });
      if (scope) provider.use((_ctx, next) => scope.run(next));
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
    },
  );
});

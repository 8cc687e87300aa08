/**
 * The cold-start floor: a bare oidc-provider (bare-provider.ts) behind serverless-http as an API
 * Gateway v2 handler, bundled with the OP's Lambda options. Issuer from OP_ISSUER, keys from
 * BARE_SECRETS (the OpSecrets JSON, so no I/O before the provider exists); state in the DynamoDB
 * table OP_TABLE_NAME through the OP's adapter, as any deployable provider must keep it.
 */
import serverless from 'serverless-http';
import { parseSecrets, providerJwks } from '../functions/secrets/op-secrets.js';
import { createDynamoClient } from '../functions/storage/dynamo-client.js';
import { createDynamoAdapter } from '../functions/storage/oidc-adapter.js';
import { BENCH_CLIENT, createBareProvider } from './bare-provider.js';

type Handler = serverless.Handler;

let ready: Handler | undefined;

/** The Lambda entry point. */
export const handler: Handler = async (event, context) => {
  if (!ready) {
    const secrets = parseSecrets(process.env.BARE_SECRETS ?? '');
    const provider = createBareProvider({
      adapter: createDynamoAdapter({
        client: createDynamoClient(),
        tableName: process.env.OP_TABLE_NAME ?? '',
      }),
      issuer: process.env.OP_ISSUER ?? '',
      jwks: providerJwks(secrets),
      cookieKeys: secrets.cookieKeys,
      clients: [BENCH_CLIENT],
    });
    ready = serverless(provider.callback(), { provider: 'aws' });
  }
  return ready(event, context);
};

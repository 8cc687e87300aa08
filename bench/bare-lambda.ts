/**
 * The cold-start floor: a bare oidc-provider (bare-provider.ts) behind serverless-http as an API
 * Gateway v2 handler, bundled with the OP's Lambda options. Issuer from OP_ISSUER, keys from
 * BARE_SECRETS (the OpSecrets JSON, so no I/O before the provider exists); no storage at all
 * (oidc-provider's in-memory adapter, the bench client given statically, no AWS SDK in the
 * bundle), so the ratio shows everything the OP adds to oidc-provider.
 */
import serverless from 'serverless-http';
import { parseSecrets, providerJwks } from '../functions/secrets/op-secrets.js';
import { BENCH_CLIENT, createBareProvider } from './bare-provider.js';

type Handler = serverless.Handler;

let ready: Handler | undefined;

/** The Lambda entry point. */
export const handler: Handler = async (event, context) => {
  if (!ready) {
    const secrets = parseSecrets(process.env.BARE_SECRETS ?? '');
    const provider = createBareProvider({
      issuer: process.env.OP_ISSUER ?? '',
      jwks: providerJwks(secrets),
      cookieKeys: secrets.cookieKeys,
      clients: [BENCH_CLIENT],
    });
    ready = serverless(provider.callback(), { provider: 'aws' });
  }
  return ready(event, context);
};

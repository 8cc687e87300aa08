/**
 * The logout-token signer Lambda (notification/logout-token-signer.ts): the notification job
 * invokes it for each logout token (notification/lambda-logout-token-signer.ts). It reads the
 * signing secret and the table's `Client` partition (a registered client's metadata) — nothing
 * else — and talks to no RP. Environment (op/lambda-env.ts readLogoutSignerEnv): OP_ISSUER,
 * OP_TABLE_NAME, OP_SECRET_ID.
 *
 * The event is `{ payload, alg }`; the answer `{ token }`, or `{ refused: { code, message } }` for a
 * request that is not a logout token (logged as `logout_token.refused` with the code and client id
 * only: never a sub, sid or the payload). Other failures throw (Lambda errors alarm).
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type OpLogger, stderrLogger } from '../log/logger.js';
import { readLogoutSignerEnv } from '../op/lambda-env.js';
import { readSecretString } from '../secrets/aws-secrets.js';
import { parseSigningSecrets } from '../secrets/op-secrets.js';
import { ClientRegistry } from '../storage/client-registry.js';
import { createDynamoClient } from '../storage/dynamo-client.js';
import type { LogoutSignerResponse } from './notification/lambda-logout-token-signer.js';
import {
  InProcessLogoutTokenSigner,
  LogoutTokenRefusedError,
  type LogoutTokenSigner,
  registeredClients,
} from './notification/logout-token-signer.js';

/** The handler around `signer` (tests pass their own). */
export function createLogoutSignerHandler(
  signer: LogoutTokenSigner,
  logger: OpLogger = stderrLogger,
): (event: unknown) => Promise<LogoutSignerResponse> {
  return async (event) => {
    const { payload, alg } = (typeof event === 'object' && event !== null ? event : {}) as {
      payload?: unknown;
      alg?: unknown;
    };
    try {
      return {
        token: await signer.sign({ payload: payload as Record<string, unknown>, alg: alg as string }),
      };
    } catch (error) {
      if (!(error instanceof LogoutTokenRefusedError)) throw error;
      const aud = (payload as { aud?: unknown } | undefined)?.aud;
      logger.warn('logout_token.refused', {
        code: error.code,
        reason: error.message,
        ...(typeof aud === 'string' && aud.length <= 255 ? { client_id: aud } : {}),
      });
      return { refused: { code: error.code, message: error.message } };
    }
  };
}

let ready: Promise<(event: unknown) => Promise<LogoutSignerResponse>> | undefined;

async function coldStart(): Promise<(event: unknown) => Promise<LogoutSignerResponse>> {
  const settings = readLogoutSignerEnv(process.env);
  const secrets = parseSigningSecrets(
    await readSecretString(settings.signingSecretId, new SecretsManagerClient({})),
  );
  return createLogoutSignerHandler(
    new InProcessLogoutTokenSigner({
      issuer: settings.issuer,
      secrets,
      findClient: registeredClients(
        new ClientRegistry({ client: createDynamoClient(), tableName: settings.tableName }),
      ),
    }),
  );
}

/** The Lambda entry point; a failed cold start is retried on the next invocation. */
export async function handler(event: unknown): Promise<LogoutSignerResponse> {
  ready ??= coldStart().catch((error: unknown) => {
    ready = undefined;
    throw error;
  });
  return (await ready)(event);
}

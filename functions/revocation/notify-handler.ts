/**
 * The scheduled revocation notification job on AWS Lambda (an EventBridge rule invokes it). Its
 * environment (op/lambda-env.ts readNotifyEnv): OP_ISSUER (iss of logout tokens), OP_TABLE_NAME,
 * OP_CERTIFICATE_KEY_SECRET_ID and OP_PAIRWISE_SECRET_ID (the identity secrets it reads),
 * OP_PRIVATE_RP_HOSTS and OP_LOGOUT_TOKEN_SIGNER_FUNCTION — it reads no signing key: each logout
 * token is signed by the logout-token signer Lambda (logout-signer-handler.ts), which signs logout
 * tokens only. One run per invocation; it stops starting new work NOTIFY_RESERVE_MS before the
 * Lambda's timeout and the next run continues (notification/notify-job.ts). A failed run throws
 * (Lambda errors alarm).
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { NOTIFY_RESERVE_MS } from '../defaults.js';
import { readNotifyEnv } from '../op/lambda-env.js';
import { loadIdentitySecret } from '../secrets/aws-secrets.js';
import { createDynamoClient } from '../storage/dynamo-client.js';
import { LambdaLogoutTokenSigner } from './notification/lambda-logout-token-signer.js';
import { NotifyJob, type NotifySummary } from './notification/notify-job.js';

/** The Lambda entry point (the event is ignored). */
export async function handler(
  _event: unknown,
  context?: { getRemainingTimeInMillis?: () => number },
): Promise<NotifySummary> {
  const settings = readNotifyEnv(process.env);
  const secretsManager = new SecretsManagerClient({});
  const [certificateKeySecret, pairwiseSecret] = await Promise.all([
    loadIdentitySecret(settings.certificateKeySecretId, 'certificateKeySecret', secretsManager),
    loadIdentitySecret(settings.pairwiseSecretId, 'pairwiseSecret', secretsManager),
  ]);
  const job = new NotifyJob({
    client: createDynamoClient(),
    tableName: settings.tableName,
    issuer: settings.issuer,
    secrets: { certificateKeySecret, pairwiseSecret },
    signer: new LambdaLogoutTokenSigner(settings.logoutTokenSignerFunction),
    privateRpHosts: settings.privateRpHosts,
    timeLeftMs: () => (context?.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY) - NOTIFY_RESERVE_MS,
  });
  return job.run();
}

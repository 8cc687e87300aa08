/**
 * The scheduled revocation notification job on AWS Lambda (an EventBridge rule invokes it). Its
 * environment is the part both Lambdas share (op/lambda-env.ts readSharedEnv): OP_ISSUER (iss of
 * logout tokens), OP_TABLE_NAME, OP_SECRET_ID (+ OP_CERTIFICATE_KEY_SECRET_ID and
 * OP_PAIRWISE_SECRET_ID) and OP_PRIVATE_RP_HOSTS. One run per invocation; it stops starting new
 * work NOTIFY_RESERVE_MS before the Lambda's timeout and the next run continues
 * (notification/notify-job.ts). A failed run throws (Lambda errors alarm).
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { NOTIFY_RESERVE_MS } from '../defaults.js';
import { readSharedEnv } from '../op/lambda-env.js';
import { loadAwsSecrets } from '../secrets/aws-secrets.js';
import { createDynamoClient } from '../storage/dynamo-client.js';
import { NotifyJob, type NotifySummary } from './notification/notify-job.js';

/** The Lambda entry point (the event is ignored). */
export async function handler(
  _event: unknown,
  context?: { getRemainingTimeInMillis?: () => number },
): Promise<NotifySummary> {
  const settings = readSharedEnv(process.env);
  const secrets = await loadAwsSecrets(settings.secretIds, new SecretsManagerClient({}));
  const job = new NotifyJob({
    client: createDynamoClient(),
    tableName: settings.tableName,
    issuer: settings.issuer,
    secrets,
    privateRpHosts: settings.privateRpHosts,
    timeLeftMs: () => (context?.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY) - NOTIFY_RESERVE_MS,
  });
  return job.run();
}

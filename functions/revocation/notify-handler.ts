/**
 * The scheduled revocation notification job on AWS Lambda (an EventBridge rule invokes it):
 *   OP_ISSUER      the OP's issuer (iss of logout tokens), required
 *   OP_TABLE_NAME  the OP's table, required
 *   OP_SECRET_ID   the OP's Secrets Manager secret (signing keys, subject secret), required
 * One run per invocation; it stops starting new work a minute before the Lambda's timeout and the
 * next run continues (notification/notify-job.ts). A failed run throws (Lambda errors alarm).
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { OpConfigError } from '../op/config.js';
import { loadAwsSecrets } from '../secrets/aws-secrets.js';
import { createDynamoClient } from '../storage/dynamo-client.js';
import { NotifyJob, type NotifySummary } from './notification/notify-job.js';

/** Time kept free at the end of an invocation, ms. */
const RESERVE_MS = 60_000;

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new OpConfigError(`environment variable ${name} is required`);
  return value;
}

/** The Lambda entry point (the event is ignored). */
export async function handler(
  _event: unknown,
  context?: { getRemainingTimeInMillis?: () => number },
): Promise<NotifySummary> {
  const env = process.env;
  const secrets = await loadAwsSecrets(required(env, 'OP_SECRET_ID'), new SecretsManagerClient({}));
  const job = new NotifyJob({
    client: createDynamoClient(),
    tableName: required(env, 'OP_TABLE_NAME'),
    issuer: required(env, 'OP_ISSUER'),
    secrets,
    timeLeftMs: () => (context?.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY) - RESERVE_MS,
  });
  return job.run();
}

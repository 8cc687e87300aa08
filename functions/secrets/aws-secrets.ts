/** Secrets for AWS: one Secrets Manager secret holding the JSON of op-secrets.ts. */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type OpSecrets, parseSecrets, SecretsError } from './op-secrets.js';

/**
 * Reads and validates the secret `secretId` (name or ARN). Call once per cold start and keep the
 * result (lambda.ts does); a missing or binary secret throws SecretsError(SECRETS_UNAVAILABLE).
 */
export async function loadAwsSecrets(secretId: string, client: SecretsManagerClient): Promise<OpSecrets> {
  let text: string | undefined;
  try {
    ({ SecretString: text } = await client.send(new GetSecretValueCommand({ SecretId: secretId })));
  } catch (error) {
    throw new SecretsError('SECRETS_UNAVAILABLE', `cannot read secret ${secretId}`, { cause: error });
  }
  if (text === undefined)
    throw new SecretsError('SECRETS_UNAVAILABLE', `secret ${secretId} has no string value`);
  return parseSecrets(text);
}

/**
 * Secrets on AWS: one Secrets Manager secret per purpose (op-secrets.ts) — the signing secret
 * (`{ jwks, cookieKeys }`), the certificate-key secret and the pairwise secret — so each role is
 * granted only the secrets it reads. A single secret holding every part (a deployment made before
 * the split, or a test) is read when no identity secret ids are given.
 *
 * Secrets are read through a SecretSource: the SDK's SecretsManagerClient (the CLI, the other
 * Lambdas, tests), loaded only when one is given, or a SecretReader — the OP Lambda's own signed
 * request (secrets-manager-http.ts), which keeps the SDK client out of its cold start.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  type IdentitySecretField,
  type OpSecrets,
  parseIdentitySecret,
  parseSecrets,
  parseSigningSecrets,
  SecretsError,
} from './op-secrets.js';
import { type SecretReader, SecretsManagerRequestError } from './secrets-manager-http.js';

/** The secrets (names or ARNs) one role reads. */
export interface AwsSecretIds {
  /** The signing secret; alone, a single secret holding every part. */
  readonly signing: string;
  readonly certificateKey?: string;
  readonly pairwise?: string;
}

/** What secrets are read through: the SDK's client, or a SecretReader. */
export type SecretSource = SecretsManagerClient | SecretReader;

async function secretStringOf(
  secretId: string,
  source: SecretSource,
  versionStage: string | undefined,
): Promise<string | undefined> {
  if ('readSecret' in source) return source.readSecret(secretId, versionStage);
  const { GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const { SecretString } = await source.send(
    new GetSecretValueCommand({
      SecretId: secretId,
      ...(versionStage ? { VersionStage: versionStage } : {}),
    }),
  );
  return SecretString;
}

/**
 * The string value of `secretId` at `versionStage` (default AWSCURRENT); a missing or binary
 * secret throws SecretsError(SECRETS_UNAVAILABLE). Never logs or returns anything but the value.
 */
export async function readSecretString(
  secretId: string,
  client: SecretSource,
  versionStage?: string,
): Promise<string> {
  let text: string | undefined;
  try {
    text = await secretStringOf(secretId, client, versionStage);
  } catch (error) {
    throw new SecretsError('SECRETS_UNAVAILABLE', `cannot read secret ${secretId}`, { cause: error });
  }
  if (text === undefined)
    throw new SecretsError('SECRETS_UNAVAILABLE', `secret ${secretId} has no string value`);
  return text;
}

/**
 * Reads and validates the OP's secrets (`ids.signing` alone: one secret with every part). Call
 * once per cold start and keep the result (lambda.ts does).
 */
export async function loadAwsSecrets(ids: AwsSecretIds, client: SecretSource): Promise<OpSecrets> {
  if ((ids.certificateKey === undefined) !== (ids.pairwise === undefined)) {
    throw new SecretsError('SECRETS_MALFORMED', 'give both identity secret ids, or neither');
  }
  if (ids.certificateKey === undefined || ids.pairwise === undefined) {
    return parseSecrets(await readSecretString(ids.signing, client));
  }
  const [signing, certificateKeySecret, pairwiseSecret] = await Promise.all([
    readSecretString(ids.signing, client).then(parseSigningSecrets),
    loadIdentitySecret(ids.certificateKey, 'certificateKeySecret', client),
    loadIdentitySecret(ids.pairwise, 'pairwiseSecret', client),
  ]);
  return { jwks: signing.jwks, cookieKeys: signing.cookieKeys, certificateKeySecret, pairwiseSecret };
}

/** One identity secret from its own secret (or from a single secret holding every part). */
export async function loadIdentitySecret(
  secretId: string,
  field: IdentitySecretField,
  client: SecretSource,
): Promise<Uint8Array> {
  return parseIdentitySecret(await readSecretString(secretId, client), field);
}

/**
 * True when `error` (or its cause) says the secret has no value at the asked stage yet — created
 * without a version, or no AWSPREVIOUS — from the SDK client or from a SecretReader.
 */
export function isMissingSecretValue(error: unknown): boolean {
  const cause = (error as { cause?: unknown })?.cause ?? error;
  return (
    (cause as { name?: string })?.name === 'ResourceNotFoundException' ||
    (cause instanceof SecretsManagerRequestError && cause.errorType === 'ResourceNotFoundException')
  );
}

/**
 * Secrets on AWS: one Secrets Manager secret per purpose (op-secrets.ts) — the signing secret
 * (`{ jwks, cookieKeys }`), the certificate-key secret and the pairwise secret — so each role is
 * granted only the secrets it reads. A single secret holding every part (a deployment made before
 * the split, or a test) is read when no identity secret ids are given.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  type IdentitySecretField,
  type OpSecrets,
  parseIdentitySecret,
  parseSecrets,
  parseSigningSecrets,
  SecretsError,
} from './op-secrets.js';

/** The secrets (names or ARNs) one role reads. */
export interface AwsSecretIds {
  /** The signing secret; alone, a single secret holding every part. */
  readonly signing: string;
  readonly certificateKey?: string;
  readonly pairwise?: string;
}

/**
 * The string value of `secretId` at `versionStage` (default AWSCURRENT); a missing or binary
 * secret throws SecretsError(SECRETS_UNAVAILABLE). Never logs or returns anything but the value.
 */
export async function readSecretString(
  secretId: string,
  client: SecretsManagerClient,
  versionStage?: string,
): Promise<string> {
  let text: string | undefined;
  try {
    ({ SecretString: text } = await client.send(
      new GetSecretValueCommand({
        SecretId: secretId,
        ...(versionStage ? { VersionStage: versionStage } : {}),
      }),
    ));
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
export async function loadAwsSecrets(ids: AwsSecretIds, client: SecretsManagerClient): Promise<OpSecrets> {
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
  client: SecretsManagerClient,
): Promise<Uint8Array> {
  return parseIdentitySecret(await readSecretString(secretId, client), field);
}

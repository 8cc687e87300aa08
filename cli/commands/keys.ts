/**
 * `myna-oidc keys rotate|list|drop-legacy-subject-secret`: token-signing key rotation, for a local
 * data folder or for the deployed stack's signing secret — one code path over a SecretStore — and
 * the last step of the secret split of a deployment made before it (issue #13). Each rotation
 * publishes a new key before it signs anything (status `next`), promotes the previous `next` key
 * to `active` and keeps the old active key published as `retiring` until the rotation after, so
 * tokens it signed keep verifying. The OP reads its secrets once per start (Lambda: per cold
 * start), so it must be restarted (Lambda: new execution environments) to load the result.
 */

import { timingSafeEqual } from 'node:crypto';
import { parseArgs } from 'node:util';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { loadIdentitySecret, readSecretString } from '../../functions/secrets/aws-secrets.js';
import { parseSigningSecrets, serializeSigningSecrets } from '../../functions/secrets/op-secrets.js';
import { awsSecretStore, localSecretStore, type SecretStore } from '../../functions/secrets/secret-store.js';
import { rotateSigningKeys } from '../../functions/secrets/signing-keys.js';
import { type CliIo, ExitCode, UsageError } from '../io.js';

export const keysUsage = `Usage:
  myna-oidc keys list   [--data <dir> | --secret-id <id> [--region <region>]]
  myna-oidc keys rotate [--data <dir> | --secret-id <id> [--region <region>]]
  myna-oidc keys drop-legacy-subject-secret --secret-id <id> --certificate-key-secret-id <id>
                                            --pairwise-secret-id <id> [--region <region>]

Token-signing keys in <dir>/secrets.json (default .data, the local stack's folder), or with
--secret-id in the deployed stack's Secrets Manager secret (name or ARN: the stack output
SecretId; AWS credentials and region from the usual AWS environment or --region).
rotate: the pending 'next' key becomes 'active' (signs), the active one 'retiring' (still
published), the old retiring one is dropped, and a new 'next' key is published. Run it, restart the
OP (on AWS: force new Lambda environments, see docs/deploy.md), wait at least the longest token
lifetime (14 days for refresh tokens), then rotate again.
drop-legacy-subject-secret: a deployment made before the secret split still has the old
subjectSecret in its signing secret (the stack outputs SecretId, CertificateKeySecretId,
PairwiseSecretId); once the stack update that split it has succeeded, this checks that both
identity secrets hold exactly that value (so no certificate key or sub can change) and removes it.`;

/** Builds the Secrets Manager client for --secret-id (tests replace it to stub the service). */
export type SecretsManagerFactory = (region: string | undefined) => SecretsManagerClient;

let secretsManagerFactory: SecretsManagerFactory = (region) =>
  new SecretsManagerClient(region ? { region } : {});

/** Replaces the Secrets Manager client factory; returns the previous one (for tests). */
export function setSecretsManagerFactory(factory: SecretsManagerFactory): SecretsManagerFactory {
  const previous = secretsManagerFactory;
  secretsManagerFactory = factory;
  return previous;
}

/** Runs `keys <subcommand>`. */
export async function keysCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      data: { type: 'string' },
      'secret-id': { type: 'string' },
      region: { type: 'string' },
      'certificate-key-secret-id': { type: 'string' },
      'pairwise-secret-id': { type: 'string' },
    },
  });
  const [subcommand, ...rest] = positionals;
  if (subcommand === 'drop-legacy-subject-secret' && rest.length === 0)
    return dropLegacySubjectSecret(values, io);
  if (rest.length > 0 || (subcommand !== 'list' && subcommand !== 'rotate')) {
    throw new UsageError('keys needs list, rotate or drop-legacy-subject-secret');
  }
  if (values['certificate-key-secret-id'] !== undefined || values['pairwise-secret-id'] !== undefined) {
    throw new UsageError(
      '--certificate-key-secret-id and --pairwise-secret-id go with drop-legacy-subject-secret',
    );
  }
  const secretId = values['secret-id'];
  if (secretId !== undefined && values.data !== undefined) {
    throw new UsageError('give either --data or --secret-id, not both');
  }
  if (values.region !== undefined && secretId === undefined)
    throw new UsageError('--region needs --secret-id');
  const store: SecretStore =
    secretId === undefined
      ? localSecretStore(values.data ?? '.data')
      : awsSecretStore(secretId, secretsManagerFactory(values.region));

  let secrets = await store.load();
  if (subcommand === 'rotate') {
    secrets = await rotateSigningKeys(secrets);
    await store.save(secrets);
    io.out(
      secretId === undefined
        ? 'Rotated. Restart the OP to publish and use the new key set.'
        : `Rotated ${store.location}. New Lambda environments load it; force them now (docs/deploy.md, "Rotating keys").`,
    );
  }
  for (const key of secrets.jwks.keys) io.out(`${key.alg}  ${key.status.padEnd(8)}  ${key.kid}`);
  return ExitCode.OK;
}

/** `keys drop-legacy-subject-secret`: removes the pre-split subjectSecret once both copies are verified. */
async function dropLegacySubjectSecret(
  values: {
    'secret-id'?: string;
    'certificate-key-secret-id'?: string;
    'pairwise-secret-id'?: string;
    region?: string;
    data?: string;
  },
  io: CliIo,
): Promise<number> {
  const signingId = values['secret-id'];
  const certificateKeyId = values['certificate-key-secret-id'];
  const pairwiseId = values['pairwise-secret-id'];
  if (!signingId || !certificateKeyId || !pairwiseId || values.data !== undefined) {
    throw new UsageError(
      'drop-legacy-subject-secret needs --secret-id, --certificate-key-secret-id and --pairwise-secret-id',
    );
  }
  const client = secretsManagerFactory(values.region);
  const signing = parseSigningSecrets(await readSecretString(signingId, client));
  const legacy = signing.legacySubjectSecret;
  if (!legacy) {
    io.out(`${signingId} holds no subjectSecret: nothing to do.`);
    return ExitCode.OK;
  }
  for (const [id, field] of [
    [certificateKeyId, 'certificateKeySecret'],
    [pairwiseId, 'pairwiseSecret'],
  ] as const) {
    const copy = await loadIdentitySecret(id, field, client);
    if (copy.length !== legacy.length || !timingSafeEqual(copy, legacy)) {
      io.err(
        `${id} does not hold the subjectSecret of ${signingId}: nothing changed (deploy the stack first).`,
      );
      return ExitCode.FAILED;
    }
  }
  await client.send(
    new PutSecretValueCommand({ SecretId: signingId, SecretString: serializeSigningSecrets(signing) }),
  );
  io.out(`Removed the subjectSecret from ${signingId}; the identity secrets hold it.`);
  return ExitCode.OK;
}

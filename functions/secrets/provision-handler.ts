/**
 * The deploy-time custom resource that fills the OP's Secrets Manager secrets (issues #5, #13).
 *
 * The stack creates three secrets EMPTY (no version): the signing secret (`{ jwks, cookieKeys }`),
 * the certificate-key secret and the pairwise secret (op-secrets.ts). On Create and Update this
 * handler fills whichever has no value yet, and never overwrites one that has:
 * - a new deployment gets fresh signing keys and two independent random identity secrets; the
 *   identity secrets are written first and the signing secret last, so a run cut short is finished
 *   by the next one with nothing used in between (the functions depend on this resource);
 * - a deployment made before the split has one secret `{ jwks, cookieKeys, subjectSecret }` (the
 *   signing secret's resource): its subjectSecret is copied, byte for byte, into both identity
 *   secrets (legacyIdentitySecrets), so every certificate key and every `sub` stays what it was. The
 *   old field is left in place (a rollback to the previous code still finds it); `myna-oidc keys
 *   drop-legacy-subject-secret` removes it once the new code runs (docs/deploy.md).
 * - an identity secret that is missing while the signing secret exists without a subjectSecret
 *   is refused: generating one would silently change every certificate key or `sub`. So is an
 *   identity secret whose value differs from the pre-split subjectSecret.
 *
 * Each first write uses a fixed ClientRequestToken, so even two racing invocations cannot create
 * two different first versions (Secrets Manager refuses a reused token with another value).
 * Delete does nothing: the secrets are retained with the stack's data (RemovalPolicy.RETAIN).
 *
 * The values go from the generators straight into PutSecretValue: never into the template, the
 * response to CloudFormation, an environment variable or a log line.
 *
 * It is a plain Lambda-backed custom resource (no provider framework): the handler answers
 * CloudFormation itself by PUTting the result to the pre-signed ResponseURL, and always answers,
 * also on failure, so a stack operation never hangs.
 */
import { timingSafeEqual } from 'node:crypto';
import { request } from 'node:https';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { isMissingSecretValue, readSecretString } from './aws-secrets.js';
import { generateSigningSecrets } from './local-secrets.js';
import {
  generateIdentitySecrets,
  type IdentitySecretField,
  type IdentitySecrets,
  parseIdentitySecret,
  parseSigningSecrets,
  type SigningSecrets,
  type StoredSigningSecrets,
  serializeIdentitySecret,
  serializeSigningSecrets,
} from './op-secrets.js';

/** The ClientRequestToken of each secret's first version (32–64 characters, as Secrets Manager requires). */
export const INITIAL_VERSION_TOKEN = 'myna-oidc-initial-secrets-version-0001';

/** The secrets the custom resource fills (its properties). */
export interface ProvisionedSecretIds {
  readonly SigningSecretId?: string;
  readonly CertificateKeySecretId?: string;
  readonly PairwiseSecretId?: string;
}

/** The CloudFormation custom resource request (the fields this handler uses). */
export interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: ProvisionedSecretIds;
}

/** The answer CloudFormation expects at ResponseURL. */
export interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly Data?: Record<string, string>;
}

/** What provisioning did: everything new, the pre-split secret split, or nothing to do. */
export type ProvisionOutcome = 'generated' | 'split' | 'kept';

/** Generators of new values (tests pass their own). */
export interface SecretGenerators {
  readonly signing: () => Promise<SigningSecrets>;
  readonly identity: () => IdentitySecrets;
}

const GENERATORS: SecretGenerators = { signing: generateSigningSecrets, identity: generateIdentitySecrets };

/** The value of `secretId`, or undefined when it has none yet. */
async function currentValue(secretId: string, client: SecretsManagerClient): Promise<string | undefined> {
  try {
    return await readSecretString(secretId, client);
  } catch (error) {
    if (isMissingSecretValue(error)) return undefined;
    throw error;
  }
}

/** Parses a stored value with `parse`; a value it refuses is reported (by field names only) and left alone. */
function storedValue<T>(secretId: string, text: string, parse: (text: string) => T): T {
  try {
    return parse(text);
  } catch (error) {
    // Reason only: the message of SecretsError names fields, never values.
    throw new Error(`secret ${secretId} holds a value that is not the OP's secrets JSON; not touched`, {
      cause: error,
    });
  }
}

async function putFirstVersion(secretId: string, value: string, client: SecretsManagerClient): Promise<void> {
  await client.send(
    new PutSecretValueCommand({
      SecretId: secretId,
      SecretString: value,
      ClientRequestToken: INITIAL_VERSION_TOKEN,
    }),
  );
}

/**
 * Fills the three secrets as described above; returns what it did. Throws (touching nothing more)
 * on a stored value that is not the OP's, or on an identity secret that cannot be kept stable.
 */
export async function provisionSecrets(
  ids: Required<ProvisionedSecretIds>,
  client: SecretsManagerClient,
  generators: SecretGenerators = GENERATORS,
): Promise<ProvisionOutcome> {
  const signingText = await currentValue(ids.SigningSecretId, client);
  const signing: StoredSigningSecrets | undefined =
    signingText === undefined
      ? undefined
      : storedValue(ids.SigningSecretId, signingText, parseSigningSecrets);
  const legacy = signing?.legacySubjectSecret;
  const fresh = generators.identity();
  let wrote = false;
  const identity: [IdentitySecretField, string][] = [
    ['certificateKeySecret', ids.CertificateKeySecretId],
    ['pairwiseSecret', ids.PairwiseSecretId],
  ];
  for (const [field, secretId] of identity) {
    const text = await currentValue(secretId, client);
    if (text !== undefined) {
      const value = storedValue(secretId, text, (stored) => parseIdentitySecret(stored, field));
      if (legacy && !sameBytes(value, legacy)) {
        throw new Error(`secret ${secretId} differs from the pre-split subjectSecret; not touched`);
      }
      continue;
    }
    if (signing && !legacy) {
      throw new Error(
        `secret ${secretId} (${field}) has no value but the deployment is provisioned: restore it (a new value would change every certificate key or sub)`,
      );
    }
    await putFirstVersion(secretId, serializeIdentitySecret(field, legacy ?? fresh[field]), client);
    wrote = true;
  }
  if (!signing) {
    await putFirstVersion(ids.SigningSecretId, serializeSigningSecrets(await generators.signing()), client);
    return 'generated';
  }
  return wrote ? 'split' : 'kept';
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** PUTs the response body to CloudFormation's pre-signed S3 URL. */
export function putResponse(url: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'PUT', headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode !== undefined && res.statusCode < 300
            ? resolve()
            : reject(new Error(`CloudFormation response PUT answered ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The handler's collaborators (tests pass fakes). */
export interface ProvisionDeps {
  readonly client: SecretsManagerClient;
  readonly respond: (url: string, body: string) => Promise<void>;
  readonly generators?: SecretGenerators;
  readonly log?: (line: Record<string, unknown>) => void;
}

const jsonLog = (line: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...line })}\n`);
};

/** Builds the custom resource handler around `deps`. */
export function createProvisionHandler(deps: ProvisionDeps): (event: CustomResourceEvent) => Promise<void> {
  const log = deps.log ?? jsonLog;
  return async (event) => {
    const ids = event.ResourceProperties;
    const secretId = ids.SigningSecretId;
    let status: CustomResourceResponse['Status'] = 'SUCCESS';
    let reason: string | undefined;
    let outcome: ProvisionOutcome | 'retained' = 'retained';
    try {
      if (event.RequestType !== 'Delete') {
        const { SigningSecretId, CertificateKeySecretId, PairwiseSecretId } = ids;
        if (!SigningSecretId || !CertificateKeySecretId || !PairwiseSecretId) {
          throw new Error(
            'properties SigningSecretId, CertificateKeySecretId and PairwiseSecretId are required',
          );
        }
        outcome = await provisionSecrets(
          { SigningSecretId, CertificateKeySecretId, PairwiseSecretId },
          deps.client,
          deps.generators,
        );
      }
    } catch (error) {
      status = 'FAILED';
      reason = error instanceof Error ? error.message : 'provisioning failed';
    }
    log({
      level: status === 'SUCCESS' ? 'info' : 'error',
      event: status === 'SUCCESS' ? `secret.${outcome}` : 'secret.provision_failed',
      requestType: event.RequestType,
      secretIds: [ids.SigningSecretId, ids.CertificateKeySecretId, ids.PairwiseSecretId],
      ...(reason ? { reason } : {}),
    });
    const response: CustomResourceResponse = {
      Status: status,
      ...(reason ? { Reason: reason } : {}),
      PhysicalResourceId: event.PhysicalResourceId ?? secretId ?? event.LogicalResourceId,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      ...(status === 'SUCCESS' ? { Data: { Outcome: outcome } } : {}),
    };
    await deps.respond(event.ResponseURL, JSON.stringify(response));
  };
}

/** The Lambda entry point. */
export const handler = createProvisionHandler({ client: new SecretsManagerClient({}), respond: putResponse });

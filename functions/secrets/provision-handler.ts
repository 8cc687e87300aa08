/**
 * The deploy-time custom resource that fills the OP's Secrets Manager secret (issue #5).
 *
 * The stack creates the secret EMPTY (no version); on Create and Update this handler reads it and,
 * only when it has no value yet, generates fresh OpSecrets (generateSecrets: one active signing key
 * per algorithm, a cookie key, a 32-byte subject secret) and writes them with PutSecretValue. A
 * secret that already has a value is never overwritten: the subject secret behind every account
 * key and pairwise `sub` must outlive any redeploy, and rotated signing keys must survive one.
 *
 * The initial write uses a fixed ClientRequestToken, so even two racing invocations cannot create
 * two different first versions (Secrets Manager refuses a reused token with another value).
 * Delete does nothing: the secret is retained with the stack's data (RemovalPolicy.RETAIN).
 *
 * The values go from generateSecrets() straight into PutSecretValue: never into the template, the
 * response to CloudFormation, an environment variable or a log line.
 *
 * It is a plain Lambda-backed custom resource (no provider framework): the handler answers
 * CloudFormation itself by PUTting the result to the pre-signed ResponseURL, and always answers,
 * also on failure, so a stack operation never hangs.
 */
import { request } from 'node:https';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { generateSecrets } from './local-secrets.js';
import { type OpSecrets, parseSecrets, serializeSecrets } from './op-secrets.js';
import { isMissingSecretValue } from './secret-store.js';

/** The ClientRequestToken of the first version (32–64 characters, as Secrets Manager requires). */
export const INITIAL_VERSION_TOKEN = 'myna-oidc-initial-secrets-version-0001';

/** The CloudFormation custom resource request (the fields this handler uses). */
export interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: { readonly SecretId?: string };
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

/** What provisioning did. */
export type ProvisionOutcome = 'generated' | 'kept';

/**
 * Fills `secretId` with generated secrets when it has no value; keeps any existing value (and
 * refuses, without touching it, one that is not valid OpSecrets JSON).
 */
export async function provisionSecret(
  secretId: string,
  client: SecretsManagerClient,
  generate: () => Promise<OpSecrets> = generateSecrets,
): Promise<ProvisionOutcome> {
  let existing: { SecretString?: string; SecretBinary?: Uint8Array } | undefined;
  try {
    existing = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  } catch (error) {
    if (!isMissingSecretValue(error)) throw error;
  }
  if (existing) {
    if (existing.SecretString === undefined)
      throw new Error(`secret ${secretId} holds a binary value, not the OP's secrets JSON; not touched`);
    try {
      parseSecrets(existing.SecretString);
    } catch (error) {
      // Reason only: the message of SecretsError names fields, never values.
      throw new Error(`secret ${secretId} holds a value that is not the OP's secrets JSON; not touched`, {
        cause: error,
      });
    }
    return 'kept';
  }
  await client.send(
    new PutSecretValueCommand({
      SecretId: secretId,
      SecretString: serializeSecrets(await generate()),
      ClientRequestToken: INITIAL_VERSION_TOKEN,
    }),
  );
  return 'generated';
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
  readonly generate?: () => Promise<OpSecrets>;
  readonly log?: (line: Record<string, unknown>) => void;
}

const jsonLog = (line: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...line })}\n`);
};

/** Builds the custom resource handler around `deps`. */
export function createProvisionHandler(deps: ProvisionDeps): (event: CustomResourceEvent) => Promise<void> {
  const log = deps.log ?? jsonLog;
  return async (event) => {
    const secretId = event.ResourceProperties.SecretId;
    let status: CustomResourceResponse['Status'] = 'SUCCESS';
    let reason: string | undefined;
    let outcome: ProvisionOutcome | 'retained' = 'retained';
    try {
      if (event.RequestType !== 'Delete') {
        if (!secretId) throw new Error('property SecretId is required');
        outcome = await provisionSecret(secretId, deps.client, deps.generate);
      }
    } catch (error) {
      status = 'FAILED';
      reason = error instanceof Error ? error.message : 'provisioning failed';
    }
    log({
      level: status === 'SUCCESS' ? 'info' : 'error',
      event: status === 'SUCCESS' ? `secret.${outcome}` : 'secret.provision_failed',
      requestType: event.RequestType,
      secretId,
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

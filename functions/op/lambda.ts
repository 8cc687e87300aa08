/**
 * The OP on AWS Lambda behind an API Gateway HTTP API (payload format 2.0).
 *
 * serverless-http rather than an own adapter: turning v2 events into Node requests and back has
 * many small rules — cookies arrive in `event.cookies` and must be re-joined into a Cookie header,
 * several Set-Cookie headers must go to `cookies` in the result, base64 bodies, multi-value query
 * strings, rawPath vs. stage — which serverless-http (small, no dependencies, widely used) already
 * gets right for a Koa/Node listener such as oidc-provider's.
 *
 * Configuration is read once per cold start (lambda-env.ts), secrets fetched once from Secrets
 * Manager with one signed request of its own (secrets/secrets-manager-http.ts: the SDK client's
 * first call cost the cold start ~18 ms more), while the trust anchors are read and parsed; a
 * failed cold start is retried on the next invocation. The start-up listing of clients
 * (only for the raw-serial warning, provider.ts) waits until the first invocation has been
 * answered: it is the DynamoDB client's first request (credentials, endpoint, signing, HTTP
 * agent), whose CPU would otherwise run before that answer on the instance's one thread.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import serverless from 'serverless-http';
import { NO_PREDECESSORS } from '../accounts/account-store.js';
import { FileCertificateLinkSource } from '../jpki/certificate-links.js';
import { decodePemOrDer } from '../jpki/pem.js';
import { combineTrustAnchors, loadTrustAnchors } from '../jpki/trust-anchors.js';
import { stderrLogger } from '../log/logger.js';
import { CrlStore } from '../revocation/crl-store.js';
import { revocationSourceFor } from '../revocation/policy.js';
import { loadAwsSecrets } from '../secrets/aws-secrets.js';
import { secretsManagerReader } from '../secrets/secrets-manager-http.js';
import { createDynamoClient } from '../storage/dynamo-client.js';
import { createOpApp } from './app.js';
import type { OpConfig } from './config.js';
import { dynamoStorage } from './dynamo-storage.js';
import { readLambdaEnv } from './lambda-env.js';
import { clientAddressHeaderFor, lambdaOriginGuard } from './origin-verify.js';

type Handler = serverless.Handler;

/** A file deployed with the code: `path` relative to LAMBDA_TASK_ROOT (or absolute). */
function deployedFile(env: NodeJS.ProcessEnv, path: string): string {
  return isAbsolute(path) ? path : join(env.LAMBDA_TASK_ROOT ?? process.cwd(), path);
}

/** Builds the OP configuration from the environment and AWS (one cold start). */
export async function lambdaConfig(env: NodeJS.ProcessEnv = process.env): Promise<OpConfig> {
  const settings = readLambdaEnv(env);
  // The secret's round trip runs while the trust anchors are read and parsed and the DynamoDB
  // client is made. Marked handled at once: a failure of those must not leave it unhandled.
  const secretsRead = loadAwsSecrets(settings.secretIds, secretsManagerReader({ env }));
  secretsRead.catch(() => undefined);
  const [anchorsFile, signingAnchorsFile] = await Promise.all([
    readFile(deployedFile(env, settings.trustAnchorsFile)),
    settings.signingTrustAnchorsFile && readFile(deployedFile(env, settings.signingTrustAnchorsFile)),
  ]);
  const trustAnchors = loadTrustAnchors(decodePemOrDer(anchorsFile, 'CERTIFICATE'));
  // Identity verification (issue #14) only with signing CAs; the revocation source knows both.
  const signingTrustAnchors = signingAnchorsFile
    ? loadTrustAnchors(decodePemOrDer(signingAnchorsFile, 'CERTIFICATE'))
    : undefined;
  const client = createDynamoClient();
  const secrets = await secretsRead;
  const revocation = await revocationSourceFor(
    {
      policy: settings.revocationPolicy,
      crlFiles: settings.crlFiles.map((path) => deployedFile(env, path)),
      crlGraceSeconds: settings.crlGraceSeconds,
      ocspUrl: settings.ocspUrl,
      ocspTimeoutMs: settings.ocspTimeoutMs,
      clockSkewSeconds: settings.clockSkewSeconds,
    },
    {
      trustAnchors: signingTrustAnchors
        ? combineTrustAnchors(trustAnchors, signingTrustAnchors)
        : trustAnchors,
      crlStore: new CrlStore({ client, tableName: settings.tableName }),
      certificateKeySecret: secrets.certificateKeySecret,
      logger: stderrLogger,
    },
  );
  return {
    issuer: settings.issuer,
    trustAnchors,
    ...(signingTrustAnchors ? { signingTrustAnchors } : {}),
    identity: {
      ...settings.identity,
      ...(settings.certificateLinks
        ? {
            links: new FileCertificateLinkSource(deployedFile(env, settings.certificateLinks.file), {
              authoritative: settings.certificateLinks.authoritative,
            }),
          }
        : {}),
    },
    revocation,
    allowUnknownRevocation: settings.allowUnknownRevocation,
    clockSkewSeconds: settings.clockSkewSeconds,
    helperPort: settings.helperPort,
    helperGuideUrl: settings.helperGuideUrl,
    privateRpHosts: settings.privateRpHosts,
    limits: settings.limits,
    // Behind CloudFront the peer is an edge server; the origin guard admits only requests that
    // came through CloudFront, which sets this header itself.
    clientAddressHeader: clientAddressHeaderFor(env),
    secrets,
    storage: dynamoStorage({
      client,
      tableName: settings.tableName,
      certificateKeySecret: secrets.certificateKeySecret,
      predecessors: NO_PREDECESSORS,
      accountRetentionDays: settings.accountRetentionDays,
      releaseHistoryRetentionDays: settings.releaseHistoryRetentionDays,
    }),
  };
}

/** Wraps the OP built from `config` as an API Gateway v2 handler. */
export async function createLambdaHandler(config: OpConfig): Promise<Handler> {
  const { listener } = await createOpApp(config);
  return serverless(await lambdaOriginGuard(listener), { provider: 'aws' });
}

/** `config` whose client listing starts only once `after` has settled. */
export function listingClientsAfter(config: OpConfig, after: Promise<void>): OpConfig {
  const { clients } = config.storage;
  return {
    ...config,
    storage: { ...config.storage, clients: { list: () => after.then(() => clients.list()) } },
  };
}

let ready: Promise<Handler> | undefined;
/** Settles when the first invocation of this instance has been answered (or has failed). */
let markFirstAnswered: () => void = () => undefined;
const firstAnswered = new Promise<void>((resolve) => {
  markFirstAnswered = resolve;
});

/** The Lambda entry point. */
export const handler: Handler = async (event, context) => {
  ready ??= lambdaConfig().then((config) => createLambdaHandler(listingClientsAfter(config, firstAnswered)));
  try {
    return await (await ready)(event, context);
  } catch (error) {
    ready = undefined;
    throw error;
  } finally {
    markFirstAnswered();
  }
};

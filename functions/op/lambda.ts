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
 * Manager; a failed cold start is retried on the next invocation.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import serverless from 'serverless-http';
import { decodePemOrDer } from '../jpki/pem.js';
import { loadTrustAnchors, type TrustAnchors } from '../jpki/trust-anchors.js';
import { CrlStore } from '../revocation/crl-store.js';
import { MemoryCrlSource } from '../revocation/memory-crl-source.js';
import { OcspSource } from '../revocation/ocsp-source.js';
import { createRevocationSource } from '../revocation/policy.js';
import type { RevocationSource } from '../revocation/revocation-source.js';
import { StoredCrlSource } from '../revocation/stored-crl-source.js';
import { loadAwsSecrets } from '../secrets/aws-secrets.js';
import { createDynamoClient } from '../storage/dynamo-client.js';
import { createOpApp } from './app.js';
import type { OpConfig } from './config.js';
import { dynamoStorage, NO_PREDECESSORS } from './dynamo-storage.js';
import { type LambdaEnv, readLambdaEnv } from './lambda-env.js';
import { type OpLogger, stderrLogger } from './log.js';

type Handler = serverless.Handler;

function deployedFile(path: string): string {
  return isAbsolute(path) ? path : join(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), path);
}

/** Builds the OP configuration from the environment and AWS (one cold start). */
export async function lambdaConfig(env: NodeJS.ProcessEnv = process.env): Promise<OpConfig> {
  const settings = readLambdaEnv(env);
  const secrets = await loadAwsSecrets(settings.secretId, new SecretsManagerClient({}));
  const trustAnchors = loadTrustAnchors(
    decodePemOrDer(await readFile(deployedFile(settings.trustAnchorsFile)), 'CERTIFICATE'),
  );
  const client = createDynamoClient();
  const revocation = await revocationSource(settings, trustAnchors, client, secrets.subjectSecret);
  return {
    issuer: settings.issuer,
    trustAnchors,
    revocation,
    allowUnknownRevocation: settings.allowUnknownRevocation,
    clockSkewSeconds: settings.clockSkewSeconds,
    helperPort: settings.helperPort,
    helperGuideUrl: settings.helperGuideUrl,
    secrets,
    storage: dynamoStorage({
      client,
      tableName: settings.tableName,
      subjectSecret: secrets.subjectSecret,
      predecessors: NO_PREDECESSORS,
    }),
  };
}

/**
 * The revocation source of OP_REVOCATION_POLICY: CRLs from OP_CRL_FILES in memory when given,
 * else the CRLs imported into the table; OCSP from OP_OCSP_URL or the certificate's AIA.
 */
export async function revocationSource(
  settings: LambdaEnv,
  trustAnchors: TrustAnchors,
  client: DynamoDBClient,
  subjectSecret: Uint8Array,
  logger: Pick<OpLogger, 'warn'> = stderrLogger,
): Promise<RevocationSource> {
  const policy = settings.revocationPolicy;
  let crl: RevocationSource | undefined;
  if (policy === 'crl' || policy === 'ocsp-then-crl') {
    if (settings.crlFiles.length > 0) {
      const memory = new MemoryCrlSource(trustAnchors);
      for (const path of settings.crlFiles) {
        for (const der of decodePemOrDer(await readFile(deployedFile(path.trim())), 'X509 CRL'))
          memory.load(der);
      }
      crl = memory;
    } else {
      crl = new StoredCrlSource({
        store: new CrlStore({ client, tableName: settings.tableName }),
        secret: subjectSecret,
        graceSeconds: settings.crlGraceSeconds ?? 0,
      });
    }
  }
  const ocsp =
    policy === 'ocsp' || policy === 'ocsp-then-crl'
      ? new OcspSource({ responderUrl: settings.ocspUrl, timeoutMs: settings.ocspTimeoutMs })
      : undefined;
  return createRevocationSource(policy, { crl, ocsp, logger });
}

/** Wraps the OP built from `config` as an API Gateway v2 handler. */
export async function createLambdaHandler(config: OpConfig): Promise<Handler> {
  const { listener } = await createOpApp(config);
  return serverless(listener, { provider: 'aws' });
}

let ready: Promise<Handler> | undefined;

/** The Lambda entry point. */
export const handler: Handler = async (event, context) => {
  ready ??= lambdaConfig().then(createLambdaHandler);
  try {
    return await (await ready)(event, context);
  } catch (error) {
    ready = undefined;
    throw error;
  }
};

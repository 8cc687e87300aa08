/**
 * GetSecretValue as one SigV4-signed HTTPS request, without the AWS SDK's Secrets Manager client:
 * the OP Lambda reads its secrets on every cold start, before it can answer anything, and the SDK
 * client's first call there (its configuration chains, credential providers, middleware stack and
 * endpoint rules, all run and compiled for the first time) measured ~18 ms more CPU than this
 * request (bench `coldstart`). The signing is the SDK's own signer (@smithy/signature-v4), the DNS
 * suffix of the region's partition the SDK's table (@aws-sdk/core `partition()`); the rest is a
 * JSON POST over node:https, as the SDK sends it (`X-Amz-Target: secretsmanager.GetSecretValue`).
 *
 * Configuration comes from the environment, as the SDK reads it and as the Lambda runtime sets it:
 *   AWS_REGION (or AWS_DEFAULT_REGION)               the region, required
 *   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,        the execution role's credentials (the runtime
 *   AWS_SESSION_TOKEN                                sets them; no profile, container or IMDS
 *                                                    lookup: elsewhere, use the SDK client)
 *   AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL  an endpoint override (first one set wins)
 *   AWS_USE_FIPS_ENDPOINT, AWS_USE_DUALSTACK_ENDPOINT   "true": the FIPS / dual-stack endpoint
 *                                                    `secretsmanager[-fips].<region>.<suffix>`;
 *                                                    a partition with other rules needs the override
 * Retries as the SDK's standard mode (defaults.ts SECRETS_MANAGER_REQUEST): network errors, 5xx
 * and throttling, with full-jitter exponential backoff; each attempt has a timeout.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { partition } from '@aws-sdk/core/client';
import { SignatureV4 } from '@smithy/signature-v4';
import { SECRETS_MANAGER_REQUEST } from '../defaults.js';

/** Reads one version of a secret's string value (undefined: the secret holds binary data). */
export interface SecretReader {
  readSecret(secretId: string, versionStage?: string): Promise<string | undefined>;
}

/**
 * A GetSecretValue request that failed: `errorType` is the service's error code when it sent one,
 * `ConfigurationError` when the environment lacks the region or the credentials.
 */
export class SecretsManagerRequestError extends Error {
  override name = 'SecretsManagerRequestError';
  readonly code = 'SECRETS_MANAGER_REQUEST_FAILED';
  constructor(
    message: string,
    /** The service's error code, e.g. `ResourceNotFoundException`, `AccessDeniedException`. */
    readonly errorType?: string,
    /** The HTTP status, when an answer came. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Worth another attempt: no answer, a server error or throttling (as the SDK's standard mode). */
  get retryable(): boolean {
    return (
      this.status === undefined ||
      this.status >= 500 ||
      this.status === 429 ||
      THROTTLING_TYPES.has(this.errorType ?? '')
    );
  }
}

const THROTTLING_TYPES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
]);

/** The largest answer read (a secret value is at most 64 KiB). */
const MAX_ANSWER_BYTES = 1024 * 1024;

/** What the signer hashes (@smithy/types SourceData). */
type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytesOf(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  return ArrayBuffer.isView(data)
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(data);
}

/** SHA-256 and HMAC-SHA-256 for the signer (its Checksum interface), from node:crypto. */
class NodeSha256 {
  readonly #secret: string | Uint8Array | undefined;
  #hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.#secret = secret === undefined ? undefined : bytesOf(secret);
    this.#hash = this.#fresh();
  }
  update(data: SourceData): void {
    this.#hash.update(bytesOf(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
  reset(): void {
    this.#hash = this.#fresh();
  }
  #fresh(): Hash | Hmac {
    return this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret);
  }
}

/** Options of secretsManagerReader: the Lambda passes its environment; tests also the retry timing. */
export interface SecretsManagerReaderOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly maxAttempts?: number;
  readonly backoffBaseMs?: number;
  readonly attemptTimeoutMs?: number;
}

/** The Secrets Manager endpoint for `env` (see the module comment). */
export function secretsManagerEndpoint(env: NodeJS.ProcessEnv, region: string): URL {
  const override = env.AWS_ENDPOINT_URL_SECRETS_MANAGER || env.AWS_ENDPOINT_URL;
  if (override) return new URL(override);
  const fips = env.AWS_USE_FIPS_ENDPOINT === 'true';
  const dualStack = env.AWS_USE_DUALSTACK_ENDPOINT === 'true';
  const info = partition(region);
  const suffix = dualStack ? info.dualStackDnsSuffix : info.dnsSuffix;
  return new URL(`https://secretsmanager${fips ? '-fips' : ''}.${region}.${suffix}`);
}

/** A SecretReader for the environment's region, credentials and endpoint (see the module comment). */
export function secretsManagerReader(options: SecretsManagerReaderOptions = {}): SecretReader {
  const env = options.env ?? process.env;
  const maxAttempts = options.maxAttempts ?? SECRETS_MANAGER_REQUEST.maxAttempts;
  const backoffBaseMs = options.backoffBaseMs ?? SECRETS_MANAGER_REQUEST.backoffBaseMs;
  const attemptTimeoutMs = options.attemptTimeoutMs ?? SECRETS_MANAGER_REQUEST.attemptTimeoutMs;
  return {
    async readSecret(secretId, versionStage) {
      const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
      const accessKeyId = env.AWS_ACCESS_KEY_ID;
      const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
      if (!region) throw new SecretsManagerRequestError('AWS_REGION is not set', 'ConfigurationError');
      if (!accessKeyId || !secretAccessKey) {
        throw new SecretsManagerRequestError(
          'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set',
          'ConfigurationError',
        );
      }
      const endpoint = secretsManagerEndpoint(env, region);
      const signer = new SignatureV4({
        service: 'secretsmanager',
        region,
        sha256: NodeSha256,
        credentials: { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined },
      });
      const body = JSON.stringify({
        SecretId: secretId,
        ...(versionStage ? { VersionStage: versionStage } : {}),
      });
      for (let attempt = 1; ; attempt++) {
        // Signed per attempt: the signature carries the time.
        const signed = await signer.sign({
          method: 'POST',
          protocol: endpoint.protocol,
          hostname: endpoint.hostname,
          ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
          path: endpoint.pathname,
          headers: {
            host: endpoint.host,
            'content-type': 'application/x-amz-json-1.1',
            'x-amz-target': 'secretsmanager.GetSecretValue',
          },
          body,
        });
        try {
          const answer = await post(endpoint, signed.headers, body, attemptTimeoutMs);
          return answer.SecretString;
        } catch (error) {
          if (!(error instanceof SecretsManagerRequestError) || !error.retryable || attempt >= maxAttempts) {
            throw error;
          }
          await sleep(
            Math.random() * Math.min(SECRETS_MANAGER_REQUEST.maxBackoffMs, backoffBaseMs * 2 ** attempt),
          );
        }
      }
    },
  };
}

/** One POST of `body`; the parsed answer, or SecretsManagerRequestError. */
function post(
  endpoint: URL,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<{ SecretString?: string }> {
  return new Promise((resolve, reject) => {
    const send = endpoint.protocol === 'http:' ? httpRequest : httpsRequest;
    const request = send(endpoint, { method: 'POST', headers, timeout: timeoutMs }, (response) => {
      readAnswer(response).then(resolve, reject);
    });
    request.on('timeout', () => {
      request.destroy(new Error(`no answer within ${timeoutMs} ms`));
    });
    request.on('error', (error) => {
      reject(
        error instanceof SecretsManagerRequestError
          ? error
          : new SecretsManagerRequestError(
              `Secrets Manager request failed: ${error.message}`,
              undefined,
              undefined,
              {
                cause: error,
              },
            ),
      );
    });
    request.end(body);
  });
}

async function readAnswer(response: IncomingMessage): Promise<{ SecretString?: string }> {
  const status = response.statusCode ?? 0;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) {
      response.destroy();
      throw new SecretsManagerRequestError('Secrets Manager answer too large', undefined, status);
    }
    chunks.push(chunk);
  }
  let answer: { SecretString?: unknown; __type?: unknown; message?: unknown; Message?: unknown };
  try {
    answer = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch (error) {
    throw new SecretsManagerRequestError(
      `Secrets Manager answered ${status} with no JSON`,
      undefined,
      status,
      {
        cause: error,
      },
    );
  }
  if (status !== 200) {
    // `__type` may carry the namespace (`com.amazonaws.secretsmanager#ResourceNotFoundException`).
    const header = response.headers['x-amzn-errortype'];
    const type = String(answer.__type ?? (typeof header === 'string' ? header.split(':')[0] : 'UnknownError'))
      .split('#')
      .pop();
    const message = String(answer.message ?? answer.Message ?? '');
    throw new SecretsManagerRequestError(
      `Secrets Manager answered ${status} ${type}: ${message}`,
      type,
      status,
    );
  }
  if (answer.SecretString !== undefined && typeof answer.SecretString !== 'string') {
    throw new SecretsManagerRequestError(
      'Secrets Manager answered a SecretString that is not a string',
      undefined,
      status,
    );
  }
  return { SecretString: answer.SecretString };
}

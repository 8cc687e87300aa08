/**
 * Cold start of the OP's Lambda bundle against a bundled bare oidc-provider, in one run.
 *
 * Both are bundled with the deploy options (functions/op/bundle-options.ts) into bench/.cache/.
 * The OP bundle is the real handler (dist/functions/op/lambda.js, `handler` export), configured only
 * through its environment as on AWS: the SDK's service endpoint variables point DynamoDB at the
 * bench's dynalite and Secrets Manager at a minimal fake in this process that answers
 * GetSecretValue, so the measured cold start includes the secret fetch, the trust-anchor and CRL
 * files and the start-up Query of clients, with no AWS account. Each sample is the wall time from
 * spawning a fresh `node` to its discovery response.
 */
import { spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import {
  OP_LAMBDA_HANDLER,
  opLambdaSplitBuildOptions,
  SPLIT_ENTRY_FILE,
} from '../functions/op/bundle-options.js';
import { type OpSecrets, serializeSecrets } from '../functions/secrets/op-secrets.js';

/** The repository root (this file runs as dist/bench/lambda-coldstart.js). */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where bundles and bench files are kept (gitignored). */
export const CACHE_DIR = join(ROOT, 'bench', '.cache');

/** The files of a split bundle: what a cold start loads, and the chunks loaded on first use. */
export interface BundleFiles {
  /** The entry file and every chunk it imports statically (directly or through another chunk). */
  readonly loaded: readonly string[];
  /** The other chunks: reached only through a dynamic `import()`. */
  readonly lazy: readonly string[];
}

/** The static-import graph of a bundle's outputs (esbuild metafile), as bundle() saves it. */
type ImportGraph = Record<string, string[]>;

function graphFile(name: string): string {
  return join(CACHE_DIR, `${name}.imports.json`);
}

/**
 * The files of the bundle `bundle(…, name)` made (its entry first): the entry and the chunks it
 * imports statically are what every cold start reads and compiles.
 */
export async function bundleFiles(name: string): Promise<BundleFiles> {
  const graph = JSON.parse(await readFile(graphFile(name), 'utf8')) as ImportGraph;
  const entry = join(CACHE_DIR, name, SPLIT_ENTRY_FILE);
  const loaded = new Set<string>([entry]);
  for (const file of loaded) for (const imported of graph[file] ?? []) loaded.add(imported);
  return { loaded: [...loaded], lazy: Object.keys(graph).filter((file) => !loaded.has(file)) };
}

/**
 * Bundles `entry` (relative to the root) into bench/.cache/`name`/ with the deploy options of the
 * OP's Lambda (split: modules loaded on first use are chunks of their own); reuses the last bundle
 * when none of its inputs changed since. Returns the path of the entry file (bundleFiles(name)
 * lists what a cold start loads).
 */
export async function bundle(entry: string, name: string): Promise<string> {
  await mkdir(CACHE_DIR, { recursive: true });
  const outdir = join(CACHE_DIR, name);
  const outfile = join(outdir, SPLIT_ENTRY_FILE);
  const inputsFile = join(CACHE_DIR, `${name}.inputs.json`);
  const built = await stat(outfile).catch(() => undefined);
  const graphSaved = await stat(graphFile(name)).catch(() => undefined);
  if (built) {
    const inputs = JSON.parse(await readFile(inputsFile, 'utf8').catch(() => '[]')) as string[];
    const times = await Promise.all(
      inputs.map((input) =>
        stat(join(ROOT, input)).then(
          (s) => s.mtimeMs,
          () => Infinity,
        ),
      ),
    );
    if (graphSaved && inputs.length > 0 && times.every((time) => time <= built.mtimeMs)) return outfile;
  }
  await rm(outdir, { recursive: true, force: true });
  const result = await build({
    ...opLambdaSplitBuildOptions(join(ROOT, entry), outdir),
    absWorkingDir: ROOT,
    metafile: true,
  });
  await writeFile(inputsFile, JSON.stringify(Object.keys(result.metafile.inputs)));
  const graph: ImportGraph = {};
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    if (!file.endsWith('.mjs')) continue;
    graph[join(ROOT, file)] = output.imports
      .filter((imported) => imported.kind === 'import-statement' && !imported.external)
      .map((imported) => join(ROOT, imported.path));
  }
  await writeFile(graphFile(name), JSON.stringify(graph));
  return outfile;
}

/** Loads bundle argv[1], calls its handler with event argv[3] and prints the status. */
const RUNNER = `
const { [process.argv[2]]: handler } = await import(process.argv[1]);
const result = await handler(JSON.parse(process.argv[3]), { awsRequestId: 'cold', getRemainingTimeInMillis: () => 30000 });
process.stdout.write(JSON.stringify({ status: result.statusCode, body: result.body }) + '\\n');
process.exit(0);
`;

/** An API Gateway HTTP API (payload 2.0) GET event for `url`, with `cookies` and an Accept header. */
export function getEvent(
  url: string | URL,
  { cookies = [], accept = 'application/json' }: { cookies?: readonly string[]; accept?: string } = {},
): object {
  const target = new URL(url);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: target.pathname,
    rawQueryString: target.search.slice(1),
    ...(cookies.length > 0 ? { cookies } : {}),
    headers: { host: target.host, 'x-forwarded-proto': 'https', accept },
    requestContext: {
      accountId: '123456789012',
      apiId: 'bench',
      domainName: target.host,
      domainPrefix: target.host.split('.')[0],
      http: {
        method: 'GET',
        path: target.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: '192.0.2.1',
        userAgent: 'bench',
      },
      requestId: 'cold',
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    isBase64Encoded: false,
  };
}

/** The discovery request's event. */
export function discoveryEvent(issuer: string): object {
  return getEvent(new URL('/.well-known/openid-configuration', issuer));
}

/**
 * Wall time (ms) from spawning `node` on the bundle to its answer to a discovery event; throws
 * unless the answer is 200 with the expected issuer.
 */
export async function coldStartMs(
  bundlePath: string,
  issuer: string,
  env: NodeJS.ProcessEnv,
  handlerName = OP_LAMBDA_HANDLER,
): Promise<number> {
  const event = JSON.stringify(discoveryEvent(issuer));
  const start = process.hrtime.bigint();
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', RUNNER, bundlePath, handlerName, event],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  let answered: bigint | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (answered === undefined && stdout.includes('\n')) answered = process.hrtime.bigint();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, 'close')) as [number | null];
  if (answered === undefined || code !== 0) {
    throw new Error(`cold start of ${bundlePath} failed (exit ${code}): ${stderr.slice(-2000)}`);
  }
  const answer = JSON.parse(stdout.slice(0, stdout.indexOf('\n'))) as { status: number; body?: string };
  const metadata = JSON.parse(answer.body ?? '{}') as { issuer?: string };
  if (answer.status !== 200 || metadata.issuer !== issuer) {
    throw new Error(`cold start of ${bundlePath}: discovery answered ${answer.status} ${answer.body}`);
  }
  return Number(answered - start) / 1e6;
}

/** AWS credentials a fake service checks request signatures with. */
export interface FakeCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** How far a request's X-Amz-Date may be from now, as AWS allows (5 minutes). */
const SIGNATURE_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Why the SigV4 signature of `request` with `body` does not verify against `credentials`, or
 * undefined when it does: computed here from the request as received (a reference
 * implementation of Signature Version 4 on node:crypto, independent of the SDK's signer), with
 * Host, X-Amz-Date and X-Amz-Target required among the signed headers.
 */
export function signatureProblem(
  request: IncomingMessage,
  body: string,
  credentials: FakeCredentials,
  now = Date.now(),
): string | undefined {
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      request.headers.authorization ?? '',
    );
  if (!match) return 'no AWS4-HMAC-SHA256 authorization';
  const [, keyId, day, region, service, signedHeaders, signature] = match as unknown as string[];
  if (keyId !== credentials.accessKeyId) return 'unknown access key';
  const amzDate = String(request.headers['x-amz-date'] ?? '');
  const time = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!time || amzDate.slice(0, 8) !== day) return 'bad X-Amz-Date';
  const [, y, mo, d, h, mi, se] = time.map(Number) as number[];
  if (Math.abs(Date.UTC(y as number, (mo as number) - 1, d, h, mi, se) - now) > SIGNATURE_CLOCK_SKEW_MS) {
    return 'X-Amz-Date too far from now';
  }
  const names = (signedHeaders as string).split(';');
  for (const required of ['host', 'x-amz-date', 'x-amz-target']) {
    if (!names.includes(required)) return `${required} is not signed`;
  }
  const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const canonicalHeaders = names
    .map(
      (name) =>
        `${name}:${String(request.headers[name] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const url = new URL(request.url ?? '/', 'http://fake');
  if (url.search !== '') return 'unexpected query string';
  const canonicalRequest = [
    request.method,
    url.pathname,
    '',
    canonicalHeaders,
    signedHeaders,
    sha256(body),
  ].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  let key = hmac(`AWS4${credentials.secretAccessKey}`, day as string);
  for (const part of [region, service, 'aws4_request'] as string[]) key = hmac(key, part);
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
  return expected === signature ? undefined : 'signature does not match';
}

/**
 * A fake Secrets Manager on 127.0.0.1 that answers GetSecretValue of `secretId` with `secrets`
 * (another id: 400 ResourceNotFoundException, as the service answers). With `credentials`, a
 * request whose SigV4 signature does not verify (signatureProblem) gets 400
 * InvalidSignatureException; the bench gives none, so its measured path is only the answer.
 */
export async function startFakeSecretsManager(
  secretId: string,
  secrets: OpSecrets,
  credentials?: FakeCredentials,
): Promise<{ endpoint: string; close(): Promise<void> }> {
  const secretString = serializeSecrets(secrets);
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      const target = req.headers['x-amz-target'];
      const request = JSON.parse(body || '{}') as { SecretId?: string };
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      const problem = credentials && signatureProblem(req, body, credentials);
      if (problem) {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'InvalidSignatureException', message: problem }));
        return;
      }
      if (target !== 'secretsmanager.GetSecretValue' || request.SecretId !== secretId) {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'not found' }));
        return;
      }
      res.end(
        JSON.stringify({
          ARN: `arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:${secretId}`,
          Name: secretId,
          SecretString: secretString,
          VersionId: '00000000-0000-0000-0000-000000000000',
          VersionStages: ['AWSCURRENT'],
          CreatedDate: Date.now() / 1000,
        }),
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolvePromise) => {
        server.close(() => resolvePromise());
        server.closeAllConnections();
      }),
  };
}

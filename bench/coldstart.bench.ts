/**
 * `bundle_kb` (what every cold start of the Lambda bundle CDK deploys loads: the entry file and
 * the chunks it imports statically), `bundle_lazy_kb` (the chunks reached only through a dynamic
 * `import()`, loaded on first use: the OCSP messages with pkijs, the account pages, the SDK's
 * Secrets Manager client and credential providers, the login script) and the cold
 * start of that bundle against its framework floor, both measured by lambda-coldstart.ts in this run:
 * - `coldstart_ms`: the OP's handler, configured only through its environment as on AWS (secret
 *   from a local fake Secrets Manager, trust anchors and CRL files, clients in dynalite);
 * - `bare_coldstart_ms`: a bare oidc-provider with the same options and keys and NO storage
 *   (bare-lambda.ts: in-memory adapter, no AWS SDK): what any oidc-provider Lambda pays;
 * - `coldstart_ratio` = coldstart / bare (goal ≤ 1.3): what the OP adds — the DynamoDB client, the
 *   secret's signed request (secrets/secrets-manager-http.ts), the card verifier, its configuration.
 */
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OP_LAMBDA_ENTRY, OP_LAMBDA_HANDLER } from '../functions/op/bundle-options.js';
import { FIRST_PARTY_FLAG } from '../functions/op/client-flags.js';
import { generateSecrets } from '../functions/secrets/local-secrets.js';
import { serializeSecrets } from '../functions/secrets/op-secrets.js';
import { ClientRegistry } from '../functions/storage/client-registry.js';
import { startLocalDynamo } from '../functions/storage/local-dynamodb.js';
import { ensureTable } from '../functions/storage/table.js';
import { BENCH_CLIENT } from './bare-provider.js';
import { createBenchPki } from './bench-pki.js';
import { bundle, bundleFiles, CACHE_DIR, coldStartMs, startFakeSecretsManager } from './lambda-coldstart.js';
import { percentile, report } from './report.js';

const COLD_RUNS = 9;
/** Issue 12's goal for coldstart_ratio. */
const COLDSTART_RATIO_GOAL = 1.3;

/** Prints bundle_kb, coldstart_ms, bare_coldstart_ms and coldstart_ratio (with its goal). */
export async function runColdStartBench(): Promise<void> {
  const opBundle = await bundle(OP_LAMBDA_ENTRY, 'op-lambda');
  const bareBundle = await bundle('dist/bench/bare-lambda.js', 'bare-lambda');
  const { loaded, lazy } = await bundleFiles('op-lambda');
  const kb = async (files: readonly string[]) =>
    Math.round(
      (await Promise.all(files.map(async (file) => (await stat(file)).size))).reduce((a, b) => a + b, 0) /
        1024,
    );
  report('bundle_kb', await kb(loaded), 'KB');
  report('bundle_lazy_kb', await kb(lazy), 'KB');

  const { pki } = await createBenchPki();
  const dynamo = await startLocalDynamo();
  const issuer = 'https://login.bench.example';
  const tableName = 'bench-lambda';
  const secretId = 'myna-oidc/bench';
  await ensureTable(dynamo.client, tableName);
  await new ClientRegistry({ client: dynamo.client, tableName }).add({
    ...BENCH_CLIENT,
    [FIRST_PARTY_FLAG]: true,
  });
  const anchorsFile = join(CACHE_DIR, 'trust-anchors.pem');
  await writeFile(anchorsFile, pki.userAuthCas.map((ca) => ca.pem).join(''));
  const crlFiles: string[] = [];
  const crls = pki.crls.filter((c) => c.name.startsWith('user-auth') && c.name.endsWith('.revoked.crl'));
  for (const [index, crl] of crls.entries()) {
    const path = join(CACHE_DIR, `user-auth-${index}.crl`);
    await writeFile(path, crl.der);
    crlFiles.push(path);
  }
  const secrets = await generateSecrets();
  const secretsManager = await startFakeSecretsManager(secretId, secrets);
  const base: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    AWS_REGION: 'ap-northeast-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    OP_ISSUER: issuer,
    // As the stack deploys the function (infra/constructs/op-function.ts); the floor gets it too.
    NODE_OPTIONS: '--enable-source-maps',
  };
  const opEnv: NodeJS.ProcessEnv = {
    ...base,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
    OP_TABLE_NAME: tableName,
    OP_SECRET_ID: secretId,
    OP_TRUST_ANCHORS_FILE: anchorsFile,
    OP_CRL_FILES: crlFiles.join(','),
  };
  const bareEnv: NodeJS.ProcessEnv = { ...base, BARE_SECRETS: serializeSecrets(secrets) };
  try {
    // One untimed start of each fills the file cache; then the two alternate.
    await coldStartMs(opBundle, issuer, opEnv, OP_LAMBDA_HANDLER);
    await coldStartMs(bareBundle, issuer, bareEnv);
    const opMs: number[] = [];
    const bareMs: number[] = [];
    for (let i = 0; i < COLD_RUNS; i++) {
      opMs.push(await coldStartMs(opBundle, issuer, opEnv, OP_LAMBDA_HANDLER));
      bareMs.push(await coldStartMs(bareBundle, issuer, bareEnv));
    }
    const op = percentile(opMs, 50);
    const bare = percentile(bareMs, 50);
    report('coldstart_ms', op, 'ms');
    report('bare_coldstart_ms', bare, 'ms');
    report('coldstart_ratio', op / bare, 'x');
    report('coldstart_ratio_goal', COLDSTART_RATIO_GOAL, 'x');
  } finally {
    await secretsManager.close();
    await dynamo.close();
  }
}

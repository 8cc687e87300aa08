/**
 * The OP Lambda's split bundle (bundle-options.ts) as the stack deploys it, started cold in a
 * child process configured only through its environment (secret from a loopback Secrets Manager
 * that checks signatures, trust anchors from a file, clients in dynalite): what a cold start does
 * not load stays in chunks of their own, and each of them loads and answers on first use — or,
 * when it cannot be loaded, that request fails loudly while the rest of the OP keeps answering.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { build, type Metafile, type Plugin } from 'esbuild';
import { type FakeCredentials, getEvent, startFakeSecretsManager } from '../../bench/lambda-coldstart.js';
import { encodePem } from '../../functions/jpki/pem.js';
import { accountText } from '../../functions/op/account/texts.js';
import { opLambdaSplitBuildOptions, SPLIT_ENTRY_FILE } from '../../functions/op/bundle-options.js';
import { buildLoginScript, loginScriptAsset } from '../../functions/op/login-page/login-script.js';
import { generateSecrets } from '../../functions/secrets/local-secrets.js';
import { ClientRegistry } from '../../functions/storage/client-registry.js';
import { useLocalTables } from '../storage/local-table.js';
import { devPki } from '../support/dev-pki.js';
import { TEST_CLIENTS } from '../support/op-stack.js';

const ISSUER = 'https://login.example.jp';
const SECRET_ID = 'myna-oidc/op';
const CREDENTIALS: FakeCredentials = { accessKeyId: 'AKIDBUNDLETEST', secretAccessKey: 'bundle-test-key' };
const A = TEST_CLIENTS.firstParty;
const newTable = useLocalTables();

/**
 * `npm run build` writes the login script next to login-script.js (write-login-script.ts) and the
 * stack bundles that; bundled from sources here, the same script comes from buildLoginScript().
 */
function prebuiltLoginScript(script: string): Plugin {
  return {
    name: 'prebuilt-login-script',
    setup(builder) {
      builder.onResolve({ filter: /\/login-script\.bundle\.js$/ }, (args) => ({
        path: args.path,
        namespace: 'login-script',
      }));
      builder.onLoad({ filter: /.*/, namespace: 'login-script' }, () => ({
        contents: `export default ${JSON.stringify(script)};`,
        loader: 'js',
      }));
    },
  };
}

/** Output files (relative to the build's working directory) and the chunks each imports how. */
function importsOf(metafile: Metafile): Map<string, { path: string; kind: string }[]> {
  return new Map(
    Object.entries(metafile.outputs)
      .filter(([path]) => path.endsWith('.mjs'))
      .map(([path, output]) => [path, output.imports.filter((imported) => !imported.external)]),
  );
}

/** The entry and every chunk it imports statically: what each cold start reads and compiles. */
function coldStartFiles(metafile: Metafile): Set<string> {
  const imports = importsOf(metafile);
  const entry = [...imports.keys()].find((path) => path.endsWith(`/${SPLIT_ENTRY_FILE}`)) as string;
  const loaded = new Set([entry]);
  for (const file of loaded) {
    for (const imported of imports.get(file) ?? []) {
      if (imported.kind === 'import-statement') loaded.add(imported.path);
    }
  }
  return loaded;
}

/** The output chunk holding `input` (a source path ending). */
function chunkOf(metafile: Metafile, input: string): string | undefined {
  return Object.entries(metafile.outputs).find(
    ([path, output]) =>
      path.endsWith('.mjs') && Object.keys(output.inputs).some((name) => name.endsWith(input)),
  )?.[0];
}

/**
 * Loads the bundle in a fresh node, as the Lambda runtime does, and answers: discovery, the
 * authorization request, the login page it redirects to (with its cookies), an account page.
 */
const RUNNER = `
const { handler } = await import(process.argv[1]);
const { discovery, authorize, account } = JSON.parse(process.argv[2]);
const context = { awsRequestId: 'cold', getRemainingTimeInMillis: () => 30000 };
const answers = { discovery: await handler(discovery, context) };
answers.authorize = await handler(authorize, context);
const target = new URL(answers.authorize.headers?.location ?? '/', 'https://' + authorize.headers.host);
const path = target.pathname;
// The cookies a browser sends there: those whose Path covers it.
const cookies = (answers.authorize.cookies ?? [])
  .filter((cookie) => path.startsWith(/;\\s*path=([^;]*)/i.exec(cookie)?.[1] ?? '/'))
  .map((cookie) => cookie.split(';')[0]);
answers.login = await handler({
  ...authorize,
  rawPath: path,
  rawQueryString: target.search.slice(1),
  cookies,
  headers: { ...authorize.headers, accept: 'text/html' },
  requestContext: { ...authorize.requestContext, http: { ...authorize.requestContext.http, path } },
}, context);
answers.account = await handler(account, context);
process.stdout.write(JSON.stringify(answers));
process.exit(0);
`;

interface Answer {
  statusCode: number;
  headers?: Record<string, string>;
  cookies?: string[];
  body?: string;
}

describe('the split Lambda bundle, started cold from its environment', () => {
  let outdir: string;
  let metafile: Metafile;
  let env: NodeJS.ProcessEnv;
  let secretsManager: Awaited<ReturnType<typeof startFakeSecretsManager>>;

  beforeAll(async () => {
    outdir = await mkdtemp(join(tmpdir(), 'op-lambda-bundle-'));
    const entry = new URL('../../functions/op/lambda.ts', import.meta.url).pathname;
    ({ metafile } = await build({
      ...opLambdaSplitBuildOptions(entry, join(outdir, 'bundle')),
      metafile: true,
      plugins: [prebuiltLoginScript(await buildLoginScript())],
    }));
    const table = await newTable();
    await new ClientRegistry(table).put(A);
    secretsManager = await startFakeSecretsManager(SECRET_ID, await generateSecrets(), CREDENTIALS);
    const pki = await devPki();
    await mkdir(join(outdir, 'trust'));
    await writeFile(
      join(outdir, 'trust', 'jpki.pem'),
      pki.userAuthCas.map((ca) => encodePem(ca.der, 'CERTIFICATE')).join(''),
    );
    env = {
      PATH: process.env.PATH,
      NODE_OPTIONS: '--enable-source-maps',
      LAMBDA_TASK_ROOT: outdir,
      AWS_REGION: 'ap-northeast-1',
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: table.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
      OP_ISSUER: ISSUER,
      OP_TABLE_NAME: table.tableName,
      OP_SECRET_ID: SECRET_ID,
      OP_TRUST_ANCHORS_FILE: 'trust/jpki.pem',
      OP_REVOCATION_POLICY: 'none',
    };
  }, 120_000);
  afterAll(async () => {
    await secretsManager?.close();
    await rm(outdir, { recursive: true, force: true });
  });

  /** The answers of RUNNER in a fresh node, and what it wrote to stderr. */
  async function coldAnswers(): Promise<{ answers: Record<string, Answer>; stderr: string }> {
    const authorize = new URL('/auth', ISSUER);
    authorize.search = new URLSearchParams({
      client_id: A.client_id,
      redirect_uri: A.redirect_uris[0] as string,
      response_type: 'code',
      scope: 'openid',
      code_challenge: createHash('sha256').update(randomBytes(32)).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    const events = {
      discovery: getEvent(new URL('/.well-known/openid-configuration', ISSUER)),
      authorize: getEvent(authorize, { accept: 'text/html' }),
      account: getEvent(new URL('/account/deleted', ISSUER), { accept: 'text/html' }),
    };
    const bundle = pathToFileURL(join(outdir, 'bundle', SPLIT_ENTRY_FILE)).href;
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', RUNNER, bundle, JSON.stringify(events)],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [code] = (await once(child, 'close')) as [number | null];
    if (code !== 0) throw new Error(`the bundle's cold start failed (exit ${code}): ${stderr.slice(-3000)}`);
    return { answers: JSON.parse(stdout) as Record<string, Answer>, stderr };
  }

  it('keeps the account pages and the SDK Secrets Manager client out of the cold start, in chunks loaded on first use', () => {
    const cold = coldStartFiles(metafile);
    const imports = importsOf(metafile);
    for (const input of ['functions/op/account/pages.ts', 'functions/op/account/texts.ts']) {
      const chunk = chunkOf(metafile, input);
      expect(chunk).toBeDefined();
      expect(cold.has(chunk as string)).toBe(false);
      const kinds = [...imports.values()].flat().filter((imported) => imported.path === chunk);
      expect(new Set(kinds.map((imported) => imported.kind))).toEqual(new Set(['dynamic-import']));
    }
    const sdkClient = chunkOf(metafile, '@aws-sdk/client-secrets-manager/dist-es/SecretsManagerClient.js');
    expect(sdkClient === undefined || !cold.has(sdkClient)).toBe(true);
    // What the cold start needs is there: the signer of the secret's request, the login page.
    const coldInputs = [...cold].flatMap((file) => Object.keys(metafile.outputs[file]?.inputs ?? {}));
    expect(coldInputs.some((input) => input.endsWith('functions/secrets/secrets-manager-http.ts'))).toBe(
      true,
    );
    expect(coldInputs.some((input) => input.includes('@smithy/signature-v4/'))).toBe(true);
    expect(coldInputs.some((input) => input.endsWith('functions/op/login-page/html.ts'))).toBe(true);
  });

  it('answers discovery, the login page and an account page from a cold module graph', async () => {
    const { answers } = await coldAnswers();
    expect(answers.discovery?.statusCode).toBe(200);
    expect(JSON.parse(answers.discovery?.body ?? '{}')).toMatchObject({ issuer: ISSUER });
    expect(answers.authorize?.statusCode).toBe(303);
    expect(answers.login?.statusCode).toBe(200);
    expect(answers.login?.body).toContain((await loginScriptAsset()).path);
    expect(answers.account?.statusCode).toBe(200);
    const titles = [accountText('ja', 'deletedTitle'), accountText('en', 'deletedTitle')];
    expect(titles.some((title) => answers.account?.body?.includes(title))).toBe(true);
  }, 60_000);

  it('a chunk that cannot be loaded fails its requests loudly; the rest of the OP still answers', async () => {
    const chunk = chunkOf(metafile, 'functions/op/account/pages.ts') as string;
    const file = join(process.cwd(), chunk);
    const saved = await readFile(file);
    await rm(file);
    try {
      const { answers, stderr } = await coldAnswers();
      expect(answers.discovery?.statusCode).toBe(200);
      expect(answers.login?.statusCode).toBe(200);
      expect(answers.account?.statusCode).toBe(500);
      expect(stderr).toContain('ERR_MODULE_NOT_FOUND');
    } finally {
      await writeFile(file, saved);
    }
  }, 60_000);
});

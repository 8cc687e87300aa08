/**
 * How the OP's Lambda code is bundled: the one source of the esbuild options, used by the CDK
 * stack (infra/constructs/lambda-defaults.ts) and by the bench (`bundle_kb`, `coldstart_ms`), so
 * the measured bundle is the one that deploys.
 *
 * - Entry: the compiled handler in `dist/` (run `npm run build` first). The login page's script is
 *   bundled at build time into `login-script.bundle.js` next to it, which only exists in `dist/`;
 *   `esbuild` itself (login-script.ts's fallback for running from sources) stays external and is
 *   never reached.
 * - ESM for Node 22 (the Lambda runtime), with the `createRequire` banner so the CommonJS
 *   dependencies bundled into ESM (koa, serverless-http…) can still `require` Node built-ins.
 *   CJS was measured too: the same cold start (162 vs 163 ms), but it needs `import.meta.url`
 *   rewritten, so ESM it is.
 * - The AWS SDK v3 is bundled, not left to the runtime's copy: the version that was tested is the
 *   version that runs, independent of when AWS updates the runtime's SDK. Measured by the bench's
 *   cold start: it costs ~350 KB of bundle, and loading an unbundled SDK from node_modules instead
 *   was ~50 ms slower.
 * - `mainFields: module, main`: the packages' ES builds first (esbuild's default for node is the
 *   reverse). Measured: −200 KB, and the SDK's share of the cold start 36 ms instead of 63 ms.
 * - Minified, with an external source map file (`.map` next to the bundle). Node loads it only with
 *   `NODE_OPTIONS=--enable-source-maps`; the stack sets it (readable stack traces in the logs), and
 *   the bench measures the cold start with it, floor included. The map carries positions only, not
 *   the sources' text (`sourcesContent: false`; stack traces need no more): Node reads and parses
 *   the whole map at start-up, and without the text it is 2.0 MB instead of 5.8 MB — measured
 *   ~8 ms less CPU per cold start (the floor's map shrinks too, so coldstart_ratio barely moves).
 * - The OP's own Lambda is split (opLambdaSplitBuildOptions): what its code loads with a dynamic
 *   `import()` — the OCSP messages with pkijs and asn1js (revocation/ocsp-source.ts), ~400 KB;
 *   the account pages with their texts (account/routes.ts), ~30 KB; the SDK's Secrets Manager
 *   client, which only the CLI's and the other Lambdas' way through secrets/aws-secrets.ts loads —
 *   goes into chunks of their own, read and compiled on first use only, not by every cold start.
 *   Marking pkijs external instead was measured slower (a bundled module's static import of an
 *   external package loads it at start-up).
 * - What a cold start still loads, measured (bench `coldstart`, CPU profiles of the bundle): the
 *   DynamoDB client with the SDK core it shares (~210 KB, ~30 ms of the cold start: its modules'
 *   compile and evaluation and the client's construction) is the largest part the bare
 *   oidc-provider floor does not have; the storage modules import it statically.
 */
import { join } from 'node:path';
import type { BuildOptions } from 'esbuild';

/** The handler's module, relative to the repository root (after `npm run build`). */
export const OP_LAMBDA_ENTRY = 'dist/functions/op/lambda.js';
/** The exported handler of OP_LAMBDA_ENTRY. */
export const OP_LAMBDA_HANDLER = 'handler';

/** The revocation notification job's handler module (bundled with the same options). */
export const NOTIFY_LAMBDA_ENTRY = 'dist/functions/revocation/notify-handler.js';

/** Lets bundled CommonJS code call `require` inside an ES module. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/**
 * The bundling options in NodejsFunction's terms (`bundling: { ...OP_LAMBDA_BUNDLING, format:
 * OutputFormat.ESM }`; its values equal these strings). NodejsFunction always bundles with
 * `platform: node`.
 */
export const OP_LAMBDA_BUNDLING = {
  format: 'esm',
  target: 'node22',
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  banner: ESM_REQUIRE_BANNER,
  mainFields: ['module', 'main'],
  externalModules: ['esbuild'],
} as const;

/** The module a split bundle's entry is written as (the Lambda handler's `index`). */
export const SPLIT_ENTRY_NAME = 'index';
/** Its file, in the bundle's output directory. */
export const SPLIT_ENTRY_FILE = `${SPLIT_ENTRY_NAME}.mjs`;
/** Where a split bundle's chunks go, in its output directory. */
const CHUNK_NAMES = 'chunks/[name]-[hash]';

/** The same options for esbuild's `build()`: bundles `entry` into `outfile` (+ `outfile.map`). */
export function opLambdaBuildOptions(entry: string, outfile: string): BuildOptions {
  const bundling = OP_LAMBDA_BUNDLING;
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: bundling.format,
    target: bundling.target,
    minify: bundling.minify,
    sourcemap: bundling.sourceMap,
    sourcesContent: bundling.sourcesContent,
    banner: { js: bundling.banner },
    mainFields: [...bundling.mainFields],
    external: [...bundling.externalModules],
    logLevel: 'warning',
  };
}

/**
 * The OP Lambda's options: `entry` into `outdir`/SPLIT_ENTRY_FILE (+ `.map`), and each module it
 * loads only with a dynamic `import()`, with what only that module needs, into `outdir`/chunks/
 * (code both need goes into a shared chunk, so a class stays one class).
 */
export function opLambdaSplitBuildOptions(entry: string, outdir: string): BuildOptions {
  const { outfile: _single, ...options } = opLambdaBuildOptions(entry, join(outdir, SPLIT_ENTRY_FILE));
  return {
    ...options,
    entryPoints: { [SPLIT_ENTRY_NAME]: entry },
    outdir,
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: CHUNK_NAMES,
  };
}

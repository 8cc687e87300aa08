/**
 * The login page's script (entry browser/main.ts), bundled once with esbuild into a minified IIFE
 * and served under its content-hashed path (loginScriptAsset). Two ways to get it, one per way
 * the OP runs:
 * - after `npm run build`, write-login-script.js has written `login-script.bundle.js` next to this
 *   module and loadLoginScript() imports it (node dist/…, and the Lambda bundle made from dist/);
 * - from TypeScript sources (jest, tsx) that file does not exist, so loadLoginScript() builds the
 *   bundle once with esbuild, in memory.
 * esbuild is imported only on that path; a Lambda bundle marks it external and never reaches it.
 */
import { fileURLToPath } from 'node:url';
import { hashedAssetPath } from './assets.js';

/** The bundle's entry, relative to this module's source. */
export const LOGIN_SCRIPT_ENTRY = './browser/main.ts';
const ENTRY = fileURLToPath(new URL(LOGIN_SCRIPT_ENTRY, import.meta.url));

/** Bundles the browser script (TypeScript entry next to this module's sources) into minified JS. */
export async function buildLoginScript(entry = ENTRY): Promise<string> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    minify: true,
    target: ['chrome110', 'firefox115', 'safari16'],
    platform: 'browser',
    write: false,
    legalComments: 'none',
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error('esbuild produced no login script');
  return output.text;
}

/** The login script and the content-hashed path it is served at. */
export interface LoginScriptAsset {
  readonly path: string;
  readonly body: string;
}

let cached: Promise<LoginScriptAsset> | undefined;

/** The login script: the pre-built bundle when present, else built once from the sources. */
export function loginScriptAsset(): Promise<LoginScriptAsset> {
  cached ??= import('./login-script.bundle.js')
    .then(
      (module: { default: string }) => module.default,
      () => buildLoginScript(),
    )
    .then((body) => ({ path: hashedAssetPath('myna-login', 'js', body), body }));
  return cached;
}

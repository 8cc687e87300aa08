/**
 * The login page's script, bundled once with esbuild into a minified IIFE. Three ways to get it,
 * one per way the OP runs:
 * - after `npm run build`, write-login-script.js has written `login-script.bundle.js` next to this
 *   module and loadLoginScript() imports it (node dist/…, and the Lambda bundle made from dist/);
 * - from TypeScript sources (jest, tsx) that file does not exist, so loadLoginScript() builds the
 *   bundle once with esbuild, in memory.
 * esbuild is imported only on that path; a Lambda bundle marks it external and never reaches it.
 */
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('./browser/login-client.ts', import.meta.url));

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

let cached: Promise<string> | undefined;

/** The login script: the pre-built bundle when present, else built once from the sources. */
export function loadLoginScript(): Promise<string> {
  cached ??= import('./login-script.bundle.js').then(
    (module: { default: string }) => module.default,
    () => buildLoginScript(),
  );
  return cached;
}

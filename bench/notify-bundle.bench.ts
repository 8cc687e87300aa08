/**
 * `notify_bundle_kb`: the revocation notification Lambda's bundle (NOTIFY_LAMBDA_ENTRY, after
 * `npm run build`), built with the deploy options (functions/op/bundle-options.ts), and
 * `notify_bundle_oidc_provider_kb`: what oidc-provider contributes to it, from esbuild's metafile.
 * Goal 0: the job signs and sends its logout tokens itself and storage raises its own errors, so
 * the job must not carry the OP's library.
 */
import { build } from 'esbuild';
import { NOTIFY_LAMBDA_ENTRY, opLambdaBuildOptions } from '../functions/op/bundle-options.js';
import { report } from './report.js';

const OIDC_PROVIDER = /(^|\/)node_modules\/oidc-provider\//;

export async function runNotifyBundleBench(): Promise<void> {
  const { metafile } = await build({
    ...opLambdaBuildOptions(NOTIFY_LAMBDA_ENTRY, 'notify.mjs'),
    write: false,
    metafile: true,
  });
  const output = Object.values(metafile.outputs).find((candidate) => candidate.entryPoint !== undefined);
  if (!output) throw new Error(`esbuild wrote no bundle for ${NOTIFY_LAMBDA_ENTRY}`);
  const fromOidcProvider = Object.entries(output.inputs)
    .filter(([path]) => OIDC_PROVIDER.test(path))
    .reduce((sum, [, input]) => sum + input.bytesInOutput, 0);
  report('notify_bundle_kb', Math.round(output.bytes / 1024), 'KB');
  report('notify_bundle_oidc_provider_kb', Math.round(fromOidcProvider / 1024), 'KB (goal 0)');
}

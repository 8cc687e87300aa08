/**
 * The notification Lambda does not bundle oidc-provider (issue: storage raised oidc-provider's
 * errors, so the job carried the whole OP library): built from source with the deploy options,
 * its esbuild metafile has no input from node_modules/oidc-provider.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { build } from 'esbuild';
import { opLambdaBuildOptions } from '../../functions/op/bundle-options.js';

describe('the notification Lambda bundle', () => {
  it('carries no oidc-provider, koa or OP code', async () => {
    const entry = fileURLToPath(new URL('../../functions/revocation/notify-handler.ts', import.meta.url));
    const { metafile } = await build({
      ...opLambdaBuildOptions(entry, 'notify.mjs'),
      write: false,
      metafile: true,
    });
    const inputs = Object.keys(metafile.inputs);
    expect(inputs.some((path) => path.endsWith('functions/revocation/notification/notify-job.ts'))).toBe(
      true,
    );
    expect(inputs.filter((path) => /node_modules\/(oidc-provider|koa)\//.test(path))).toEqual([]);
    expect(inputs.filter((path) => /functions\/op\/(provider|interactions|login-page)/.test(path))).toEqual(
      [],
    );
  }, 60_000);
});

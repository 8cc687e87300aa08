import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { runCli } from '../../cli/main.js';
import { loadLocalSecrets } from '../../functions/secrets/local-secrets.js';
import { runCaptured } from '../support/cli.js';

describe('myna-oidc keys', () => {
  it('rotates in two steps: publish a next key first, then promote it and keep the old one published', async () => {
    const data = await mkdtemp(join(tmpdir(), 'myna-keys-'));
    const before = await loadLocalSecrets(data);
    const active = before.jwks.keys.filter((key) => key.status === 'active').map((key) => key.kid);

    expect((await runCaptured(runCli, ['keys', 'rotate', '--data', data])).code).toBe(0);
    const first = await loadLocalSecrets(data);
    expect(first.jwks.keys.filter((key) => key.status === 'active').map((key) => key.kid)).toEqual(active);
    const next = first.jwks.keys.filter((key) => key.status === 'next').map((key) => key.kid);
    expect(next).toHaveLength(active.length);

    const listed = await runCaptured(runCli, ['keys', 'rotate', '--data', data]);
    const second = await loadLocalSecrets(data);
    expect(second.jwks.keys.filter((key) => key.status === 'active').map((key) => key.kid)).toEqual(next);
    expect(second.jwks.keys.filter((key) => key.status === 'retiring').map((key) => key.kid)).toEqual(active);
    for (const kid of [...active, ...next]) expect(listed.out).toContain(kid);
  });

  it('refuses an unknown subcommand', async () => {
    expect((await runCaptured(runCli, ['keys', 'frob'])).code).toBe(2);
  });
});

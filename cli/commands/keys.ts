/**
 * `myna-oidc keys rotate|list`: token-signing key rotation for a local data folder. Each rotation
 * publishes a new key before it signs anything (status `next`), promotes the previous `next` key
 * to `active` and keeps the old active key published as `retiring` until the rotation after, so
 * tokens it signed keep verifying. Restart the OP (or let Lambda cold-start) to load the result.
 */
import { parseArgs } from 'node:util';
import { loadLocalSecrets, saveLocalSecrets } from '../../functions/secrets/local-secrets.js';
import { rotateSigningKeys } from '../../functions/secrets/signing-keys.js';
import { type CliIo, ExitCode, UsageError } from '../io.js';

export const keysUsage = `Usage:
  myna-oidc keys list   [--data <dir>]
  myna-oidc keys rotate [--data <dir>]

Token-signing keys in <dir>/secrets.json (default .data, the local stack's folder).
rotate: the pending 'next' key becomes 'active' (signs), the active one 'retiring' (still
published), the old retiring one is dropped, and a new 'next' key is published. Run it, restart the
OP, wait at least the longest token lifetime (14 days for refresh tokens), then rotate again.`;

/** Runs `keys <subcommand>`. */
export async function keysCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { data: { type: 'string', default: '.data' } },
  });
  const [subcommand, ...rest] = positionals;
  if (rest.length > 0 || (subcommand !== 'list' && subcommand !== 'rotate')) {
    throw new UsageError('keys needs list or rotate');
  }
  let secrets = await loadLocalSecrets(values.data);
  if (subcommand === 'rotate') {
    secrets = await rotateSigningKeys(secrets);
    await saveLocalSecrets(values.data, secrets);
    io.out('Rotated. Restart the OP to publish and use the new key set.');
  }
  for (const key of secrets.jwks.keys) io.out(`${key.alg}  ${key.status.padEnd(8)}  ${key.kid}`);
  return ExitCode.OK;
}

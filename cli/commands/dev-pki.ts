/** `myna-oidc dev-pki create <dir>`: writes the development JPKI hierarchy. */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createDevPki, writeDevPki } from '../../dev-pki/hierarchy.js';
import { type CliIo, ExitCode, UsageError } from '../io.js';

export const devPkiUsage = `Usage: myna-oidc dev-pki create <dir>

Creates a development JPKI hierarchy in <dir>: two user-auth CA generations with the same DN,
a signing CA, card identities (alice, bob, revoked) and an empty and a non-empty CRL per CA.
DEVELOPMENT ONLY: private keys and PINs are written in clear.`;

/** Runs `dev-pki <subcommand>`. */
export async function devPkiCommand(args: string[], io: CliIo): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, strict: true });
  const [subcommand, dir, ...rest] = positionals;
  if (subcommand !== 'create' || !dir || rest.length > 0)
    throw new UsageError('dev-pki create needs one <dir>');
  const target = resolve(dir);
  io.err('Generating RSA-2048 keys for 3 CAs and 3 identities…');
  const manifest = await writeDevPki(target, await createDevPki());
  io.out(`Development PKI written to ${target}`);
  io.out(`  trust anchors (user-auth CA generations): ${manifest.userAuthTrustAnchors.join(', ')}`);
  io.out(`  identities: ${manifest.identities.join(', ')}`);
  io.out(`  CRLs: ${manifest.crls.length} in crl/`);
  io.out(`WARNING: ${manifest.warning}`);
  return ExitCode.OK;
}

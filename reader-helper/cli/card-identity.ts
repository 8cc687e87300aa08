/**
 * The identity a virtual card holds, for `start --virtual-card` and `virtual-card`: loaded from
 * --identity (an identity folder, or a folder created earlier by this command), or created fresh
 * (a new development PKI) in that folder or in a temporary one.
 */
import { access, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../cli/io.js';
import { IDENTITY_FILES } from '../../dev-pki/hierarchy.js';
import { USER_AUTH_PIN_PATTERN } from '../../protocol/helper-protocol.js';
import { type CardIdentity, createVirtualCardIdentity, loadIdentity } from '../virtual-card/identity.js';

/** A virtual card's identity and where it lives. */
export interface VirtualCardSetup {
  readonly identity: CardIdentity;
  readonly identityDir: string;
  /** The user-auth CA files an OP must trust, when this run created the PKI. */
  readonly trustAnchorFiles: readonly string[];
}

/** Loads or creates the identity; `pin` (4 digits) replaces its user-auth PIN. */
export async function prepareVirtualCard(
  dir: string | undefined,
  pin: string | undefined,
): Promise<VirtualCardSetup> {
  if (pin !== undefined && !USER_AUTH_PIN_PATTERN.test(pin)) throw new UsageError('--pin must be 4 digits');
  const setup = (dir === undefined ? undefined : await loadExisting(dir)) ?? (await create(dir, pin));
  return pin === undefined ? setup : { ...setup, identity: { ...setup.identity, userAuthPin: pin } };
}

async function loadExisting(dir: string): Promise<VirtualCardSetup | undefined> {
  for (const candidate of [dir, join(dir, 'identities', 'card')]) {
    if (await exists(join(candidate, IDENTITY_FILES.card))) {
      return { identity: await loadIdentity(candidate), identityDir: candidate, trustAnchorFiles: [] };
    }
  }
  return undefined;
}

async function create(dir: string | undefined, pin: string | undefined): Promise<VirtualCardSetup> {
  const target = dir ?? (await mkdtemp(join(tmpdir(), 'myna-helper-card-')));
  return createVirtualCardIdentity(target, pin === undefined ? {} : { userAuthPin: pin });
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

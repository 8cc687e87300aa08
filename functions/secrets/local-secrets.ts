/**
 * Secrets for development: generated on first start and kept in `<dataDir>/secrets.json` (mode
 * 0600), so a restart keeps the same signing keys, sessions and subjects. One file holds every
 * part (one developer, one machine); a file written before the split (`subjectSecret`) is read as
 * legacyIdentitySecrets and rewritten in the new shape on the next save.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  generateIdentitySecrets,
  type OpSecrets,
  parseSecrets,
  type SigningSecrets,
  serializeSecrets,
} from './op-secrets.js';
import { initialSigningKeys } from './signing-keys.js';

/** The file name of the local secrets inside the data folder. */
export const LOCAL_SECRETS_FILE = 'secrets.json';

/** Fresh signing secrets: one active key per algorithm and one cookie key. */
export async function generateSigningSecrets(): Promise<SigningSecrets> {
  return {
    jwks: { keys: await initialSigningKeys() },
    cookieKeys: [randomBytes(32).toString('base64url')],
  };
}

/** Fresh secrets: generateSigningSecrets and two independent 32-byte identity secrets. */
export async function generateSecrets(): Promise<OpSecrets> {
  return { ...(await generateSigningSecrets()), ...generateIdentitySecrets() };
}

/**
 * The secrets in `<dataDir>/secrets.json`; generated and written (mode 0600, never overwritten)
 * when the file does not exist. A concurrent first start reads the winner's file.
 */
export async function loadLocalSecrets(dataDir: string): Promise<OpSecrets> {
  const path = join(dataDir, LOCAL_SECRETS_FILE);
  const existing = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (existing !== undefined) return parseSecrets(existing);
  await mkdir(dataDir, { recursive: true });
  const secrets = await generateSecrets();
  try {
    await writeFile(path, serializeSecrets(secrets), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return parseSecrets(await readFile(path, 'utf8'));
    throw error;
  }
  return secrets;
}

/** Replaces `<dataDir>/secrets.json` (mode 0600) atomically, e.g. after a key rotation. */
export async function saveLocalSecrets(dataDir: string, secrets: OpSecrets): Promise<void> {
  const path = join(dataDir, LOCAL_SECRETS_FILE);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, serializeSecrets(secrets), { mode: 0o600 });
  await rename(temporary, path);
}

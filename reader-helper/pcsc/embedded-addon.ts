/**
 * Loads a native addon carried inside the helper's single executable (a Node SEA asset): the
 * bytes are written once to the user's private cache directory under their SHA-256, checked on
 * every start, and loaded with `process.dlopen`. The cache directory is the user's own (0700),
 * so no other local user can swap the library the helper loads.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { getAsset } from 'node:sea';

/** The helper's private cache directory for this OS. */
export function cacheDirectory(
  platform: NodeJS.Platform = process.platform,
  env: Readonly<Record<string, string | undefined>> = process.env,
  home: string = homedir(),
): string {
  if (platform === 'win32')
    return join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'myna-helper', 'cache');
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'myna-helper');
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'myna-helper');
}

/** Writes the SEA asset `name` to the cache (when missing or altered) and returns the loaded addon's exports. */
export function loadEmbeddedAddon(name: string): unknown {
  const bytes = Buffer.from(getAsset(name));
  const digest = sha256(bytes);
  const dir = join(cacheDirectory(), 'addons', digest.slice(0, 16));
  const path = join(dir, name);
  if (!matches(path, digest)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, bytes, { mode: 0o600 });
    renameSync(temporary, path);
  }
  const module = { exports: {} as unknown };
  process.dlopen(module, path);
  return module.exports;
}

function matches(path: string, digest: string): boolean {
  try {
    return sha256(readFileSync(path)) === digest;
  } catch {
    return false;
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

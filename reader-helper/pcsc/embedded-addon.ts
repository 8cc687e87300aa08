/**
 * Loads a native addon carried inside the helper's single executable (a Node SEA asset): the
 * bytes are written to the user's private cache directory under the first 16 hex digits of their
 * SHA-256 (`addons/<digest16>/<name>`), checked on every start, and loaded with `process.dlopen`.
 *
 * The hash check and `dlopen` open the path twice, so the check only means something if nobody
 * else can swap the file in between: on every start, before hashing, each directory from the
 * cache root down to the addon's own is `lstat`ed and must be a real directory (not a symlink)
 * owned by this user and not group/other-writable, and the addon file must be a regular file
 * (not a symlink) owned by this user. Anything else is refused with an {@link AddonCacheError}
 * naming the path, never repaired silently (someone may already have put a file there).
 * Directories of other digests (older helper versions) are pruned.
 */
import { createHash } from 'node:crypto';
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  type Stats,
  writeFileSync,
} from 'node:fs';
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

/** Why the addon cache was refused; `path` is the offending directory or file. */
export class AddonCacheError extends Error {
  readonly code = 'ADDON_CACHE_UNSAFE';
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`refusing to load the PC/SC addon: ${path} ${reason}; remove it (the helper recreates it)`);
    this.name = 'AddonCacheError';
  }
}

/** Writes the SEA asset `name` to the cache (when missing or altered) and returns the loaded addon's exports. */
export function loadEmbeddedAddon(name: string): unknown {
  const path = materializeAddon(Buffer.from(getAsset(name)), name, cacheDirectory());
  const module = { exports: {} as unknown };
  process.dlopen(module, path);
  return module.exports;
}

/**
 * Makes `<cacheRoot>/addons/<digest16>/<name>` hold exactly `bytes` after checking the directory
 * chain and the file (see the module comment), prunes other digest directories, and returns the
 * file's path, ready for `process.dlopen`.
 */
export function materializeAddon(
  bytes: Uint8Array,
  name: string,
  cacheRoot: string,
  uid: number | undefined = process.getuid?.(),
): string {
  const digest = sha256(bytes);
  const addons = join(cacheRoot, 'addons');
  const dir = join(addons, digest.slice(0, 16));
  for (const each of [cacheRoot, addons, dir]) ensurePrivateDirectory(each, uid);
  pruneOtherDigests(addons, digest.slice(0, 16));
  const path = join(dir, name);
  if (!matches(path, digest, uid)) {
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, bytes, { mode: 0o600 });
    renameSync(temporary, path);
  }
  return path;
}

function ensurePrivateDirectory(dir: string, uid: number | undefined): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stats = lstatSync(dir);
  if (stats.isSymbolicLink()) throw new AddonCacheError(dir, 'is a symbolic link');
  if (!stats.isDirectory()) throw new AddonCacheError(dir, 'is not a directory');
  checkOwnerAndMode(dir, stats, uid);
}

/** Owner/mode checks are POSIX-only: `uid` is undefined on Windows, where the profile's ACLs apply. */
function checkOwnerAndMode(path: string, stats: Stats, uid: number | undefined): void {
  if (uid === undefined) return;
  if (stats.uid !== uid) throw new AddonCacheError(path, `is owned by uid ${stats.uid}, not ${uid}`);
  if ((stats.mode & 0o022) !== 0) {
    throw new AddonCacheError(path, `is group- or other-writable (mode ${modeOf(stats)})`);
  }
}

/** True when `path` is this user's regular file holding bytes with `digest`; false when missing or altered. */
function matches(path: string, digest: string, uid: number | undefined): boolean {
  let stats: Stats;
  try {
    stats = lstatSync(path);
  } catch {
    return false;
  }
  if (stats.isSymbolicLink()) throw new AddonCacheError(path, 'is a symbolic link');
  if (!stats.isFile()) throw new AddonCacheError(path, 'is not a regular file');
  checkOwnerAndMode(path, stats, uid);
  return sha256(readFileSync(path)) === digest;
}

/** Removes addon directories of other helper versions; one still loaded elsewhere (Windows) stays. */
function pruneOtherDigests(addons: string, keep: string): void {
  for (const entry of readdirSync(addons)) {
    if (entry === keep) continue;
    try {
      rmSync(join(addons, entry), { recursive: true, force: true });
    } catch {
      // In use by another running helper (a loaded DLL on Windows): pruned on a later start.
    }
  }
}

function modeOf(stats: Stats): string {
  return (stats.mode & 0o777).toString(8).padStart(4, '0');
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

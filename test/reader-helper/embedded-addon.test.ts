/**
 * The embedded PC/SC addon's cache: written under its digest, reused when intact, rewritten when
 * altered, and refused when any directory on the way (or the file) could be swapped by someone
 * else — a symlink, a group/other-writable directory, a foreign owner.
 */

import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { AddonCacheError, materializeAddon } from '../../reader-helper/pcsc/embedded-addon.js';

const NAME = 'pcsclite.node';
const BYTES = Buffer.from('pretend native addon');
const uid = process.getuid?.() as number;

let temp: string;
let root: string;

beforeEach(() => {
  temp = mkdtempSync(join(tmpdir(), 'addon-cache-'));
  root = join(temp, 'myna-helper');
});
afterEach(() => rmSync(temp, { recursive: true, force: true }));

function refusal(run: () => unknown): AddonCacheError {
  try {
    run();
  } catch (error) {
    if (error instanceof AddonCacheError) return error;
    throw error;
  }
  throw new Error('expected an AddonCacheError');
}

describe('writing and reusing the cached addon', () => {
  it('writes addons/<16 hex digits>/<name> with private modes', () => {
    const path = materializeAddon(BYTES, NAME, root, uid);
    expect(path).toMatch(/[/\\]addons[/\\][0-9a-f]{16}[/\\]pcsclite\.node$/);
    expect(readFileSync(path)).toEqual(BYTES);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(path)).mode & 0o077).toBe(0);
  });

  it('rewrites an altered file and prunes other digest directories', () => {
    const path = materializeAddon(BYTES, NAME, root, uid);
    writeFileSync(path, 'tampered');
    const stale = join(root, 'addons', '0123456789abcdef');
    mkdirSync(stale);
    expect(materializeAddon(BYTES, NAME, root, uid)).toBe(path);
    expect(readFileSync(path)).toEqual(BYTES);
    expect(existsSync(stale)).toBe(false);
  });
});

describe('refusing a cache someone else could swap', () => {
  it('refuses a group/other-writable directory on the way', () => {
    materializeAddon(BYTES, NAME, root, uid);
    chmodSync(join(root, 'addons'), 0o777);
    const error = refusal(() => materializeAddon(BYTES, NAME, root, uid));
    expect(error.code).toBe('ADDON_CACHE_UNSAFE');
    expect(error.path).toBe(join(root, 'addons'));
    expect(error.message).toMatch(/other-writable \(mode 0777\)/);
  });

  it('refuses a pre-created cache root owned by someone else', () => {
    mkdirSync(root, { mode: 0o700 });
    const error = refusal(() => materializeAddon(BYTES, NAME, root, uid + 1));
    expect(error.path).toBe(root);
    expect(error.message).toMatch(/is owned by uid/);
  });

  it('refuses a symlinked addon directory', () => {
    const path = materializeAddon(BYTES, NAME, root, uid);
    const elsewhere = join(temp, 'elsewhere');
    mkdirSync(elsewhere, { mode: 0o700 });
    writeFileSync(join(elsewhere, NAME), BYTES);
    rmSync(dirname(path), { recursive: true });
    symlinkSync(elsewhere, dirname(path));
    const error = refusal(() => materializeAddon(BYTES, NAME, root, uid));
    expect(error.path).toBe(dirname(path));
    expect(error.message).toMatch(/symbolic link/);
  });

  it('refuses a symlinked addon file, even one with the right bytes', () => {
    const path = materializeAddon(BYTES, NAME, root, uid);
    const elsewhere = join(temp, 'elsewhere.node');
    writeFileSync(elsewhere, BYTES);
    rmSync(path);
    symlinkSync(elsewhere, path);
    const error = refusal(() => materializeAddon(BYTES, NAME, root, uid));
    expect(error.path).toBe(path);
    expect(error.message).toMatch(/symbolic link/);
  });
});

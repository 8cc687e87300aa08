/**
 * Runs an installed helper (npm bin, single executable, /usr/bin) as a child process, as a person
 * would, next to a local OP + demo RP that run no helper of their own.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type LocalStack, startLocalStack } from '../../../local/stack.js';
import { helperPackageVersion as readHelperVersion } from '../../../reader-helper/helper-version.js';
import { freePort } from '../../support/browser.js';

const run = promisify(execFile);

/** The version in reader-helper/package.json (what every form of the helper must report). */
export async function helperPackageVersion(): Promise<string> {
  const version = await readHelperVersion();
  if (version === undefined) throw new Error('reader-helper/package.json has no version');
  return version;
}

/** The local OP and demo RP, whose login page looks for a helper on `helperPort` (none runs there yet). */
export async function startStackForHelper(helperPort: number): Promise<LocalStack> {
  return startLocalStack({
    dataDir: await mkdtemp(join(tmpdir(), 'myna-product-')),
    opPort: await freePort(),
    rpPort: await freePort(),
    helperPort,
    dynamoPort: 0,
    runHelper: false,
    log: () => {},
  });
}

/** A home of its own (config and cache inside), so no test reads or writes the real user's. */
export async function isolatedEnv(): Promise<NodeJS.ProcessEnv> {
  const home = await mkdtemp(join(tmpdir(), 'myna-helper-home-'));
  return {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_CACHE_HOME: join(home, '.cache'),
  };
}

/** Runs `program args` to the end; resolves with its exit code and output. */
export async function runHelper(
  program: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(program, args, { env, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** A running `myna-helper start`. */
export interface StartedHelper {
  readonly port: number;
  readonly output: () => string;
  /** SIGTERM, then resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `program start args` and waits until it says it listens and is ready. */
export async function startHelper(
  program: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<StartedHelper> {
  const child: ChildProcess = spawn(program, ['start', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the helper did not start:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const listening = output.match(/listening on ws:\/\/127\.0\.0\.1:(\d+)/);
      if (listening && output.includes('Press Ctrl-C')) {
        clearTimeout(timer);
        resolve(Number(listening[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the helper exited with ${code}:\n${output}`));
    });
  });
  return {
    port,
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

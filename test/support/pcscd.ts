/**
 * A real pcscd for integration tests: starts `pcscd --foreground` (with the vsmartcard vpcd driver
 * configured by the distribution package) when none runs, and stops only what it started. Throws
 * with an explanation, never skips, when pcscd or vpcd is not installed or cannot start.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { access, readFile, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const PCSCD_PID_FILE = '/run/pcscd/pcscd.pid';
const PCSCD_SOCKET = '/run/pcscd/pcscd.comm';
const VPCD_DRIVER = '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';
/** The reader name pcscd gives vpcd's first slot (port 35963). */
export const VPCD_READER = 'Virtual PCD 00 00';
export const VPCD_PORT = 35_963;

/** A pcscd the tests can use; `restart` only works on a pcscd this module started. */
export interface PcscdHandle {
  /** True when this module started pcscd (and may stop or restart it). */
  readonly owned: boolean;
  /** Stops pcscd (SIGTERM) and waits until it is gone. */
  stop(): Promise<void>;
  /** Starts pcscd again and waits until it serves clients and vpcd listens. */
  start(): Promise<void>;
}

/** Uses the running pcscd or starts one; throws when that is impossible. */
export async function ensurePcscd(): Promise<PcscdHandle> {
  await access(VPCD_DRIVER).catch(() => {
    throw new Error(
      `vsmartcard-vpcd is not installed (${VPCD_DRIVER} missing): apt-get install vsmartcard-vpcd`,
    );
  });
  if ((await runningPid()) !== undefined) {
    await waitFor(() => vpcdListening(VPCD_PORT), 'vpcd to listen on 35963 (is vsmartcard-vpcd configured?)');
    return {
      owned: false,
      stop: () => Promise.reject(new Error('pcscd was not started by the tests; refusing to stop it')),
      start: () => Promise.resolve(),
    };
  }
  let child: ChildProcess | undefined;
  const handle: PcscdHandle = {
    owned: true,
    async start() {
      await rm(PCSCD_PID_FILE, { force: true });
      await rm(PCSCD_SOCKET, { force: true });
      child = await startPcscd();
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGTERM');
      await exited;
    },
  };
  await handle.start();
  return handle;
}

async function startPcscd(): Promise<ChildProcess> {
  let output = '';
  const child = spawn('pcscd', ['--foreground'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error) =>
      reject(new Error(`cannot run pcscd (apt-get install pcscd): ${error.message}`)),
    );
    child.once('exit', (code) => reject(new Error(`pcscd exited with ${code} at start:\n${output}`)));
  });
  failed.catch(() => undefined);
  const ready = (async () => {
    await waitFor(() => exists(PCSCD_SOCKET), 'pcscd to create its socket');
    await waitFor(() => vpcdListening(VPCD_PORT), 'vpcd to listen on 35963');
  })();
  await Promise.race([ready, failed]);
  child.removeAllListeners('exit');
  return child;
}

async function runningPid(): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(PCSCD_PID_FILE, 'utf8')).trim());
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** True when something listens on 0.0.0.0:`port` (read from /proc, so vpcd sees no client). */
async function vpcdListening(port: number): Promise<boolean> {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const table = await readFile('/proc/net/tcp', 'utf8');
  return table.split('\n').some((line) => {
    const fields = line.trim().split(/\s+/);
    return fields[1]?.endsWith(`:${hex}`) === true && fields[3] === '0A';
  });
}

/** Polls `check` every 20 ms for up to `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * A private X server for tests that need a desktop (the helper's PIN windows, WebKitGTK): starts
 * `Xvfb -displayfd` so the server itself picks a free display number, and stops it again. Throws
 * with an explanation, never skips, when Xvfb is missing or does not come up.
 */
import { type ChildProcess, spawn } from 'node:child_process';

/** A running X display and the environment that points programs at it. */
export interface XDisplay {
  /** ":<n>" */
  readonly display: string;
  /** process.env with DISPLAY set to this display (and WAYLAND_DISPLAY removed). */
  readonly env: NodeJS.ProcessEnv;
  /** Stops the server (SIGTERM) and waits until it is gone. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;

/** Starts Xvfb on a display number it chooses itself (-displayfd). */
export async function startXvfb(): Promise<XDisplay> {
  const child = spawn(
    'Xvfb',
    ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp', '-noreset'],
    {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    },
  );
  const stderr: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const display = await new Promise<string>((resolve, reject) => {
    let announced = '';
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`Xvfb did not start (${why}): ${stderr.join('').trim() || 'no output'}`));
    };
    const timer = setTimeout(() => fail(`no display within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    child.once('error', (error) =>
      fail(
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'Xvfb not installed: apt-get install xvfb'
          : error.message,
      ),
    );
    child.once('exit', (code, signal) => fail(`exited with ${code ?? signal}`));
    const fd = child.stdio[3] as NodeJS.ReadableStream;
    fd.setEncoding('utf8');
    fd.on('data', (chunk: string) => {
      announced += chunk;
      if (!announced.includes('\n')) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve(`:${announced.trim()}`);
    });
  });
  const env: NodeJS.ProcessEnv = { ...process.env, DISPLAY: display };
  delete env.WAYLAND_DISPLAY;
  return { display, env, stop: () => stopProcess(child) };
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/**
 * Runs one dialog process: stdin ignored, stdout read only for the answer line (never logged or
 * kept), stderr kept only to classify the exit. An abort kills the process and settles only
 * once it has exited, so the window is gone when the caller hears of it.
 */
import { spawn } from 'node:child_process';
import type { DialogCommand } from './dialog-program.js';
import { abortedByTimeout, PinEntryError } from './pin-entry-error.js';

/** Longest answer line accepted (a PIN is at most 16 characters; anything longer is not an answer). */
const MAX_STDOUT_BYTES = 1024;
const MAX_STDERR_BYTES = 4096;
/** How long an aborted dialog gets to exit on SIGTERM before SIGKILL. */
const KILL_GRACE_MS = 2000;

/** Moments of one dialog run (performance.now() milliseconds), for the bench. */
export interface DialogTiming {
  readonly spawnedAt: number;
  /** When the answer line arrived (PIN dialogs) or the process exited. */
  readonly answeredAt: number;
}

export type DialogResult =
  | { readonly outcome: 'accepted'; readonly line: string | undefined }
  | { readonly outcome: 'declined' };

/**
 * Starts `command`. With `answerLine`, resolves as soon as the first stdout line arrives (the
 * program prints it only on OK; its teardown is not waited for); otherwise when the process exits.
 */
export function runDialog(
  command: DialogCommand,
  options: {
    readonly env: NodeJS.ProcessEnv;
    readonly signal: AbortSignal;
    readonly answerLine: boolean;
    readonly onTiming?: (timing: DialogTiming) => void;
  },
): Promise<DialogResult> {
  const { signal } = options;
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<DialogResult>((resolve, reject) => {
    const spawnedAt = performance.now();
    const child = spawn(command.file, command.args, {
      env: { ...options.env, ...command.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    let stdout = Buffer.alloc(0);
    let stderr = '';
    let settled = false;
    const settle = (action: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      options.onTiming?.({ spawnedAt, answeredAt: performance.now() });
      action();
    };
    const onAbort = (): void => {
      child.kill('SIGTERM');
      setTimeout(
        () => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'),
        KILL_GRACE_MS,
      ).unref();
    };
    signal.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (chunk: Buffer) => {
      if (settled || !options.answerLine) return;
      stdout = Buffer.concat([stdout, chunk]);
      const end = stdout.indexOf(0x0a);
      if (end >= 0) {
        const line = stdout.subarray(0, end).toString('utf8').replace(/\r$/, '');
        stdout.fill(0);
        settle(() => resolve({ outcome: 'accepted', line }));
      } else if (stdout.length > MAX_STDOUT_BYTES) {
        stdout.fill(0);
        child.kill('SIGTERM');
        settle(() =>
          reject(new PinEntryError('PIN_ENTRY_UNAVAILABLE', `${command.file} printed an over-long answer`)),
        );
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < MAX_STDERR_BYTES) stderr += chunk;
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      const why =
        error.code === 'ENOENT' ? 'is not installed' : `could not start (${error.code ?? error.message})`;
      settle(() =>
        reject(new PinEntryError('PIN_ENTRY_UNAVAILABLE', `The dialog program ${command.file} ${why}`)),
      );
    });
    child.once('close', (exitCode, exitSignal) => {
      stdout.fill(0);
      if (signal.aborted) return settle(() => reject(abortError(signal)));
      const outcome = exitCode === null ? 'failed' : command.outcome(exitCode, stderr);
      if (outcome === 'declined') return settle(() => resolve({ outcome }));
      if (outcome === 'accepted' && !options.answerLine)
        return settle(() => resolve({ outcome, line: undefined }));
      const how = exitCode === null ? `was killed (${exitSignal})` : `exited with code ${exitCode}`;
      settle(() =>
        reject(
          new PinEntryError(
            'PIN_ENTRY_UNAVAILABLE',
            // stderr is not quoted: it may echo what the dialog showed; only its size is told.
            `The dialog program ${command.file} ${how} without an answer (${stderr.length} bytes on stderr)`,
          ),
        ),
      );
    });
  });
}

/** CANCELLED, or TIMEOUT when the signal was aborted by a timeout (AbortSignal.timeout's TimeoutError). */
export function abortError(signal: AbortSignal): PinEntryError {
  const reason: unknown = signal.reason;
  return abortedByTimeout(signal)
    ? new PinEntryError('TIMEOUT', 'The PIN window was closed: nobody answered in time', { cause: reason })
    : new PinEntryError('CANCELLED', 'The PIN window was closed: the request was cancelled', {
        cause: reason,
      });
}

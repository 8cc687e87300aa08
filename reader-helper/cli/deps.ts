/**
 * What the helper's commands need from the outside world, gathered so tests can run every
 * command in-process: the platform and environment, the program to autostart, a command runner,
 * how to wait for Ctrl-C, the PC/SC backend (loaded lazily, so `start --virtual-card` works
 * without the native PC/SC binding), the helper's PIN window and, in the source tree only, the
 * development tools.
 */
import { execFile } from 'node:child_process';
import { homedir } from 'node:os';
import { isSea } from 'node:sea';
import type { CommandRunner } from '../autostart/apply.js';
import type { AutostartCommand, AutostartContext } from '../autostart/plan.js';
import type { ReaderBackend } from '../card/reader-backend.js';
import { helperPackageVersion } from '../helper-version.js';
import { createLogger, type Logger } from '../log.js';
import { createPinEntry, type PinEntry } from '../pin-entry/pin-entry.js';
import type { DevTools } from './dev-tools.js';

/** Set by the product build (esbuild `define`) to the helper package's version. */
declare const MYNA_HELPER_VERSION: string | undefined;

export interface HelperCliDeps {
  readonly context: AutostartContext;
  readonly helperVersion: string;
  /** The program autostart runs before `start …`: node and the helper's script, or the single executable. */
  readonly launcher: AutostartCommand;
  readonly logger: Logger;
  readonly runCommand: CommandRunner;
  /** Resolves when the user asks the running command to stop (SIGINT, SIGTERM). */
  readonly waitForStop: () => Promise<void>;
  readonly openPcsc: () => Promise<ReaderBackend>;
  /** The PIN window of this desktop session (`createPinEntry()`). */
  readonly createPinEntry: () => PinEntry;
  /** The development tools; undefined in the installed helper. */
  readonly loadDevTools: (() => Promise<DevTools>) | undefined;
}

/** The real world; `loadDevTools` only in the source tree's entry point. */
export async function defaultDeps(
  options: { loadDevTools?: () => Promise<DevTools> } = {},
): Promise<HelperCliDeps> {
  return {
    context: { platform: process.platform, env: process.env, home: homedir(), uid: process.getuid?.() ?? 0 },
    helperVersion:
      typeof MYNA_HELPER_VERSION === 'string'
        ? MYNA_HELPER_VERSION
        : ((await helperPackageVersion()) ?? 'unknown'),
    launcher: isSea()
      ? { program: process.execPath, args: [] }
      : { program: process.execPath, args: [process.argv[1] ?? 'myna-helper'] },
    logger: createLogger(),
    runCommand: (command, args) =>
      new Promise((resolve) => {
        execFile(command, [...args], (error, stdout, stderr) => {
          const exited = error === null || typeof error.code === 'number';
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 127;
          resolve({ code, output: `${stdout}${stderr}${exited ? '' : error.message}` });
        });
      }),
    waitForStop: () =>
      new Promise((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      }),
    openPcsc: async () => {
      const { PcscReaderBackend } = await import('../pcsc/pcsc-backend.js');
      return new PcscReaderBackend();
    },
    createPinEntry: () => createPinEntry({ platform: process.platform, env: process.env }),
    loadDevTools: options.loadDevTools,
  };
}

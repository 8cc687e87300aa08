/**
 * What the helper's commands need from the outside world, gathered so tests can run every
 * command in-process: the platform and environment, the program to autostart, a command runner,
 * how to wait for Ctrl-C, and the PC/SC backend (loaded lazily, so `start --virtual-card` works
 * without the native PC/SC binding).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandRunner } from '../autostart/apply.js';
import type { AutostartContext } from '../autostart/plan.js';
import type { ReaderBackend } from '../card/reader-backend.js';
import { createLogger, type Logger } from '../log.js';

export interface HelperCliDeps {
  readonly context: AutostartContext;
  readonly helperVersion: string;
  /** The program autostart runs: node and the helper's entry script. */
  readonly nodePath: string;
  readonly entryScript: string;
  readonly logger: Logger;
  readonly runCommand: CommandRunner;
  /** Resolves when the user asks the running command to stop (SIGINT, SIGTERM). */
  readonly waitForStop: () => Promise<void>;
  readonly openPcsc: () => Promise<ReaderBackend>;
}

/** The real world. */
export async function defaultDeps(): Promise<HelperCliDeps> {
  const here = dirname(fileURLToPath(import.meta.url));
  return {
    context: { platform: process.platform, env: process.env, home: homedir(), uid: process.getuid?.() ?? 0 },
    helperVersion: await packageVersion(here),
    nodePath: process.execPath,
    entryScript: join(here, 'myna-helper.js'),
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
  };
}

/** The version in the nearest package.json above `dir` (sources and dist/ alike). */
async function packageVersion(dir: string): Promise<string> {
  for (let current = dir; ; current = dirname(current)) {
    try {
      const parsed = JSON.parse(await readFile(join(current, 'package.json'), 'utf8')) as {
        version?: string;
      };
      return parsed.version ?? 'unknown';
    } catch {
      if (dirname(current) === current) return 'unknown';
    }
  }
}

/** Runs a CLI entry function in-process and collects what it prints. */
import type { CliIo } from '../../cli/io.js';

export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Calls `run(argv, io)` with collecting streams. */
export async function runCaptured(
  run: (argv: string[], io: CliIo) => Promise<number>,
  argv: string[],
): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { out: (text) => out.push(text), err: (text) => err.push(text) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/**
 * What a CLI command may touch: its output streams, exit codes and the usage error. Defined by the
 * reader-helper (which must not load the operator CLI) and re-exported by the operator CLI `cli/io.ts`.
 */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** Exit codes shared by every command. */
export const ExitCode = { OK: 0, FAILED: 1, USAGE: 2 } as const;

/** Raised for a command line that cannot be run; printed with the command's usage. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The process's own streams. */
export const processIo: CliIo = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

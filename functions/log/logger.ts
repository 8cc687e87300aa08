/**
 * The log of the OP and its jobs: JSON lines on stderr with an event name and fields — never a
 * serial, PIN or name. Shared by both Lambdas, the CLI and the local stack.
 */

/** Where the OP reports events worth an operator's attention. */
export interface OpLogger {
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
}

function line(level: string, event: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, event, ...fields })}\n`);
}

/** The default logger: one JSON object per line on stderr. */
export const stderrLogger: OpLogger = {
  info: (event, fields) => line('info', event, fields),
  warn: (event, fields) => line('warn', event, fields),
};

/**
 * The helper's structured log: one JSON object per line (time, level, msg, fields) on stderr.
 * It never receives a PIN: callers pass origins, codes and reader names; a certificate appears
 * only as `certificateTag` (a short hash), never its serial.
 */
import { createHash } from 'node:crypto';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

/** Writes structured log lines. */
export interface Logger {
  log(level: LogLevel, msg: string, fields?: LogFields): void;
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
/** Field names dropped whatever the caller passes: belt and braces for "the PIN is never logged". */
const FORBIDDEN_FIELDS: ReadonlySet<string> = new Set(['pin', 'PIN', 'password']);

/** A JSON-lines logger writing lines at or above `level` to `write` (default: stderr). */
export function createLogger(
  options: { level?: LogLevel; write?: (line: string) => void; now?: () => Date } = {},
): Logger {
  const min = RANK[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? (() => new Date());
  return {
    log(level, msg, fields = {}) {
      if (RANK[level] < min) return;
      const safe = Object.fromEntries(Object.entries(fields).filter(([key]) => !FORBIDDEN_FIELDS.has(key)));
      write(`${JSON.stringify({ time: now().toISOString(), level, msg, ...safe })}\n`);
    },
  };
}

/** A short, non-reversible tag of a certificate for logs: the first 12 hex digits of its SHA-256. */
export function certificateTag(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex').slice(0, 12);
}

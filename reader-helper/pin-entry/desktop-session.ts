/**
 * Where the helper's PIN windows appear: the person's desktop session. The systemd user unit
 * (`myna-helper install`) starts the helper at default.target, often before the desktop session
 * exists, so its own environment may lack DISPLAY / WAYLAND_DISPLAY / XAUTHORITY. The desktop
 * imports those into the user manager when it starts (`systemctl --user import-environment`,
 * `dbus-update-activation-environment --systemd`), so when the helper's environment names no
 * display, each window first reads them from there (`systemctl --user show-environment`) and
 * only then answers PIN_ENTRY_UNAVAILABLE.
 */
import { execFile } from 'node:child_process';
import { PinEntryError } from './pin-entry-error.js';
import { UNAVAILABLE } from './texts.js';

/** The environment the dialogs run in, looked up when a window is about to open. */
export interface DialogSession {
  /**
   * The environment for the next window. Throws PinEntryError PIN_ENTRY_UNAVAILABLE, saying what
   * to do, when no window can be shown.
   */
  environment(): Promise<NodeJS.ProcessEnv>;
  /** Why no window can be shown, as last seen (undefined: windows can be shown). Runs and opens nothing. */
  unavailable(): string | undefined;
}

/** Runs a program and resolves with its stdout (rejects when it fails or exits non-zero). */
export type CommandRunner = (
  file: string,
  args: readonly string[],
  options: { readonly env: NodeJS.ProcessEnv; readonly timeoutMs: number },
) => Promise<string>;

/** The variables of the desktop session the dialogs need, as the user manager holds them. */
export const SESSION_VARIABLES = [
  'DISPLAY',
  'WAYLAND_DISPLAY',
  'XAUTHORITY',
  'XDG_RUNTIME_DIR',
  'DBUS_SESSION_BUS_ADDRESS',
] as const;

/** How long `systemctl --user show-environment` may take (it answers in milliseconds when the manager runs). */
const SHOW_ENVIRONMENT_TIMEOUT_MS = 3000;

/** A session with a fixed environment: always `env`; never unavailable. */
export function fixedSession(env: NodeJS.ProcessEnv): DialogSession {
  return { environment: async () => env, unavailable: () => undefined };
}

/** True when `env` names an X11 or Wayland display. */
function hasDisplay(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

/**
 * The Linux desktop session: `env` when it names a display; otherwise, at each window, `env`
 * with the SESSION_VARIABLES the user manager holds (they belong together, so the manager's
 * values replace the helper's), or PIN_ENTRY_UNAVAILABLE when the manager names no display either.
 */
export function linuxDesktopSession(
  env: NodeJS.ProcessEnv,
  runCommand: CommandRunner = runProgram,
): DialogSession {
  if (hasDisplay(env)) return fixedSession(env);
  let reason: string | undefined = UNAVAILABLE.noDisplay;
  return {
    async environment() {
      const managed = await userManagerEnvironment(env, runCommand);
      const merged: NodeJS.ProcessEnv = { ...env };
      for (const name of SESSION_VARIABLES) {
        const value = managed.get(name);
        if (value !== undefined) merged[name] = value;
      }
      reason = hasDisplay(merged) ? undefined : UNAVAILABLE.noDisplay;
      if (reason !== undefined) throw new PinEntryError('PIN_ENTRY_UNAVAILABLE', reason);
      return merged;
    },
    unavailable: () => reason,
  };
}

/** The user manager's environment; empty when there is no user manager to ask. */
async function userManagerEnvironment(
  env: NodeJS.ProcessEnv,
  runCommand: CommandRunner,
): Promise<Map<string, string>> {
  try {
    return parseShowEnvironment(
      await runCommand('systemctl', ['--user', 'show-environment'], {
        env,
        timeoutMs: SHOW_ENVIRONMENT_TIMEOUT_MS,
      }),
    );
  } catch {
    // No systemctl, no user manager (not a systemd system, or no session bus): nothing to add.
    return new Map();
  }
}

/**
 * The assignments `systemctl show-environment` prints, one per line: `NAME=value`, or
 * `NAME=$'value'` with backslash escapes when the value holds whitespace or shell characters
 * (systemd's shell_maybe_quote, POSIX mode). Lines that are not assignments are skipped.
 */
export function parseShowEnvironment(stdout: string): Map<string, string> {
  const variables = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) continue;
    const [, name, raw] = match as unknown as [string, string, string];
    const value =
      raw.startsWith("$'") && raw.endsWith("'") && raw.length >= 3 ? unquote(raw.slice(2, -1)) : raw;
    if (value !== undefined) variables.set(name, value);
  }
  return variables;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  a: '\x07',
  b: '\b',
  e: '\x1b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
};

/** The text of a `$'…'` body (bash's ANSI-C quoting); undefined when it is malformed. */
function unquote(body: string): string | undefined {
  const bytes: number[] = [];
  const push = (text: string) => bytes.push(...Buffer.from(text, 'utf8'));
  for (let i = 0; i < body.length; i++) {
    const character = body[i] as string;
    if (character === "'") return undefined; // an unescaped quote cannot be inside the body
    if (character !== '\\') {
      push(character);
      continue;
    }
    const next = body[++i];
    if (next === undefined) return undefined;
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      push(simple);
    } else if (next === 'x' && /^[0-9A-Fa-f]{2}$/.test(body.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (/^[0-7]{3}$/.test(body.slice(i, i + 3))) {
      bytes.push(Number.parseInt(body.slice(i, i + 3), 8) & 0xff);
      i += 2;
    } else {
      push(`\\${next}`);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Runs `file` without a shell; rejects on a non-zero exit or after `timeoutMs`. */
function runProgram(
  file: string,
  args: readonly string[],
  options: { readonly env: NodeJS.ProcessEnv; readonly timeoutMs: number },
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      [...args],
      { env: options.env, timeout: options.timeoutMs, maxBuffer: 1024 * 1024, encoding: 'utf8' },
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    );
  });
}

/**
 * Autostart for the user's session: each OS module turns "run this command at logon" into the
 * files to write and the commands to run (never through a shell), so tests can check both
 * without touching the OS. `applyPlan` (apply.ts) carries a plan out.
 */
import type { PlatformEnv } from '../config.js';

/** The program autostart runs: `program args…` (node, the helper script, `start`, options). */
export interface AutostartCommand {
  readonly program: string;
  readonly args: readonly string[];
}

/** One thing an install or uninstall does. */
export type Step =
  | {
      readonly kind: 'write';
      readonly path: string;
      readonly content: string;
      /** utf16le is written with a byte-order mark (schtasks XML). Default utf8. */
      readonly encoding?: 'utf8' | 'utf16le';
    }
  | { readonly kind: 'remove'; readonly path: string }
  | {
      readonly kind: 'run';
      readonly command: string;
      readonly args: readonly string[];
      /** A failure is expected in some states (e.g. stopping what is not running). */
      readonly allowFailure?: boolean;
    };

/** What install and uninstall do on one OS. */
export interface AutostartPlan {
  /** The file that describes the autostart entry (unit, plist, task XML). */
  readonly file: string;
  readonly install: readonly Step[];
  readonly uninstall: readonly Step[];
}

/** The user session an autostart plan is for. */
export interface AutostartContext extends PlatformEnv {
  /** The numeric user id (macOS launchctl domain). */
  readonly uid: number;
}

/** Raised for an OS without an autostart mechanism here. */
export class AutostartError extends Error {
  override name = 'AutostartError';
  readonly code = 'AUTOSTART_UNSUPPORTED';
}

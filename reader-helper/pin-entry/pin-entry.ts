/**
 * The helper's own PIN window: the only place where a person types the card's PIN (issue 11).
 * The browser never sees the PIN; the helper shows a native dialog of the desktop (zenity, kdialog
 * or yad on Linux, `osascript` on macOS, a PowerShell WinForms box on Windows) that says which site
 * asks and why, reads the PIN from the dialog program's stdout and hands it to the card service.
 * The PIN is never put in argv, the environment, a log line or an error.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { type CommandRunner, fixedSession, linuxDesktopSession } from './desktop-session.js';
import { createDialogPinEntry, type PinEntryTimingObserver } from './dialog-pin-entry.js';
import type { DialogProgram } from './dialog-program.js';
import { kdialogProgram } from './kdialog.js';
import { osascriptProgram } from './osascript.js';
import { PIN_ENTRY_TIMEOUT_MS, PinEntryError, type PinEntryErrorCode } from './pin-entry-error.js';
import { powershellProgram, windowsPowerShellPath } from './powershell.js';
import {
  lastTryDialogTitle,
  type PinEntryLanguage,
  pinDialogTitle,
  pinPadNoticeTitle,
  UNAVAILABLE,
} from './texts.js';
import { yadProgram } from './yad.js';
import { zenityProgram } from './zenity.js';

export type { CommandRunner } from './desktop-session.js';
export type { DialogWindow } from './dialog-pin-entry.js';
export type { DialogTiming } from './run-dialog.js';
export type { PinEntryErrorCode, PinEntryLanguage, PinEntryTimingObserver };
export { lastTryDialogTitle, PIN_ENTRY_TIMEOUT_MS, PinEntryError, pinDialogTitle, pinPadNoticeTitle };

/** Which PIN of the card is asked for: decides the format rule and the labels. */
export type PinSecret = 'user-auth-pin' | 'signing-password';

/** What the PIN window must say, and how long it may stay open. */
export interface PinRequest {
  /** Shown verbatim: the site the signature is for. */
  readonly origin: string;
  readonly purpose: 'sign-in' | 'verify-identity';
  /** Format rule and labels (user-auth: 4 digits). */
  readonly secret: PinSecret;
  /** >= 1, as the card reported it. */
  readonly triesLeft: number;
  readonly language: PinEntryLanguage;
  /** Abort closes the window (kills the dialog process). */
  readonly signal: AbortSignal;
}

/** A notice window shown while a PIN-pad reader waits for the keypad. */
export interface PinPadNotice {
  /** Resolves when the person closes the notice with its Cancel button. */
  readonly cancelled: Promise<void>;
  /** Closes the notice (the pad has answered). Idempotent. */
  close(): void;
}

/** The helper's native PIN dialogs. */
export interface PinEntry {
  /** 'zenity' | 'kdialog' | 'yad' | 'osascript' | 'powershell' | ... */
  readonly kind: string;
  /** triesLeft === 1: confirmation first. Re-asks on a bad format. Resolves with the PIN. */
  requestPin(request: PinRequest): Promise<string>;
  /**
   * The last-try question on its own (`request.triesLeft === 1`), for PIN-pad readers: resolves
   * when the person chooses to go on; USER_CANCELLED when they decline (Cancel is the default).
   */
  confirmLastTry(request: PinRequest): Promise<void>;
  /**
   * PIN-pad readers: a notice window ("enter your PIN on the reader's keypad"); with `cancelling`,
   * the one after a cancel while the keypad still waits ("press Cancel on the reader's keypad").
   */
  showPinPadNotice(request: PinRequest, options?: { readonly cancelling?: boolean }): PinPadNotice;
  /** Why no window can be shown now (no desktop session, no dialog program), or undefined; opens nothing. */
  unavailable?(): string | undefined;
}

/** Options of createPinEntry. */
export interface CreatePinEntryOptions {
  /** Default: process.platform. */
  readonly platform?: NodeJS.Platform;
  /** The environment dialogs run in (DISPLAY, PATH, ...). Default: process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Called with each dialog's spawn and answer moments (the bench's pin_dialog_overhead_ms). */
  readonly onTiming?: PinEntryTimingObserver;
  /**
   * Runs `systemctl --user show-environment` when the environment names no display (Linux).
   * Default: the real program; tests pass a fake so they never read the machine's user manager.
   */
  readonly runCommand?: CommandRunner;
}

/** Linux and other X11/Wayland desktops: the first of these found on PATH. */
const LINUX_PROGRAMS: readonly (readonly [string, (file: string) => DialogProgram])[] = [
  ['zenity', zenityProgram],
  ['kdialog', kdialogProgram],
  ['yad', yadProgram],
];

/**
 * The PIN entry of this desktop: PowerShell/WinForms on Windows, osascript on macOS, else the
 * first of zenity, kdialog, yad on PATH, which needs DISPLAY or WAYLAND_DISPLAY — taken, when the
 * environment has neither, from the user manager at each window (desktop-session.ts). When no
 * window can be shown, every request fails with PIN_ENTRY_UNAVAILABLE and a message saying what to do.
 */
export function createPinEntry(options: CreatePinEntryOptions = {}): PinEntry {
  const platform = options.platform ?? process.platform;
  const env = options.env ?? process.env;
  const entry = (program: DialogProgram, session = fixedSession(env)): PinEntry =>
    createDialogPinEntry(program, { session, onTiming: options.onTiming });
  if (platform === 'win32') return entry(powershellProgram(windowsPowerShellPath(env)));
  if (platform === 'darwin') return entry(osascriptProgram());
  if (platform === 'android' || platform === 'cygwin')
    return unavailableEntry(UNAVAILABLE.unsupportedPlatform(platform));
  for (const [name, program] of LINUX_PROGRAMS) {
    const file = findOnPath(name, env);
    if (file !== undefined) return entry(program(file), linuxDesktopSession(env, options.runCommand));
  }
  return unavailableEntry(UNAVAILABLE.noLinuxProgram);
}

/** A PinEntry that can show nothing: every request fails with PIN_ENTRY_UNAVAILABLE and `reason`. */
function unavailableEntry(reason: string): PinEntry {
  const refuse = () => Promise.reject(new PinEntryError('PIN_ENTRY_UNAVAILABLE', reason));
  return {
    kind: 'none',
    unavailable: () => reason,
    requestPin: refuse,
    confirmLastTry: refuse,
    showPinPadNotice: () => ({ cancelled: new Promise<void>(() => {}), close: () => {} }),
  };
}

/** The absolute path of executable `name` in env.PATH, if any. */
function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const directory of (env.PATH ?? '').split(delimiter)) {
    if (directory === '') continue;
    const file = join(directory, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

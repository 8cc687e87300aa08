/**
 * A dialog program as the PIN entry sees it: how to build the command for each of its three
 * windows (PIN, last-try confirmation, PIN-pad notice) and what its exit codes mean. A program
 * module only builds commands; running them is `run-dialog.ts`, the flow is `dialog-pin-entry.ts`.
 */
import type { DialogTexts } from './texts.js';

/** How a dialog process ended, in the PIN entry's terms. */
export type DialogOutcome = 'accepted' | 'declined' | 'failed';

/** One dialog process to start. The PIN never appears in `args` or `env`: it comes back on stdout. */
export interface DialogCommand {
  readonly file: string;
  readonly args: readonly string[];
  /** Added to the helper's environment (texts for PowerShell, toolkit settings). */
  readonly env: Readonly<Record<string, string>>;
  /** What an exit code means (stderr only to tell a cancel from a failure; it is never logged). */
  outcome(exitCode: number, stderr: string): DialogOutcome;
}

/** The windows one dialog program can show. */
export interface DialogProgram {
  readonly kind: string;
  /** A password box; on OK the program prints the entry and a newline on stdout. */
  pinDialog(texts: DialogTexts): DialogCommand;
  /** Two buttons, Cancel the default (Enter declines); `accepted` only on `texts.ok`. */
  confirmDialog(texts: DialogTexts): DialogCommand;
  /** One button (`texts.cancel`); the process ends when the person presses it or closes the window. */
  noticeDialog(texts: DialogTexts): DialogCommand;
}

/**
 * `accepted` on 0, `declined` on the codes a person's Cancel, Escape or window close give, else
 * `failed`; also `failed` when stderr matches `failure` (GTK exits 1, as on Cancel, when it cannot
 * open the display).
 */
export function exitCodeOutcome(
  declinedCodes: readonly number[],
  failure?: RegExp,
): (exitCode: number, stderr: string) => DialogOutcome {
  return (exitCode, stderr) => {
    if (exitCode === 0) return 'accepted';
    return declinedCodes.includes(exitCode) && !failure?.test(stderr) ? 'declined' : 'failed';
  };
}

/** What GTK prints when it cannot reach the display. */
export const GTK_NO_DISPLAY = /cannot open display/;

/** A button label with its `&` access-key marker turned into `marker` (e.g. `_` for GTK), `&&` kept as a literal `&`. */
export function withAccessKey(label: string, marker: string): string {
  return label.replace(/&(&?)/g, (_, literal: string) => (literal ? '&' : marker));
}

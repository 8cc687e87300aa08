/**
 * macOS: `osascript` with a constant AppleScript whose `on run argv` handler receives every text
 * as an argument, so no text is ever part of the script. `display dialog … with hidden answer`
 * is the password box; Cancel raises error -128, which makes osascript exit 1 with "(-128)" on
 * stderr. The answer is the handler's result, which osascript prints on stdout.
 */
import type { DialogCommand, DialogOutcome, DialogProgram } from './dialog-program.js';
import { withAccessKey } from './dialog-program.js';
import type { DialogTexts } from './texts.js';

export const OSASCRIPT = '/usr/bin/osascript';

/** The scripts, one `-e` line each; argv: title, text, OK label, Cancel label. */
export const OSASCRIPT_SCRIPTS = {
  pin: [
    'on run argv',
    'set {theTitle, theText, okLabel, cancelLabel} to argv',
    'activate',
    'set answer to display dialog theText with title theTitle default answer "" with hidden answer buttons {cancelLabel, okLabel} default button okLabel cancel button cancelLabel with icon note',
    'return text returned of answer',
    'end run',
  ],
  confirm: [
    'on run argv',
    'set {theTitle, theText, okLabel, cancelLabel} to argv',
    'activate',
    'display dialog theText with title theTitle buttons {cancelLabel, okLabel} default button cancelLabel cancel button cancelLabel with icon caution',
    'return ""',
    'end run',
  ],
  notice: [
    'on run argv',
    'set {theTitle, theText, cancelLabel} to argv',
    'activate',
    'display dialog theText with title theTitle buttons {cancelLabel} default button cancelLabel cancel button cancelLabel with icon note',
    'return ""',
    'end run',
  ],
} as const;

function outcome(exitCode: number, stderr: string): DialogOutcome {
  if (exitCode === 0) return 'accepted';
  return exitCode === 1 && stderr.includes('(-128)') ? 'declined' : 'failed';
}

function scriptArgs(lines: readonly string[]): string[] {
  return lines.flatMap((line) => ['-e', line]);
}

/** macOS buttons have no access keys: the `&` markers are dropped. */
const label = (text: string): string => withAccessKey(text, '');

export function osascriptProgram(file = OSASCRIPT): DialogProgram {
  const command = (script: readonly string[], texts: DialogTexts): DialogCommand => {
    const buttons = texts.ok === undefined ? [texts.cancel] : [texts.ok, texts.cancel];
    return {
      file,
      args: [...scriptArgs(script), texts.title, texts.text, ...buttons.map(label)],
      env: {},
      outcome,
    };
  };
  return {
    kind: 'osascript',
    pinDialog: (texts) => command(OSASCRIPT_SCRIPTS.pin, texts),
    confirmDialog: (texts) => command(OSASCRIPT_SCRIPTS.confirm, texts),
    noticeDialog: (texts) => command(OSASCRIPT_SCRIPTS.notice, texts),
  };
}

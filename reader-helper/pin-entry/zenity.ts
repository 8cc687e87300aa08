/**
 * zenity (GNOME; Debian 12 ships 3.44). Its entry dialog's `--text` goes through g_strcompress
 * and a mnemonic label (a backslash starts an escape, `_` marks an access key), so both are
 * doubled; the question and info dialogs get `--no-markup`, which shows their text as is.
 * Exit codes: 0 OK, 1 Cancel / Escape / window closed, 255 cannot start (no display).
 */
import {
  type DialogCommand,
  type DialogProgram,
  exitCodeOutcome,
  GTK_NO_DISPLAY,
  withAccessKey,
} from './dialog-program.js';
import type { DialogTexts } from './texts.js';

/** GTK would try the accessibility bus first, costing ~30 ms per window when no session bus answers. */
const ZENITY_ENV = { NO_AT_BRIDGE: '1' };
const outcome = exitCodeOutcome([1], GTK_NO_DISPLAY);

/** Text for a mnemonic label behind g_strcompress: shown literally. */
export function literalEntryText(text: string): string {
  return text.replace(/[\\_]/g, (character) => character + character);
}

export function zenityProgram(file = 'zenity'): DialogProgram {
  /** `dialog` options, then title, text and button labels (a notice's only button is its OK button). */
  const command = (dialog: readonly string[], texts: DialogTexts, text: string): DialogCommand => ({
    file,
    args: [
      ...dialog,
      '--title',
      texts.title,
      '--width',
      '420',
      '--modal',
      '--text',
      text,
      '--ok-label',
      withAccessKey(texts.ok ?? texts.cancel, '_'),
      ...(texts.ok === undefined ? [] : ['--cancel-label', withAccessKey(texts.cancel, '_')]),
    ],
    env: ZENITY_ENV,
    outcome,
  });
  return {
    kind: 'zenity',
    pinDialog: (texts) => command(['--entry', '--hide-text'], texts, literalEntryText(texts.text)),
    confirmDialog: (texts) =>
      command(
        ['--question', '--default-cancel', '--no-markup', '--icon-name', 'dialog-warning'],
        texts,
        texts.text,
      ),
    noticeDialog: (texts) => command(['--info', '--no-markup'], texts, texts.text),
  };
}

/**
 * yad (a zenity fork). `--text` goes through g_strcompress, so backslashes are doubled; with
 * `--no-markup` it is shown as is. Enter in the entry answers at once. The first button (Cancel)
 * has the keyboard focus in the confirmation. Exit codes: 0 OK, 1 Cancel, 252 Escape / closed.
 */
import { type DialogProgram, exitCodeOutcome, GTK_NO_DISPLAY, withAccessKey } from './dialog-program.js';

const outcome = exitCodeOutcome([1, 252], GTK_NO_DISPLAY);
const YAD_ENV = { NO_AT_BRIDGE: '1' };

function literalText(text: string): string {
  return text.replace(/\\/g, '\\\\');
}

/** A yad button: NAME:ID, with `:` and `!` (icon separator) kept out of the label. */
function button(label: string, exitCode: number): string {
  return `--button=${withAccessKey(label, '_').replace(/[:!]/g, ' ')}:${exitCode}`;
}

export function yadProgram(file = 'yad'): DialogProgram {
  const common = (title: string, text: string) => [
    '--title',
    title,
    '--text',
    literalText(text),
    '--no-markup',
    '--width',
    '420',
    '--center',
    '--on-top',
  ];
  return {
    kind: 'yad',
    pinDialog: (texts) => ({
      file,
      args: [
        '--entry',
        '--hide-text',
        ...common(texts.title, texts.text),
        button(texts.cancel, 1),
        button(texts.ok ?? 'OK', 0),
      ],
      env: YAD_ENV,
      outcome,
    }),
    confirmDialog: (texts) => ({
      file,
      args: [
        ...common(texts.title, texts.text),
        '--image',
        'dialog-warning',
        button(texts.cancel, 1),
        button(texts.ok ?? 'OK', 0),
      ],
      env: YAD_ENV,
      outcome,
    }),
    noticeDialog: (texts) => ({
      file,
      args: [...common(texts.title, texts.text), button(texts.cancel, 1)],
      env: YAD_ENV,
      outcome,
    }),
  };
}

/**
 * kdialog (KDE). Its texts go through a backslash-escape parser and into Qt labels that guess
 * rich text, so each text is HTML-escaped inside `<qt>` (always rich text, shown literally) with
 * backslashes doubled. kdialog has no "default Cancel" option; its Yes button is the default, so
 * the last-try confirmation is a yes/no box whose Yes button is labelled Cancel and whose No button
 * is Continue: only exit code 1 (No = Continue) accepts; 0 (Cancel), 2 (Escape / closed) decline.
 */
import type { DialogCommand, DialogProgram } from './dialog-program.js';
import { exitCodeOutcome } from './dialog-program.js';

/** A kdialog text shown literally: rich text with every character escaped. */
export function literalKdialogText(text: string): string {
  const html = text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\\/g, '\\\\')
    .replace(/\n/g, '<br>');
  return `<qt>${html}</qt>`;
}

export function kdialogProgram(file = 'kdialog'): DialogProgram {
  return {
    kind: 'kdialog',
    pinDialog: (texts) => ({
      file,
      args: ['--title', texts.title, '--password', literalKdialogText(texts.text)],
      env: {},
      outcome: exitCodeOutcome([1, 2]),
    }),
    confirmDialog: (texts): DialogCommand => ({
      file,
      args: [
        '--title',
        texts.title,
        '--warningyesno',
        literalKdialogText(texts.text),
        '--yes-label',
        texts.cancel,
        '--no-label',
        texts.ok ?? 'OK',
      ],
      env: {},
      outcome: (exitCode) =>
        exitCode === 1 ? 'accepted' : exitCode === 0 || exitCode === 2 ? 'declined' : 'failed',
    }),
    noticeDialog: (texts) => ({
      file,
      args: ['--title', texts.title, '--msgbox', literalKdialogText(texts.text), '--ok-label', texts.cancel],
      env: {},
      outcome: exitCodeOutcome([1, 2]),
    }),
  };
}

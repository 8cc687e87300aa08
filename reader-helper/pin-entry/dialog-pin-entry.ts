/**
 * The PIN entry flow over one dialog program: the last-try confirmation first (Cancel is the
 * default), then the PIN window, shown again with an explanation while the entry does not match
 * the card's format (nothing reaches the card), all within one `PIN_ENTRY_TIMEOUT_MS` budget.
 * PIN-pad readers get the same confirmation on its own (`confirmLastTry`) before the keypad.
 * Each window runs in the environment its {@link DialogSession} gives at that moment.
 */
import type { DialogSession } from './desktop-session.js';
import type { DialogProgram } from './dialog-program.js';
import type { PinEntry, PinPadNotice, PinRequest } from './pin-entry.js';
import { PIN_ENTRY_TIMEOUT_MS, PinEntryError } from './pin-entry-error.js';
import { type DialogTiming, runDialog } from './run-dialog.js';
import { lastTryWindowTexts, pinPadNoticeTexts, pinRule, pinWindowTexts } from './texts.js';

/** Which window a timing belongs to. */
export type DialogWindow = 'pin' | 'last-try' | 'pin-pad-notice';

/** Receives the moments of each dialog (spawn, answer) so the bench can measure the helper's share. */
export type PinEntryTimingObserver = (window: DialogWindow, timing: DialogTiming) => void;

export interface DialogPinEntryOptions {
  /** The environment each window runs in (DISPLAY, PATH, locale), or why none can be shown. */
  readonly session: DialogSession;
  readonly onTiming?: PinEntryTimingObserver;
  /** Overrides PIN_ENTRY_TIMEOUT_MS (tests). */
  readonly timeoutMs?: number;
}

/** A PinEntry that shows `program`'s windows. */
export function createDialogPinEntry(program: DialogProgram, options: DialogPinEntryOptions): PinEntry {
  const { session, onTiming } = options;
  const timeoutMs = options.timeoutMs ?? PIN_ENTRY_TIMEOUT_MS;
  const timing = (window: DialogWindow) => (onTiming ? (t: DialogTiming) => onTiming(window, t) : undefined);
  const budget = (request: PinRequest) => AbortSignal.any([request.signal, AbortSignal.timeout(timeoutMs)]);

  /** The last-try question; resolves when the person chooses "Continue". */
  const confirm = async (request: PinRequest, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<void> => {
    const answer = await runDialog(program.confirmDialog(lastTryWindowTexts(request)), {
      env,
      signal,
      answerLine: false,
      onTiming: timing('last-try'),
    });
    if (answer.outcome === 'declined') {
      throw new PinEntryError('USER_CANCELLED', 'The last PIN try was declined in the card helper’s window');
    }
  };

  return {
    kind: program.kind,
    unavailable: () => session.unavailable(),

    async confirmLastTry(request) {
      const env = await session.environment();
      await confirm(request, env, budget(request));
    },

    async requestPin(request) {
      const env = await session.environment();
      const signal = budget(request);
      if (request.triesLeft === 1) await confirm(request, env, signal);
      const rule = pinRule(request.secret);
      for (let formatError = false; ; formatError = true) {
        const answer = await runDialog(program.pinDialog(pinWindowTexts(request, formatError)), {
          env,
          signal,
          answerLine: true,
          onTiming: timing('pin'),
        });
        if (answer.outcome === 'declined') {
          throw new PinEntryError(
            'USER_CANCELLED',
            'The PIN entry was cancelled in the card helper’s window',
          );
        }
        if (answer.line !== undefined && rule.test(answer.line)) return answer.line;
      }
    },

    showPinPadNotice(request: PinRequest, options = {}): PinPadNotice {
      const closing = new AbortController();
      const signal = AbortSignal.any([request.signal, closing.signal]);
      let cancel: () => void = () => {};
      const cancelled = new Promise<void>((resolve) => {
        cancel = resolve;
      });
      session
        .environment()
        .then((env) =>
          runDialog(program.noticeDialog(pinPadNoticeTexts(request, options.cancelling)), {
            env,
            signal,
            answerLine: false,
            onTiming: timing('pin-pad-notice'),
          }),
        )
        .then(
          // The person pressed the notice's only button or closed it.
          () => cancel(),
          // Closed by us, or the notice could not be shown: the reader's keypad still works.
          () => {},
        );
      return { cancelled, close: () => closing.abort() };
    },
  };
}

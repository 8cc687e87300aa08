/**
 * The person at the PC, for tests: finds the helper's PIN windows on an X display by their titles
 * (reader-helper/pin-entry/texts.ts, both languages) and answers them with the keyboard through
 * xdotool, as a person would — types the PIN and presses Enter, presses Escape to cancel, the
 * access key of "Continue" to accept the last try and Enter (the default, cancel) to decline it.
 */
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import {
  LAST_TRY_ACCEPT_ACCESS_KEY,
  lastTryDialogTitle,
  pinDialogTitle,
  pinPadNoticeTitle,
} from '../../reader-helper/pin-entry/texts.js';
import type { XDisplay } from './xvfb.js';

const run = promisify(execFile);
const DEFAULT_TIMEOUT_MS = 10_000;
const POLL_MS = 25;
const LANGUAGES = ['ja', 'en'] as const;

/** An anchored regular expression matching any of `titles` exactly (xdotool: POSIX extended). */
function titlePattern(title: (language: 'ja' | 'en') => string): string {
  const escaped = LANGUAGES.map((language) => title(language).replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return `^(${escaped.join('|')})$`;
}

const PIN_WINDOW = titlePattern(pinDialogTitle);
const LAST_TRY_WINDOW = titlePattern(lastTryDialogTitle);
const ANY_HELPER_WINDOW = `${PIN_WINDOW}|${LAST_TRY_WINDOW}|${titlePattern(pinPadNoticeTitle)}`;

/** Drives the helper's PIN windows on `display`. */
export class PinDialogUser {
  readonly #display: XDisplay;

  constructor(display: XDisplay) {
    this.#display = display;
  }

  /**
   * Waits for the PIN window, types `pin` into it and presses Enter; `onEnter` is called just
   * before Enter is pressed (the bench's pin_dialog_overhead_ms).
   */
  async enterPin(pin: string, options: { timeoutMs?: number; onEnter?: () => void } = {}): Promise<void> {
    const window = await this.#waitForWindow(PIN_WINDOW, 'the PIN window', options.timeoutMs);
    await this.#xdotool('windowfocus', '--sync', window, 'type', '--delay', '5', '--', pin);
    options.onEnter?.();
    await this.#press(window, 'Return');
  }

  /** Waits for any helper window (PIN, last try, PIN-pad notice) and presses Escape in it. */
  async cancel(): Promise<void> {
    const window = await this.#waitForWindow(ANY_HELPER_WINDOW, 'a helper window');
    await this.#press(window, 'Escape');
  }

  /** Waits for the last-try window and presses "Continue" (its access key). */
  async acceptLastTry(): Promise<void> {
    const window = await this.#waitForWindow(LAST_TRY_WINDOW, 'the last-try window');
    await this.#press(window, `alt+${LAST_TRY_ACCEPT_ACCESS_KEY}`);
  }

  /** Waits for the last-try window and presses Enter: the default button, which declines. */
  async declineLastTry(): Promise<void> {
    const window = await this.#waitForWindow(LAST_TRY_WINDOW, 'the last-try window');
    await this.#press(window, 'Return');
  }

  /** True when no helper window is visible at any moment during `ms`. */
  async noDialogWithin(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    do {
      if ((await this.#visibleWindows(ANY_HELPER_WINDOW)).length > 0) return false;
      await sleep(POLL_MS);
    } while (Date.now() < deadline);
    return true;
  }

  /** The ids of the visible helper windows now (for tests that check a window went away). */
  helperWindows(): Promise<string[]> {
    return this.#visibleWindows(ANY_HELPER_WINDOW);
  }

  /** Focuses `window`, presses `key` (real input through XTEST) and waits until the window has closed. */
  async #press(window: string, key: string): Promise<void> {
    await this.#xdotool('windowfocus', '--sync', window, 'key', key);
    const deadline = Date.now() + DEFAULT_TIMEOUT_MS;
    while ((await this.#visibleWindows(ANY_HELPER_WINDOW)).includes(window)) {
      if (Date.now() >= deadline) throw new Error(`window ${window} stayed open after ${key}`);
      await sleep(POLL_MS);
    }
  }

  async #waitForWindow(pattern: string, what: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [window] = await this.#visibleWindows(pattern);
      if (window !== undefined) return window;
      if (Date.now() >= deadline) {
        throw new Error(`${what} did not appear on ${this.#display.display} within ${timeoutMs} ms`);
      }
      await sleep(POLL_MS);
    }
  }

  async #visibleWindows(pattern: string): Promise<string[]> {
    try {
      const { stdout } = await run('xdotool', ['search', '--onlyvisible', '--name', pattern], {
        env: this.#display.env,
      });
      return stdout.split('\n').filter((line) => line !== '');
    } catch (error) {
      // xdotool search exits 1 when nothing matches; anything else is a real failure.
      if ((error as { code?: unknown }).code === 1) return [];
      throw error;
    }
  }

  async #xdotool(...args: string[]): Promise<void> {
    await run('xdotool', args, { env: this.#display.env });
  }
}

/**
 * The person at the PC for card-service and daemon tests: what they do in the helper's PIN window,
 * one scripted answer per window (typing a PIN, pressing Cancel, or leaving it open until the
 * helper closes it), as a ScriptedPinEntry. When nothing is scripted they type `defaultPin` into a
 * user-auth PIN window and `defaultSigningPassword` into a signing-password window.
 */

import { ScriptedPinEntry } from '../../dev-card/virtual-card-tools.js';
import { DEV_SIGNING_PIN } from '../../dev-pki/hierarchy.js';
import { CardError } from '../../reader-helper/card/card-error.js';
import { PinEntryError, type PinRequest } from '../../reader-helper/pin-entry/pin-entry.js';

type Answer = (request: PinRequest) => Promise<string>;

/** A window the person left open: resolves with why the helper closed it. */
export interface OpenWindow {
  /** The request of the window, once it opened. */
  readonly opened: Promise<PinRequest>;
  /** The signal's reason, once the helper closed the window. */
  readonly closed: Promise<unknown>;
}

export class ScriptedPerson {
  private readonly answers: Answer[] = [];
  readonly pinEntry: ScriptedPinEntry;

  constructor(
    private readonly defaultPin = '1234',
    private readonly defaultSigningPassword = DEV_SIGNING_PIN,
  ) {
    this.pinEntry = new ScriptedPinEntry((request) => {
      const fallback = request.secret === 'signing-password' ? this.defaultSigningPassword : this.defaultPin;
      const answer = this.answers.shift() ?? (async () => fallback);
      return answer(request);
    });
  }

  /** The PIN windows shown so far. */
  get requests(): readonly PinRequest[] {
    return this.pinEntry.requests;
  }

  /** In the next window, types `pin` (a PIN or a signing password). */
  types(pin: string): this {
    this.answers.push(async () => pin);
    return this;
  }

  /** In the next window, presses Cancel (or declines the last try). */
  cancels(): this {
    this.answers.push(async () => {
      throw new PinEntryError('USER_CANCELLED', 'the person cancelled the PIN entry');
    });
    return this;
  }

  /** The next window fails as `code` (e.g. PIN_ENTRY_UNAVAILABLE, TIMEOUT) without a PIN. */
  fails(code: PinEntryError['code']): this {
    this.answers.push(async () => {
      throw new PinEntryError(code, `the PIN window failed: ${code}`);
    });
    return this;
  }

  /** Types `pin` into the next window after `ms` milliseconds. */
  typesAfter(ms: number, pin: string): this {
    this.answers.push(() => new Promise((resolve) => setTimeout(() => resolve(pin), ms)));
    return this;
  }

  /** Leaves the next window open until the helper closes it (its signal aborts), as D's dialog does. */
  leavesOpen(): OpenWindow {
    let opened: (request: PinRequest) => void = () => {};
    let closed: (reason: unknown) => void = () => {};
    const window: OpenWindow = {
      opened: new Promise((resolve) => {
        opened = resolve;
      }),
      closed: new Promise((resolve) => {
        closed = resolve;
      }),
    };
    this.answers.push(
      (request) =>
        new Promise<string>((_, reject) => {
          opened(request);
          request.signal.addEventListener(
            'abort',
            () => {
              closed(request.signal.reason);
              const code =
                request.signal.reason instanceof CardError && request.signal.reason.code === 'TIMEOUT'
                  ? 'TIMEOUT'
                  : 'CANCELLED';
              reject(new PinEntryError(code, 'the PIN window was closed'));
            },
            { once: true },
          );
        }),
    );
    return window;
  }
}

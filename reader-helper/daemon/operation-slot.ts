/**
 * The helper's single card-operation slot, shared by every WebSocket connection and the
 * navigation path: a second operation while one runs is refused with BUSY. Each operation gets an
 * AbortSignal that fires on `cancel` or when its owner goes away (CANCELLED), when the card takes
 * too long (TIMEOUT: `cardMs` of card time — the clock stops while the person types the PIN), or
 * when the whole operation exceeds `personMs + cardMs` (TIMEOUT; the PIN window has its own,
 * shorter limit). The caller is answered as soon as the signal fires — except while a PIN-pad
 * reader waits for its keypad (`personTurn({ untilCardAnswers: true })`), which nothing can
 * stop: the caller is then answered when the card layer returns. The slot frees only when the
 * card layer has actually returned.
 */
import { CardError } from '../card/card-error.js';

/** The time limits of one operation. */
export interface SlotTimeouts {
  /** Card time: the clock runs except during the person's turn. */
  readonly cardMs: number;
  /** The person's share of the whole operation's limit (PIN entry). */
  readonly personMs: number;
}

/** What a running operation may tell its slot. */
export interface SlotOperation {
  readonly signal: AbortSignal;
  /**
   * The person's turn starts (PIN window open, PIN pad waiting): the card clock stops.
   * `untilCardAnswers`: the turn cannot be ended from here (a PIN pad's keypad) — an abort during
   * it answers the caller only once the task returns.
   */
  personTurn(options?: { readonly untilCardAnswers?: boolean }): void;
  /** The card's turn again: the card clock runs on with what was left of it. */
  cardTurn(): void;
}

interface Running {
  readonly owner: object;
  readonly id: string;
  readonly controller: AbortController;
}

/** One card operation at a time, across every connection. */
export class OperationSlot {
  private running: Running | undefined;

  constructor(private readonly timeouts: SlotTimeouts) {}

  /** True while an operation holds the slot. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Runs `task` in the slot for `owner`'s request `id`; throws CardError BUSY when the slot is taken. */
  async run<T>(owner: object, id: string, task: (operation: SlotOperation) => Promise<T>): Promise<T> {
    if (this.running) throw new CardError('BUSY', 'another card operation is in progress; try again shortly');
    const running: Running = { owner, id, controller: new AbortController() };
    this.running = running;
    const { signal } = running.controller;
    const timeout = (message: string) => () => running.controller.abort(new CardError('TIMEOUT', message));
    const card = new PausableTimer(this.timeouts.cardMs, timeout('the card did not answer in time'));
    const whole = setTimeout(
      timeout('the card operation took too long'),
      this.timeouts.cardMs + this.timeouts.personMs,
    );
    card.resume();
    /** Set while the turn cannot be ended: the answer to the caller waits for the task. */
    let waitForTask = false;
    const work = task({
      signal,
      personTurn: (options) => {
        card.pause();
        waitForTask = options?.untilCardAnswers === true;
      },
      cardTurn: () => {
        waitForTask = false;
        card.resume();
      },
    }).finally(() => {
      card.pause();
      clearTimeout(whole);
      if (this.running === running) this.running = undefined;
    });
    const aborted = new Promise<never>((_, reject) => {
      const onAbort = () => {
        if (!waitForTask) reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(
        () => signal.removeEventListener('abort', onAbort),
        () => signal.removeEventListener('abort', onAbort),
      );
    });
    return Promise.race([work, aborted]);
  }

  /** Cancels `owner`'s running operation (only the one with `id`, when given). True when one was running. */
  cancel(
    owner: object,
    id?: string,
    reason = new CardError('CANCELLED', 'the operation was cancelled'),
  ): boolean {
    const running = this.running;
    if (!running || running.owner !== owner || (id !== undefined && running.id !== id)) return false;
    running.controller.abort(reason);
    return true;
  }
}

/** A one-shot timer that can be stopped and continued with the time it had left. */
class PausableTimer {
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;

  constructor(
    private remainingMs: number,
    private readonly onExpiry: () => void,
  ) {}

  resume(): void {
    if (this.timer !== undefined) return;
    this.startedAt = performance.now();
    this.timer = setTimeout(this.onExpiry, this.remainingMs);
  }

  pause(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.remainingMs = Math.max(0, this.remainingMs - (performance.now() - this.startedAt));
  }
}

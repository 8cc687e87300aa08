/**
 * The helper's single card-operation slot, shared by all connections: a second operation while
 * one runs is refused with BUSY. Each operation gets an AbortSignal that fires on timeout
 * (TIMEOUT), on `cancel` or when its connection closes (CANCELLED). The caller is answered as
 * soon as the signal fires; the slot frees only when the card layer has actually returned.
 */
import { CardError } from '../card/card-error.js';

interface Running {
  readonly owner: object;
  readonly id: string;
  readonly controller: AbortController;
}

/** One card operation at a time, across every connection. */
export class OperationSlot {
  private running: Running | undefined;

  constructor(private readonly timeoutMs: number) {}

  /** True while an operation holds the slot. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Runs `task` in the slot for `owner`'s request `id`; throws CardError BUSY when the slot is taken. */
  async run<T>(owner: object, id: string, task: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.running) throw new CardError('BUSY', 'another card operation is in progress; try again shortly');
    const running: Running = { owner, id, controller: new AbortController() };
    this.running = running;
    const { signal } = running.controller;
    const timer = setTimeout(
      () => running.controller.abort(new CardError('TIMEOUT', 'the card did not answer in time')),
      this.timeoutMs,
    );
    const work = task(signal).finally(() => {
      clearTimeout(timer);
      if (this.running === running) this.running = undefined;
    });
    const aborted = new Promise<never>((_, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(
        () => signal.removeEventListener('abort', onAbort),
        () => signal.removeEventListener('abort', onAbort),
      );
    });
    return Promise.race([work, aborted]);
  }

  /** Cancels `owner`'s running operation (only the one with `id`, when given). True when one was running. */
  cancel(owner: object, id?: string): boolean {
    const running = this.running;
    if (!running || running.owner !== owner || (id !== undefined && running.id !== id)) return false;
    running.controller.abort(new CardError('CANCELLED', 'the operation was cancelled'));
    return true;
  }
}

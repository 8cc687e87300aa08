/** The operation slot's time limits: card time that stops while the person types, and the whole operation's limit. */
import { describe, expect, it } from '@jest/globals';
import { CardError } from '../../../reader-helper/card/card-error.js';
import { OperationSlot, type SlotOperation } from '../../../reader-helper/daemon/operation-slot.js';

/** A task that runs until its signal aborts, after doing `steps` with the operation. */
function until(steps: (operation: SlotOperation) => void) {
  return (operation: SlotOperation) =>
    new Promise<never>((_, reject) => {
      steps(operation);
      operation.signal.addEventListener('abort', () => reject(operation.signal.reason), { once: true });
    });
}

async function failure(promise: Promise<unknown>): Promise<{ error: CardError; ms: number }> {
  const started = performance.now();
  try {
    await promise;
  } catch (error) {
    return { error: error as CardError, ms: performance.now() - started };
  }
  throw new Error('expected the operation to fail');
}

describe('operation slot', () => {
  it('times the card out after cardMs of card time', async () => {
    const slot = new OperationSlot({ cardMs: 60, personMs: 10_000 });
    const { error, ms } = await failure(
      slot.run(
        {},
        'a',
        until(() => {}),
      ),
    );
    expect(error).toMatchObject({ code: 'TIMEOUT', message: 'the card did not answer in time' });
    expect(ms).toBeGreaterThanOrEqual(55);
    expect(ms).toBeLessThan(1000);
    expect(slot.busy).toBe(false);
  });

  it('stops the card clock during the person’s turn and continues it with what was left', async () => {
    const slot = new OperationSlot({ cardMs: 150, personMs: 10_000 });
    const { error, ms } = await failure(
      slot.run(
        {},
        'a',
        until((operation) => {
          setTimeout(() => operation.personTurn(), 100);
          setTimeout(() => operation.cardTurn(), 400);
        }),
      ),
    );
    expect(error.code).toBe('TIMEOUT');
    // 100 ms of card time, 300 ms of the person's, then the 50 ms left.
    expect(ms).toBeGreaterThanOrEqual(440);
    expect(ms).toBeLessThan(1500);
  });

  it('ends a person’s turn that never ends after personMs + cardMs', async () => {
    const slot = new OperationSlot({ cardMs: 50, personMs: 150 });
    const { error, ms } = await failure(
      slot.run(
        {},
        'a',
        until((operation) => operation.personTurn()),
      ),
    );
    expect(error).toMatchObject({ code: 'TIMEOUT', message: 'the card operation took too long' });
    expect(ms).toBeGreaterThanOrEqual(195);
    expect(ms).toBeLessThan(1500);
  });

  it('answers a cancel during a PIN pad’s wait only when the task returns (the slot stays busy); at once otherwise', async () => {
    const slot = new OperationSlot({ cardMs: 10_000, personMs: 10_000 });
    const owner = {};
    let readerAnswers: () => void = () => {};
    let answered = false;
    const running = slot.run(owner, 'a', (operation) => {
      operation.personTurn({ untilCardAnswers: true });
      return new Promise<never>((_, reject) => {
        readerAnswers = () => reject(new CardError('CANCELLED', 'cancelled; the reader answered'));
      });
    });
    void running.catch(() => (answered = true));
    expect(slot.cancel(owner, 'a')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(answered).toBe(false);
    expect(slot.busy).toBe(true);
    expect(
      (
        await failure(
          slot.run(
            {},
            'b',
            until(() => {}),
          ),
        )
      ).error.code,
    ).toBe('BUSY');
    readerAnswers();
    expect((await failure(running)).error).toMatchObject({ message: 'cancelled; the reader answered' });
    expect(slot.busy).toBe(false);
    // An ordinary person's turn (the PIN window) is answered at once, before the task returns.
    let windowCloses: () => void = () => {};
    const windowTurn = slot.run(owner, 'c', (operation) => {
      operation.personTurn();
      return new Promise<never>((_, reject) => {
        windowCloses = () => reject(new Error('the window closed'));
      });
    });
    slot.cancel(owner, 'c');
    expect((await failure(windowTurn)).error.code).toBe('CANCELLED');
    expect(slot.busy).toBe(true);
    windowCloses();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(slot.busy).toBe(false);
  });

  it('refuses a second operation with BUSY, cancels only the owner’s, with the reason given', async () => {
    const slot = new OperationSlot({ cardMs: 10_000, personMs: 10_000 });
    const owner = {};
    const running = failure(
      slot.run(
        owner,
        'a',
        until(() => {}),
      ),
    );
    await expect(slot.run({}, 'b', async () => 'never')).rejects.toMatchObject({ code: 'BUSY' });
    expect(slot.cancel({}, 'a')).toBe(false);
    expect(slot.cancel(owner, 'other')).toBe(false);
    expect(slot.cancel(owner, undefined, new CardError('USER_CANCELLED', 'the person cancelled'))).toBe(true);
    expect((await running).error.code).toBe('USER_CANCELLED');
    expect(slot.busy).toBe(false);
  });
});

/**
 * The `smartcard` binding rejects with plain Errors whose message is fixed per SCARD_* code (its
 * error classes are never thrown), so failures are recognised by message and mapped to CardErrors.
 */
import { CardError } from '../card/card-error.js';

/** Messages meaning pcscd went away (the contexts are dead; new ones are needed). */
const SERVICE_DOWN: ReadonlySet<string> = new Set([
  'PC/SC service not running',
  'PC/SC service stopped',
  'Communication error',
  'Invalid handle',
]);
/** Messages meaning the card (or its reader) is no longer there. */
const CARD_GONE: ReadonlySet<string> = new Set([
  'Card was removed',
  'No smart card present',
  'Reader unavailable',
  'Unknown reader',
  'Card is not connected',
]);

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Maps a failed transmit: removal or a vanished service → CARD_REMOVED, anything else → CARD_ERROR. */
export function transmitError(error: unknown): CardError {
  const message = messageOf(error);
  if (CARD_GONE.has(message) || SERVICE_DOWN.has(message)) {
    return new CardError('CARD_REMOVED', 'the card was removed', { cause: error });
  }
  return new CardError('CARD_ERROR', `card communication failed (${message})`, { cause: error });
}

/** Maps a failed connect: NO_CARD, NO_READER (reader or service gone) or CARD_ERROR. */
export function connectError(error: unknown): CardError {
  const message = messageOf(error);
  if (message === 'No smart card present' || message === 'Card was removed') {
    return new CardError('NO_CARD', 'no card in the reader', { cause: error });
  }
  if (message === 'Unknown reader' || message === 'Reader unavailable' || SERVICE_DOWN.has(message)) {
    return new CardError('NO_READER', 'the reader is not available', { cause: error });
  }
  return new CardError('CARD_ERROR', `cannot connect to the card (${message})`, { cause: error });
}

/**
 * One `authenticate` as both paths run it — a WebSocket session and the navigation path: in the
 * shared operation slot, for the origin the path established (the upgrade's Origin, or the return
 * address), with the person entering the PIN in the helper's own window; and how a failure is
 * told to the page (a stable code, tries left, never a PIN). The card clock stops while the
 * person types.
 */
import type { HelperErrorCode, HelperLanguage, ProgressStep } from '../../protocol/helper-protocol.js';
import { CardError } from '../card/card-error.js';
import { certificateTag, type Logger } from '../log.js';
import type { PinEntry } from '../pin-entry/pin-entry.js';
import type { HelperCards } from './cards.js';
import type { OperationSlot } from './operation-slot.js';
import { RequestError } from './requests.js';

/** What every path of the daemon shares. */
export interface DaemonContext {
  readonly cards: HelperCards;
  readonly slot: OperationSlot;
  readonly logger: Logger;
  readonly pinEntry: PinEntry;
  readonly helperVersion: string;
  readonly protocolVersion: number;
}

/** One sign-in to run. */
export interface Authentication {
  /** The request's id (the page's, or the navigation's operation id). */
  readonly id: string;
  readonly origin: string;
  readonly nonce: string;
  readonly language: HelperLanguage;
  /** Which path asked, for the log. */
  readonly path: 'websocket' | 'navigation';
  readonly onProgress: (step: ProgressStep, triesLeft?: number) => void;
}

/** The card's answer, base64url as the protocol carries it. */
export interface SignedAnswer {
  readonly certificate: string;
  readonly signature: string;
}

/** A failure as the page is told it. */
export interface Failure {
  readonly code: HelperErrorCode;
  readonly message: string;
  readonly triesLeft?: number;
}

/** Runs `authentication` in the slot for `owner` (BUSY when taken); rejects with CardError. */
export async function authenticateInSlot(
  context: DaemonContext,
  owner: object,
  authentication: Authentication,
): Promise<SignedAnswer> {
  const { cards, slot, logger, pinEntry } = context;
  const { id, origin, nonce, language, path, onProgress } = authentication;
  logger.log('info', 'authenticate', { origin, path });
  const { certificate, signature } = await slot.run(owner, id, (operation) =>
    cards.authenticate({
      origin,
      nonce,
      language,
      pinEntry,
      signal: operation.signal,
      onProgress: (step, triesLeft) => {
        if (step === 'signing') operation.cardTurn();
        else operation.personTurn({ untilCardAnswers: step === 'pin-pad' });
        onProgress(step, triesLeft);
      },
    }),
  );
  logger.log('info', 'authenticated', { origin, path, certificate: certificateTag(certificate) });
  return {
    certificate: Buffer.from(certificate).toString('base64url'),
    signature: Buffer.from(signature).toString('base64url'),
  };
}

/** What the page is told about `error` (logged with `origin`; an unexpected one as CARD_ERROR). */
export function failureOf(error: unknown, logger: Logger, origin: string | undefined): Failure {
  if (error instanceof RequestError || error instanceof CardError) {
    const triesLeft = error instanceof CardError ? error.triesLeft : undefined;
    logger.log('info', 'request refused', { origin, code: error.code, triesLeft });
    return { code: error.code, message: error.message, ...(triesLeft === undefined ? {} : { triesLeft }) };
  }
  logger.log('error', 'unexpected failure', {
    origin,
    error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
  });
  return { code: 'CARD_ERROR', message: 'the card reader failed unexpectedly' };
}

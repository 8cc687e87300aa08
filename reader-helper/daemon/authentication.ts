/**
 * One card operation — an `authenticate` or a `verify-identity` — as both paths run it, a
 * WebSocket session and the navigation path: in the shared operation slot, for the origin the path
 * established (the upgrade's Origin, or the return address), with the person entering the PIN or
 * password in the helper's own window; and how a failure is told to the page (a stable code, tries
 * left, never a PIN). The card clock stops while the person types. An identity verification is
 * logged without any certificate or tag of one: the signing certificate holds name, address, date
 * of birth and gender, and a tag of the user-auth certificate would tie the log line to the person.
 */
import type {
  CardOperationPurpose,
  HelperErrorCode,
  HelperLanguage,
  ProgressStep,
} from '../../protocol/helper-protocol.js';
import { CardError } from '../card/card-error.js';
import type { AuthenticateInput } from '../card/card-service.js';
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

/** One card operation to run (a sign-in or an identity verification). */
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

/** The card's answer to a sign-in, base64url as the protocol carries it. */
export interface SignedAnswer {
  readonly certificate: string;
  readonly signature: string;
}

/** The card's answer to an identity verification, base64url as the protocol carries it. */
export interface IdentityAnswer {
  readonly userAuthCertificate: string;
  readonly signingCertificate: string;
  readonly signature: string;
}

/** A failure as the page is told it. */
export interface Failure {
  readonly code: HelperErrorCode;
  readonly message: string;
  readonly triesLeft?: number;
}

/** Runs the sign-in `authentication` in the slot for `owner` (BUSY when taken); rejects with CardError. */
export async function authenticateInSlot(
  context: DaemonContext,
  owner: object,
  authentication: Authentication,
): Promise<SignedAnswer> {
  const { origin, path } = authentication;
  const { certificate, signature } = await runInSlot(context, owner, authentication, 'sign-in', (input) =>
    context.cards.authenticate(input),
  );
  context.logger.log('info', 'authenticated', { origin, path, certificate: certificateTag(certificate) });
  return { certificate: base64Url(certificate), signature: base64Url(signature) };
}

/** Runs the identity verification `authentication` in the slot for `owner`, as {@link authenticateInSlot}. */
export async function verifyIdentityInSlot(
  context: DaemonContext,
  owner: object,
  authentication: Authentication,
): Promise<IdentityAnswer> {
  const { origin, path } = authentication;
  const answer = await runInSlot(context, owner, authentication, 'verify-identity', (input) =>
    context.cards.verifyIdentity(input),
  );
  context.logger.log('info', 'identity verified', { origin, path });
  return {
    userAuthCertificate: base64Url(answer.userAuthCertificate),
    signingCertificate: base64Url(answer.signingCertificate),
    signature: base64Url(answer.signature),
  };
}

/** Logs the start and runs `call` in the slot with the card clock stopped during the person's turns. */
function runInSlot<T>(
  context: DaemonContext,
  owner: object,
  authentication: Authentication,
  purpose: CardOperationPurpose,
  call: (input: AuthenticateInput) => Promise<T>,
): Promise<T> {
  const { slot, logger, pinEntry } = context;
  const { id, origin, nonce, language, path, onProgress } = authentication;
  logger.log('info', purpose === 'sign-in' ? 'authenticate' : 'verify identity', { origin, path });
  return slot.run(owner, id, (operation) =>
    call({
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
}

function base64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
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

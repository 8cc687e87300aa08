/**
 * One accepted WebSocket connection: validates each frame, answers `hello`, runs `authenticate`
 * through the shared operation slot with the origin fixed at upgrade time, handles `cancel`.
 * The PIN only passes through as an argument; it is never logged, kept or echoed.
 */
import type { WebSocket } from 'ws';
import type {
  AuthenticateRequest,
  ErrorResponse,
  HelperMessage,
  HelperRequest,
} from '../../protocol/helper-protocol.js';
import { CardError } from '../card/card-error.js';
import { certificateTag, type Logger } from '../log.js';
import type { HelperCards } from './cards.js';
import type { OperationSlot } from './operation-slot.js';
import { parseRequest, RequestError } from './requests.js';

/** What every session shares. */
export interface SessionContext {
  readonly cards: HelperCards;
  readonly slot: OperationSlot;
  readonly logger: Logger;
  readonly helperVersion: string;
  readonly protocolVersion: number;
}

/** Serves one connection until it closes. */
export class HelperSession {
  constructor(
    private readonly socket: WebSocket,
    /** The normalized Origin of the accepted upgrade: the only origin this session signs for. */
    private readonly origin: string,
    private readonly context: SessionContext,
  ) {
    socket.on('message', (data, isBinary) => {
      void this.handle(() => parseRequest(data, isBinary));
    });
    socket.on('close', () => context.slot.cancel(this));
    socket.on('error', (error) =>
      context.logger.log('warn', 'connection error', { origin, error: error.message }),
    );
  }

  /** Sends a message if the connection is still open. */
  send(message: HelperMessage): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private async handle(parse: () => HelperRequest): Promise<void> {
    let request: HelperRequest | undefined;
    try {
      request = parse();
      this.send(await this.serve(request));
    } catch (error) {
      this.send(this.errorResponse(error, request?.id ?? (error as RequestError).id));
    }
  }

  private async serve(request: HelperRequest): Promise<HelperMessage> {
    switch (request.type) {
      case 'hello':
        return {
          type: 'hello',
          id: request.id,
          protocolVersion: this.context.protocolVersion,
          helperVersion: this.context.helperVersion,
          readers: await this.context.cards.readers(),
        };
      case 'cancel':
        this.context.slot.cancel(this, request.id);
        return { type: 'cancelled', id: request.id };
      case 'authenticate':
        return this.authenticate(request);
    }
  }

  private async authenticate({
    id,
    nonce,
    pin,
    confirmLastTry,
  }: AuthenticateRequest): Promise<HelperMessage> {
    const { cards, slot, logger } = this.context;
    const origin = this.origin;
    logger.log('info', 'authenticate', { origin });
    const { certificate, signature } = await slot.run(this, id, (signal) =>
      cards.authenticate({ origin, nonce, pin, confirmLastTry: confirmLastTry ?? false, signal }),
    );
    logger.log('info', 'authenticated', { origin, certificate: certificateTag(certificate) });
    return {
      type: 'authenticated',
      id,
      certificate: Buffer.from(certificate).toString('base64url'),
      signature: Buffer.from(signature).toString('base64url'),
    };
  }

  private errorResponse(error: unknown, id: string | undefined): ErrorResponse {
    const base = id === undefined ? {} : { id };
    if (error instanceof RequestError || error instanceof CardError) {
      const triesLeft = error instanceof CardError ? error.triesLeft : undefined;
      this.context.logger.log('info', 'request refused', {
        origin: this.origin,
        code: error.code,
        triesLeft,
      });
      return {
        type: 'error',
        ...base,
        code: error.code,
        message: error.message,
        ...(triesLeft === undefined ? {} : { triesLeft }),
      };
    }
    this.context.logger.log('error', 'unexpected failure', {
      origin: this.origin,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
    return { type: 'error', ...base, code: 'CARD_ERROR', message: 'the card reader failed unexpectedly' };
  }
}

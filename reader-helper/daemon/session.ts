/**
 * One accepted WebSocket connection: validates each frame, answers `hello`, runs `authenticate`
 * and `verify-identity` through the shared operation slot with the origin fixed at upgrade time
 * (pushing `progress` while the helper's PIN window is open and when the card signs), handles
 * `cancel`. No message carries a PIN or password: the person types it into the helper's own
 * window, which closes when the operation is cancelled or the connection closes.
 */
import type { WebSocket } from 'ws';
import type {
  AuthenticateRequest,
  HelperMessage,
  HelperRequest,
  VerifyIdentityRequest,
} from '../../protocol/helper-protocol.js';
import {
  type Authentication,
  authenticateInSlot,
  type DaemonContext,
  failureOf,
  verifyIdentityInSlot,
} from './authentication.js';
import { parseRequest, type RequestError } from './requests.js';

/** The language of the PIN window when the page names none. */
const DEFAULT_LANGUAGE = 'ja';

/** Serves one connection until it closes. */
export class HelperSession {
  constructor(
    private readonly socket: WebSocket,
    /** The normalized Origin of the accepted upgrade: the only origin this session signs for. */
    private readonly origin: string,
    private readonly context: DaemonContext,
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
      const id = request?.id ?? (error as RequestError).id;
      this.send({
        type: 'error',
        ...(id === undefined ? {} : { id }),
        ...failureOf(error, this.context.logger, this.origin),
      });
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
      case 'authenticate': {
        const answer = await authenticateInSlot(this.context, this, this.operation(request));
        return { type: 'authenticated', id: request.id, ...answer };
      }
      case 'verify-identity': {
        const answer = await verifyIdentityInSlot(this.context, this, this.operation(request));
        return { type: 'identity-verified', id: request.id, ...answer };
      }
    }
  }

  /** A card operation for this connection's origin, with its progress pushed to the page. */
  private operation({ id, nonce, language }: AuthenticateRequest | VerifyIdentityRequest): Authentication {
    return {
      id,
      origin: this.origin,
      nonce,
      language: language ?? DEFAULT_LANGUAGE,
      path: 'websocket',
      onProgress: (step, triesLeft) =>
        this.send({ type: 'progress', id, step, ...(triesLeft === undefined ? {} : { triesLeft }) }),
    };
  }
}

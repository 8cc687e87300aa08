/**
 * Validation of page → helper frames. Everything is checked here, before the card is touched:
 * a text frame holding a JSON object of a known type, a string id of at most 64 characters, the
 * nonce format, and the PIN format. Errors never repeat the PIN.
 */
import type { RawData } from 'ws';
import type { HelperErrorCode, HelperRequest } from '../../protocol/helper-protocol.js';
import { USER_AUTH_PIN } from '../../protocol/jpki-profile.js';
import { isValidNonce } from '../../protocol/signed-data.js';

export const MAX_REQUEST_ID_LENGTH = 64;

/** A frame that cannot be served; answered as an ErrorResponse (with the id when it had one). */
export class RequestError extends Error {
  override name = 'RequestError';
  constructor(
    readonly code: Extract<HelperErrorCode, 'BAD_REQUEST' | 'PIN_FORMAT'>,
    message: string,
    readonly id?: string,
  ) {
    super(message);
  }
}

/** Parses and validates one WebSocket message. Throws RequestError. */
export function parseRequest(data: RawData, isBinary: boolean): HelperRequest {
  if (isBinary) throw new RequestError('BAD_REQUEST', 'binary frames are not part of the protocol');
  let value: unknown;
  try {
    value = JSON.parse(rawText(data));
  } catch {
    throw new RequestError('BAD_REQUEST', 'the message is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RequestError('BAD_REQUEST', 'the message must be a JSON object');
  }
  const message = value as Record<string, unknown>;
  const { id, type } = message;
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_REQUEST_ID_LENGTH) {
    throw new RequestError('BAD_REQUEST', `id must be a string of 1 to ${MAX_REQUEST_ID_LENGTH} characters`);
  }
  switch (type) {
    case 'hello':
    case 'cancel':
      return { type, id };
    case 'authenticate':
      return parseAuthenticate(message, id);
    default:
      throw new RequestError('BAD_REQUEST', 'unknown message type', id);
  }
}

function parseAuthenticate(message: Record<string, unknown>, id: string): HelperRequest {
  const { nonce, pin, confirmLastTry } = message;
  if (!isValidNonce(nonce))
    throw new RequestError('BAD_REQUEST', 'nonce must be base64url, 43-128 chars', id);
  if (confirmLastTry !== undefined && typeof confirmLastTry !== 'boolean') {
    throw new RequestError('BAD_REQUEST', 'confirmLastTry must be a boolean', id);
  }
  if (typeof pin !== 'string') throw new RequestError('BAD_REQUEST', 'pin must be a string', id);
  if (!USER_AUTH_PIN.pattern.test(pin)) {
    throw new RequestError('PIN_FORMAT', `the PIN is ${USER_AUTH_PIN.description}`, id);
  }
  return { type: 'authenticate', id, nonce, pin, confirmLastTry };
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}

/**
 * Validation of page → helper frames. Everything is checked here, before the card is touched:
 * a text frame holding a JSON object of a known type, a string id of at most 64 characters, the
 * nonce format and the language. A request that carries a PIN (or a last-try flag) the way
 * protocol 1 did is refused, and the PIN is not looked at: the person types it (and the signing
 * password) only into the helper's own window.
 */
import type { RawData } from 'ws';
import {
  HELPER_LANGUAGES,
  type HelperErrorCode,
  type HelperLanguage,
  type HelperRequest,
} from '../../protocol/helper-protocol.js';
import { isValidNonce } from '../../protocol/signed-data.js';

export const MAX_REQUEST_ID_LENGTH = 64;

/** A frame that cannot be served; answered as an ErrorResponse (with the id when it had one). */
export class RequestError extends Error {
  override name = 'RequestError';
  constructor(
    readonly code: Extract<HelperErrorCode, 'BAD_REQUEST'>,
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
    case 'verify-identity':
      return parseCardOperation(message, type, id);
    default:
      throw new RequestError('BAD_REQUEST', 'unknown message type', id);
  }
}

/** An `authenticate` or `verify-identity`: a nonce, an optional language, and never a PIN. */
function parseCardOperation(
  message: Record<string, unknown>,
  type: 'authenticate' | 'verify-identity',
  id: string,
): HelperRequest {
  const { nonce, language } = message;
  if ('pin' in message || 'confirmLastTry' in message) {
    throw new RequestError(
      'BAD_REQUEST',
      "the PIN is typed only into the helper's own window; reload the page",
      id,
    );
  }
  if (!isValidNonce(nonce))
    throw new RequestError('BAD_REQUEST', 'nonce must be base64url, 43-128 chars', id);
  if (language !== undefined && !isHelperLanguage(language)) {
    throw new RequestError('BAD_REQUEST', `language must be one of ${HELPER_LANGUAGES.join(', ')}`, id);
  }
  return { type, id, nonce, ...(language === undefined ? {} : { language }) };
}

/** True for a language the helper's windows and pages speak. */
export function isHelperLanguage(value: unknown): value is HelperLanguage {
  return (HELPER_LANGUAGES as readonly unknown[]).includes(value);
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}

/**
 * The JSON protocol between a login page and the reader-helper over ws://127.0.0.1:PORT.
 * Shared by the helper (server) and the OP's login script (client); bump PROTOCOL_VERSION on any
 * incompatible change. The origin that is signed is never part of a message: the helper takes it
 * from the WebSocket upgrade's Origin header.
 */
import { USER_AUTH_PIN } from './jpki-profile.js';

export const PROTOCOL_VERSION = 1;
/** The helper's fixed default port on 127.0.0.1 and ::1 (configurable with --port). */
export const DEFAULT_HELPER_PORT = 47_123;
/** Largest message either side accepts, in bytes. */
export const MAX_MESSAGE_BYTES = 16 * 1024;

/** Stable error codes the page shows in plain words. */
export const HelperErrorCode = {
  NO_READER: 'NO_READER',
  NO_CARD: 'NO_CARD',
  NOT_JPKI: 'NOT_JPKI',
  PIN_FORMAT: 'PIN_FORMAT',
  PIN_INCORRECT: 'PIN_INCORRECT',
  PIN_BLOCKED: 'PIN_BLOCKED',
  LAST_TRY: 'LAST_TRY',
  CARD_REMOVED: 'CARD_REMOVED',
  CARD_ERROR: 'CARD_ERROR',
  BUSY: 'BUSY',
  TIMEOUT: 'TIMEOUT',
  CANCELLED: 'CANCELLED',
  BAD_REQUEST: 'BAD_REQUEST',
} as const;
export type HelperErrorCode = (typeof HelperErrorCode)[keyof typeof HelperErrorCode];

/** The user-authentication PIN as a message carries it (the card profile's rule: 4 digits). */
export const USER_AUTH_PIN_PATTERN = USER_AUTH_PIN.pattern;

export type CardState = 'absent' | 'jpki' | 'not-jpki' | 'unknown';

export interface ReaderInfo {
  readonly name: string;
  readonly card: CardState;
}

// Page → helper

export interface HelloRequest {
  readonly type: 'hello';
  readonly id: string;
}

export interface AuthenticateRequest {
  readonly type: 'authenticate';
  readonly id: string;
  /** The OP's challenge nonce: base64url, 43–128 characters. */
  readonly nonce: string;
  /** The user-authentication PIN (4 digits). Used once; never stored or logged. */
  readonly pin: string;
  /** Must be true to spend the last remaining PIN try. */
  readonly confirmLastTry?: boolean;
}

export interface CancelRequest {
  readonly type: 'cancel';
  readonly id: string;
}

export type HelperRequest = HelloRequest | AuthenticateRequest | CancelRequest;

// Helper → page

export interface HelloResponse {
  readonly type: 'hello';
  readonly id: string;
  readonly protocolVersion: number;
  readonly helperVersion: string;
  readonly readers: readonly ReaderInfo[];
}

export interface AuthenticateResponse {
  readonly type: 'authenticated';
  readonly id: string;
  /** base64url DER of the user-authentication certificate. */
  readonly certificate: string;
  /** base64url RSASSA-PKCS1-v1_5 / SHA-256 signature over challengeSignedData(origin, nonce). */
  readonly signature: string;
}

export interface CancelResponse {
  readonly type: 'cancelled';
  readonly id: string;
}

export interface ErrorResponse {
  readonly type: 'error';
  /** The request id, when the request was readable enough to have one. */
  readonly id?: string;
  readonly code: HelperErrorCode;
  readonly message: string;
  /** PIN tries left, when the card told us (PIN_INCORRECT, LAST_TRY, PIN_BLOCKED). */
  readonly triesLeft?: number;
}

/** Pushed whenever readers or cards change. */
export interface ReadersEvent {
  readonly type: 'readers';
  readonly readers: readonly ReaderInfo[];
}

export type HelperMessage =
  | HelloResponse
  | AuthenticateResponse
  | CancelResponse
  | ErrorResponse
  | ReadersEvent;

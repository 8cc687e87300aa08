/**
 * What a login page and the reader-helper say to each other, in two ways:
 *
 * - the WebSocket protocol over ws://127.0.0.1:PORT (JSON messages), and
 * - the navigation path (no WebSocket: Safari, or a browser that blocks the socket): the page
 *   navigates to `http://127.0.0.1:PORT/authenticate?…` and the helper sends the browser back to
 *   `<origin>/interaction/<uid>/card-answer#myna-answer=<answer>` ({@link encodeCardAnswer}).
 *
 * Two operations: a login (`authenticate`: the user-authentication certificate and a signature
 * with its key) and an identity verification (`verify-identity`: both certificates and a signature
 * with the signing key over a readable document, after the signing password). Neither path
 * carries a PIN or password: the person types it only into the helper's own window. The origin that
 * is signed is never part of a message: the helper takes it from the WebSocket upgrade's Origin
 * header, or from the navigation's return address. Shared by the helper and the OP's login script
 * (bundled for the browser: no Node-only API here). Bump PROTOCOL_VERSION on any incompatible change;
 * additions keep it (a helper that predates `verify-identity` answers it with BAD_REQUEST).
 */

export const PROTOCOL_VERSION = 2;
/** The helper's fixed default port on 127.0.0.1 and ::1 (configurable with --port). */
export const DEFAULT_HELPER_PORT = 47_123;
/** Largest message either side accepts, in bytes. */
export const MAX_MESSAGE_BYTES = 16 * 1024;

/** Stable error codes the page shows in plain words. */
export const HelperErrorCode = {
  NO_READER: 'NO_READER',
  NO_CARD: 'NO_CARD',
  NOT_JPKI: 'NOT_JPKI',
  /**
   * A wrong PIN (the signing password, for `verify-identity`); `triesLeft` says how many remain.
   * The page may offer a new attempt.
   */
  PIN_INCORRECT: 'PIN_INCORRECT',
  /** No tries left: final, the PIN is reset at the municipal office. No PIN entry is offered. */
  PIN_BLOCKED: 'PIN_BLOCKED',
  CARD_REMOVED: 'CARD_REMOVED',
  CARD_ERROR: 'CARD_ERROR',
  BUSY: 'BUSY',
  TIMEOUT: 'TIMEOUT',
  /** The operation was aborted (the page's `cancel`, the connection closed, the helper stopped). */
  CANCELLED: 'CANCELLED',
  /** The person pressed Cancel in the helper's window (or on its page), or declined the last try. */
  USER_CANCELLED: 'USER_CANCELLED',
  /** The helper cannot show its PIN window (no desktop session, no dialog program). */
  PIN_ENTRY_UNAVAILABLE: 'PIN_ENTRY_UNAVAILABLE',
  BAD_REQUEST: 'BAD_REQUEST',
} as const;
export type HelperErrorCode = (typeof HelperErrorCode)[keyof typeof HelperErrorCode];

/** The languages of the helper's windows and pages. */
export type HelperLanguage = 'ja' | 'en';
export const HELPER_LANGUAGES: readonly HelperLanguage[] = ['ja', 'en'];

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
  /** The language of the helper's PIN window (default: Japanese). */
  readonly language?: HelperLanguage;
}

/**
 * Reads both certificates and signs identitySignedData(origin, nonce) (protocol/signed-data.ts)
 * with the signing key, after the signing password in the helper's window.
 */
export interface VerifyIdentityRequest {
  readonly type: 'verify-identity';
  readonly id: string;
  /** The OP's challenge nonce: base64url, 43–128 characters. */
  readonly nonce: string;
  /** The language of the helper's password window (default: Japanese). */
  readonly language?: HelperLanguage;
}

export interface CancelRequest {
  readonly type: 'cancel';
  readonly id: string;
}

export type HelperRequest = HelloRequest | AuthenticateRequest | VerifyIdentityRequest | CancelRequest;

/** What a card operation is for: a login, or an identity verification with the signing certificate. */
export type CardOperationPurpose = 'sign-in' | 'verify-identity';

// Helper → page

export interface HelloResponse {
  readonly type: 'hello';
  readonly id: string;
  readonly protocolVersion: number;
  readonly helperVersion: string;
  readonly readers: readonly ReaderInfo[];
}

/**
 * Where an `authenticate` or `verify-identity` is: `pin-entry` the helper's PIN window is open,
 * `pin-pad` the reader's keypad waits for the PIN, `signing` the PIN was right and the card signs.
 */
export type ProgressStep = 'pin-entry' | 'pin-pad' | 'signing';

export interface ProgressEvent {
  readonly type: 'progress';
  readonly id: string;
  readonly step: ProgressStep;
  /**
   * Tries left as the card reported them before the PIN entry (pin-entry, pin-pad): of the
   * user-auth PIN (`authenticate`) or of the signing password (`verify-identity`).
   */
  readonly triesLeft?: number;
}

export interface AuthenticateResponse {
  readonly type: 'authenticated';
  readonly id: string;
  /** base64url DER of the user-authentication certificate. */
  readonly certificate: string;
  /** base64url RSASSA-PKCS1-v1_5 / SHA-256 signature over challengeSignedData(origin, nonce). */
  readonly signature: string;
}

export interface IdentityVerifiedResponse {
  readonly type: 'identity-verified';
  readonly id: string;
  /** base64url DER of the user-authentication certificate (read in the same card session). */
  readonly userAuthCertificate: string;
  /** base64url DER of the signing certificate (it holds name, address, date of birth, gender). */
  readonly signingCertificate: string;
  /** base64url RSASSA-PKCS1-v1_5 / SHA-256 signature with the signing key over identitySignedData(origin, nonce). */
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
  /** PIN tries left, when the card told us (PIN_INCORRECT, PIN_BLOCKED). */
  readonly triesLeft?: number;
}

/** Pushed whenever readers or cards change. */
export interface ReadersEvent {
  readonly type: 'readers';
  readonly readers: readonly ReaderInfo[];
}

export type HelperMessage =
  | HelloResponse
  | ProgressEvent
  | AuthenticateResponse
  | IdentityVerifiedResponse
  | CancelResponse
  | ErrorResponse
  | ReadersEvent;

// The navigation path

/**
 * The helper's page a login page navigates to (GET, top level): `?nonce=&return=&lang=`, and
 * `&purpose=verify-identity` for an identity verification (absent: a login).
 */
export const AUTHENTICATE_PATH = '/authenticate';
/** Where the helper's waiting page refreshes to: `?op=<operation id>`. */
export const AUTHENTICATE_WAIT_PATH = '/authenticate/wait';
/** The waiting page's "Cancel and go back" link: `?op=<operation id>`. */
export const AUTHENTICATE_CANCEL_PATH = '/authenticate/cancel';

/**
 * The only path a return address may have: the OP's card-answer page of one interaction. Fixed,
 * because a fragment survives redirects: a return address that redirects (the OP's /auth to a
 * registered redirect_uri, say) would carry the signature to a third party.
 */
export const CARD_ANSWER_PATH = /^\/interaction\/[A-Za-z0-9_-]{1,64}\/card-answer$/;
/** The name in the return address's fragment that holds the answer: `#myna-answer=<value>`. */
export const CARD_ANSWER_FRAGMENT = 'myna-answer';
/** Longest fragment value {@link decodeCardAnswer} looks at (an answer is about 3 KB). */
export const MAX_CARD_ANSWER_CHARS = 16 * 1024;

/** The query parameter that asks for an identity verification instead of a login. */
export const PURPOSE_PARAMETER = 'purpose';

/** A login's answer in the fragment: the user-auth certificate and the signature over challengeSignedData. */
export interface SignInCardAnswer {
  readonly v: 2;
  readonly nonce: string;
  readonly certificate: string;
  readonly signature: string;
}

/** An identity verification's answer in the fragment: as {@link IdentityVerifiedResponse}. */
export interface IdentityCardAnswer {
  readonly v: 2;
  readonly nonce: string;
  readonly purpose: 'verify-identity';
  readonly userAuthCertificate: string;
  readonly signingCertificate: string;
  readonly signature: string;
}

/** Why there is no answer; `purpose` is there when an identity verification failed. */
export interface ErrorCardAnswer {
  readonly v: 2;
  readonly nonce: string;
  readonly purpose?: 'verify-identity';
  readonly error: { readonly code: HelperErrorCode; readonly triesLeft?: number };
}

/** What the helper sends back in the fragment: the card's answer, or why there is none. */
export type CardAnswer = SignInCardAnswer | IdentityCardAnswer | ErrorCardAnswer;

/**
 * The navigation to the helper that a login page makes (`returnUrl`: its card-answer page;
 * `purpose`: default `sign-in`, which the URL leaves out).
 */
export function authenticateNavigationUrl(
  port: number,
  request: {
    readonly nonce: string;
    readonly returnUrl: string;
    readonly language: HelperLanguage;
    readonly purpose?: CardOperationPurpose;
  },
): string {
  const query = new URLSearchParams({
    nonce: request.nonce,
    return: request.returnUrl,
    lang: request.language,
  });
  if (request.purpose === 'verify-identity') query.set(PURPOSE_PARAMETER, request.purpose);
  return `http://127.0.0.1:${port}${AUTHENTICATE_PATH}?${query}`;
}

/** The fragment (without `#`) carrying `answer`: `myna-answer=<base64url of its JSON>`. */
export function encodeCardAnswer(answer: CardAnswer): string {
  return `${CARD_ANSWER_FRAGMENT}=${base64UrlOf(new TextEncoder().encode(JSON.stringify(answer)))}`;
}

/**
 * The answer in `hash` (`location.hash`, with or without `#`), or undefined for anything that is
 * not exactly one well-formed answer: another fragment, bad base64url, bad UTF-8 or JSON, a wrong
 * shape or version, an unknown error code. Never throws.
 */
export function decodeCardAnswer(hash: string): CardAnswer | undefined {
  const fragment = hash.startsWith('#') ? hash.slice(1) : hash;
  const prefix = `${CARD_ANSWER_FRAGMENT}=`;
  if (!fragment.startsWith(prefix) || fragment.length > prefix.length + MAX_CARD_ANSWER_CHARS)
    return undefined;
  let value: unknown;
  try {
    value = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(bytesOfBase64Url(fragment.slice(prefix.length))),
    );
  } catch {
    return undefined;
  }
  return cardAnswerOf(value);
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** A retry counter as a card's status word 63 Cx reports it. */
const MAX_TRIES_LEFT = 15;
const ERROR_CODES: ReadonlySet<string> = new Set(Object.values(HelperErrorCode));

function isBase64Url(value: unknown): value is string {
  return typeof value === 'string' && BASE64URL.test(value);
}

function cardAnswerOf(value: unknown): CardAnswer | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  const { v, nonce, purpose, certificate, userAuthCertificate, signingCertificate, signature, error } =
    record;
  if (v !== 2 || !isBase64Url(nonce)) return undefined;
  if (purpose !== undefined && purpose !== 'verify-identity') return undefined;
  const keys = Object.keys(record).sort().join(',');
  if (keys === 'certificate,nonce,signature,v') {
    return isBase64Url(certificate) && isBase64Url(signature)
      ? { v, nonce, certificate, signature }
      : undefined;
  }
  if (keys === 'nonce,purpose,signature,signingCertificate,userAuthCertificate,v') {
    return isBase64Url(userAuthCertificate) && isBase64Url(signingCertificate) && isBase64Url(signature)
      ? { v, nonce, purpose: 'verify-identity', userAuthCertificate, signingCertificate, signature }
      : undefined;
  }
  const errorKeys = purpose === undefined ? 'error,nonce,v' : 'error,nonce,purpose,v';
  if (keys !== errorKeys) return undefined;
  const details = errorOf(error);
  if (details === undefined) return undefined;
  return purpose === undefined ? { v, nonce, error: details } : { v, nonce, purpose, error: details };
}

/** An error answer's `error` member, or undefined when it is not exactly a known code and tries. */
function errorOf(error: unknown): ErrorCardAnswer['error'] | undefined {
  if (typeof error !== 'object' || error === null || Array.isArray(error)) return undefined;
  const { code, triesLeft, ...rest } = error as Record<string, unknown>;
  if (typeof code !== 'string' || !ERROR_CODES.has(code) || Object.keys(rest).length > 0) return undefined;
  if (triesLeft === undefined) return { code: code as HelperErrorCode };
  if (!Number.isInteger(triesLeft) || (triesLeft as number) < 0 || (triesLeft as number) > MAX_TRIES_LEFT)
    return undefined;
  return { code: code as HelperErrorCode, triesLeft: triesLeft as number };
}

function base64UrlOf(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Throws on anything that is not unpadded base64url. */
function bytesOfBase64Url(text: string): Uint8Array {
  if (!BASE64URL.test(text) || text.length % 4 === 1) throw new Error('not base64url');
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

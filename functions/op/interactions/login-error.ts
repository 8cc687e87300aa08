/**
 * Why the OP refused a login request before or around verification (the verifier's own refusals
 * are VerificationErrors). Codes are stable; the login page shows a message per code.
 */
export const LoginErrorCode = {
  /** The body is not `certificate` + `signature` as base64url. */
  ANSWER_MALFORMED: 'ANSWER_MALFORMED',
  /** No unconsumed, unexpired challenge for this interaction (expired, reused or never issued). */
  CHALLENGE_UNAVAILABLE: 'CHALLENGE_UNAVAILABLE',
  /** The URL's interaction is not the one bound to this browser's interaction cookie. */
  INTERACTION_MISMATCH: 'INTERACTION_MISMATCH',
  /** No interaction cookie or the interaction expired. */
  INTERACTION_EXPIRED: 'INTERACTION_EXPIRED',
  /** A POST the browser does not mark as same-origin (Sec-Fetch-Site, else Origin). */
  CROSS_ORIGIN_REQUEST: 'CROSS_ORIGIN_REQUEST',
  /** A login limit was reached (limits.ts); `retryAfterSeconds` says when to try again. */
  TOO_MANY_ATTEMPTS: 'TOO_MANY_ATTEMPTS',
} as const;
export type LoginErrorCode = (typeof LoginErrorCode)[keyof typeof LoginErrorCode];

const STATUS: Record<LoginErrorCode, number> = {
  ANSWER_MALFORMED: 400,
  CHALLENGE_UNAVAILABLE: 400,
  INTERACTION_MISMATCH: 400,
  INTERACTION_EXPIRED: 400,
  CROSS_ORIGIN_REQUEST: 403,
  TOO_MANY_ATTEMPTS: 429,
};

/**
 * A refused login request, with a stable `code`, its HTTP status and, for TOO_MANY_ATTEMPTS, the
 * seconds until a retry can succeed (sent as `Retry-After`).
 */
export class LoginError extends Error {
  override name = 'LoginError';
  readonly status: number;
  readonly retryAfterSeconds?: number;
  constructor(
    readonly code: LoginErrorCode,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(code, options);
    this.status = STATUS[code];
    if (options?.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

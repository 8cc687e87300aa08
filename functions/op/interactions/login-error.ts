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
} as const;
export type LoginErrorCode = (typeof LoginErrorCode)[keyof typeof LoginErrorCode];

const STATUS: Record<LoginErrorCode, number> = {
  ANSWER_MALFORMED: 400,
  CHALLENGE_UNAVAILABLE: 400,
  INTERACTION_MISMATCH: 400,
  INTERACTION_EXPIRED: 400,
  CROSS_ORIGIN_REQUEST: 403,
};

/** A refused login request, with a stable `code` and its HTTP status. */
export class LoginError extends Error {
  override name = 'LoginError';
  readonly status: number;
  constructor(
    readonly code: LoginErrorCode,
    options?: { cause?: unknown },
  ) {
    super(code, options);
    this.status = STATUS[code];
  }
}

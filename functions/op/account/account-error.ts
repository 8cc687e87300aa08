/**
 * Why the account page refused a request. Codes are stable; the page shows a message per code
 * (texts.ts) and the code itself, for support.
 */
export const AccountErrorCode = {
  /** The login came back without the state this browser started it with (another tab, an old link). */
  LOGIN_STATE_MISMATCH: 'LOGIN_STATE_MISMATCH',
  /** The code is unknown, expired, already used, or not for this page's client and callback. */
  LOGIN_CODE_INVALID: 'LOGIN_CODE_INVALID',
  /** The login is not a fresh card login (acr, or an auth_time from before this request). */
  LOGIN_NOT_FRESH: 'LOGIN_NOT_FRESH',
  /** The person cancelled the card login, or the OP refused it. */
  LOGIN_CANCELLED: 'LOGIN_CANCELLED',
  /** No account session (none, expired after 15 minutes, or signed out). */
  SESSION_EXPIRED: 'SESSION_EXPIRED',
  /** A form without this session's token (CSRF), or one the browser does not mark as same-origin. */
  FORM_REFUSED: 'FORM_REFUSED',
  /** A form naming a service the account has nothing with, or a missing confirmation. */
  FORM_INVALID: 'FORM_INVALID',
} as const;
export type AccountErrorCode = (typeof AccountErrorCode)[keyof typeof AccountErrorCode];

const STATUS: Record<AccountErrorCode, number> = {
  LOGIN_STATE_MISMATCH: 400,
  LOGIN_CODE_INVALID: 400,
  LOGIN_NOT_FRESH: 400,
  LOGIN_CANCELLED: 400,
  SESSION_EXPIRED: 401,
  FORM_REFUSED: 403,
  FORM_INVALID: 400,
};

/** A refused account-page request, with its stable `code` and HTTP status. */
export class AccountError extends Error {
  override name = 'AccountError';
  readonly status: number;
  constructor(
    readonly code: AccountErrorCode,
    options?: { cause?: unknown },
  ) {
    super(code, options);
    this.status = STATUS[code];
  }
}

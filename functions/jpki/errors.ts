/**
 * Why a login answer was refused. Codes are stable (logs, metrics, the login page's messages and
 * the operator CLI use them); messages are plain words and never contain personal data.
 */
export const VerificationErrorCode = {
  CERTIFICATE_TOO_LARGE: 'CERTIFICATE_TOO_LARGE',
  CERTIFICATE_MALFORMED: 'CERTIFICATE_MALFORMED',
  ALGORITHM_NOT_ALLOWED: 'ALGORITHM_NOT_ALLOWED',
  KEY_NOT_ALLOWED: 'KEY_NOT_ALLOWED',
  ISSUER_UNTRUSTED: 'ISSUER_UNTRUSTED',
  ISSUER_NOT_VALID: 'ISSUER_NOT_VALID',
  CERTIFICATE_NOT_YET_VALID: 'CERTIFICATE_NOT_YET_VALID',
  CERTIFICATE_EXPIRED: 'CERTIFICATE_EXPIRED',
  KEY_USAGE_INVALID: 'KEY_USAGE_INVALID',
  UNSUPPORTED_CRITICAL_EXTENSION: 'UNSUPPORTED_CRITICAL_EXTENSION',
  NOT_USER_AUTH_CERTIFICATE: 'NOT_USER_AUTH_CERTIFICATE',
  SIGNATURE_MALFORMED: 'SIGNATURE_MALFORMED',
  CHALLENGE_SIGNATURE_INVALID: 'CHALLENGE_SIGNATURE_INVALID',
  CHALLENGE_INPUT_INVALID: 'CHALLENGE_INPUT_INVALID',
  REVOKED: 'REVOKED',
  REVOCATION_UNKNOWN: 'REVOCATION_UNKNOWN',
  /**
   * The certificate has the issuer DN and serial of a certificate the OP knows from another CA
   * generation (another CA key): refused rather than joined to that account (accounts/account-store.ts).
   */
  ISSUER_KEY_MISMATCH: 'ISSUER_KEY_MISMATCH',
} as const;

export type VerificationErrorCode = (typeof VerificationErrorCode)[keyof typeof VerificationErrorCode];

const DEFAULT_MESSAGES: Record<VerificationErrorCode, string> = {
  CERTIFICATE_TOO_LARGE: 'The certificate is larger than any card certificate can be.',
  CERTIFICATE_MALFORMED: 'The certificate could not be read.',
  ALGORITHM_NOT_ALLOWED: 'The certificate is signed with an algorithm that is not accepted.',
  KEY_NOT_ALLOWED: 'The certificate key is not an RSA key of at least 2048 bits.',
  ISSUER_UNTRUSTED: 'The certificate was not issued by a trusted JPKI user-authentication CA.',
  ISSUER_NOT_VALID: 'The issuing CA certificate is not valid at this time.',
  CERTIFICATE_NOT_YET_VALID: 'The certificate is not valid yet.',
  CERTIFICATE_EXPIRED: 'The certificate has expired.',
  KEY_USAGE_INVALID: 'The certificate may not be used for digital signatures.',
  UNSUPPORTED_CRITICAL_EXTENSION:
    'The certificate has a critical extension this service does not understand.',
  NOT_USER_AUTH_CERTIFICATE:
    'This is not a user-authentication certificate (a signing certificate cannot log in).',
  SIGNATURE_MALFORMED: 'The signature does not have the size of the certificate key.',
  CHALLENGE_SIGNATURE_INVALID: 'The signature does not match this site and this login attempt.',
  CHALLENGE_INPUT_INVALID: 'The login challenge is not valid.',
  REVOKED: 'The certificate has been revoked.',
  REVOCATION_UNKNOWN: 'The revocation status of the certificate could not be determined.',
  ISSUER_KEY_MISMATCH:
    'The certificate has the number of a certificate from another generation of the issuing CA; it cannot sign in to that account.',
};

/** A refused login answer or certificate, with a stable `code`. */
export class VerificationError extends Error {
  override name = 'VerificationError';
  readonly code: VerificationErrorCode;

  constructor(code: VerificationErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${DEFAULT_MESSAGES[code]} (${detail})` : DEFAULT_MESSAGES[code], options);
    this.code = code;
  }
}

/**
 * Why a login answer or an identity verification answer was refused. Codes are stable (logs,
 * metrics, the login page's messages and the operator CLI use them); messages are plain words and
 * never contain personal data (no fact of a signing certificate, no serial).
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
  /** The signing certificate is unreadable, too large, not yet valid or not in the JPKI key profile (verify-identity.ts). */
  SIGNING_CERTIFICATE_INVALID: 'SIGNING_CERTIFICATE_INVALID',
  /** The signing certificate has expired (also what a person whose name or address changed sees once it is replaced). */
  SIGNING_CERTIFICATE_EXPIRED: 'SIGNING_CERTIFICATE_EXPIRED',
  /** The signing certificate does not chain by signature to a trusted signing CA valid now. */
  SIGNING_CHAIN_INVALID: 'SIGNING_CHAIN_INVALID',
  /** The signing policy is missing or not critical, or the certificate is a user-auth certificate. */
  SIGNING_POLICY_INVALID: 'SIGNING_POLICY_INVALID',
  /** keyUsage lacks digitalSignature or nonRepudiation. */
  SIGNING_KEY_USAGE_INVALID: 'SIGNING_KEY_USAGE_INVALID',
  /** The signing certificate is revoked (a name or address change revokes it: affiliationChanged). */
  SIGNING_REVOKED: 'SIGNING_REVOKED',
  SIGNING_REVOCATION_UNKNOWN: 'SIGNING_REVOCATION_UNKNOWN',
  /** The signature is not the signing key's over this origin's and this nonce's identity signed data. */
  IDENTITY_SIGNATURE_INVALID: 'IDENTITY_SIGNATURE_INVALID',
  /** The signing certificate is not of the card whose user-auth certificate signed in. */
  CARD_MISMATCH: 'CARD_MISMATCH',
  /** A basic fact of the signing certificate is missing, repeated or ill-formed (basic-facts.ts). */
  FACTS_MALFORMED: 'FACTS_MALFORMED',
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
  SIGNING_CERTIFICATE_INVALID: 'The signing certificate could not be accepted.',
  SIGNING_CERTIFICATE_EXPIRED: 'The signing certificate has expired.',
  SIGNING_CHAIN_INVALID:
    'The signing certificate was not issued by a trusted JPKI signing CA, or that CA is not valid at this time.',
  SIGNING_POLICY_INVALID:
    'This is not a JPKI signing certificate (the signing certificate policy is missing or not critical).',
  SIGNING_KEY_USAGE_INVALID:
    'The signing certificate may not be used for electronic signatures (digitalSignature and nonRepudiation).',
  SIGNING_REVOKED:
    'The signing certificate has been revoked (a signing certificate is revoked when the name or address changes).',
  SIGNING_REVOCATION_UNKNOWN: 'The revocation status of the signing certificate could not be determined.',
  IDENTITY_SIGNATURE_INVALID:
    'The signature does not match this site and this identity verification, or was not made with the signing key.',
  CARD_MISMATCH: 'The signing certificate does not belong to the card used to sign in.',
  FACTS_MALFORMED:
    'The basic facts (name, address, date of birth, gender) in the signing certificate could not be read.',
};

/** A refused login answer, identity verification answer or certificate, with a stable `code`. */
export class VerificationError extends Error {
  override name = 'VerificationError';
  readonly code: VerificationErrorCode;

  constructor(code: VerificationErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${DEFAULT_MESSAGES[code]} (${detail})` : DEFAULT_MESSAGES[code], options);
    this.code = code;
  }
}

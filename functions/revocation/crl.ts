/**
 * What every CRL path shares: the typed CrlError with its stable codes and the CRLReason names.
 * There is one CRL reader, the streaming one (crl-stream.ts): the CRL import, the stored and the
 * in-memory sources all read CRLs through it.
 */
import type { RevocationReason } from './revocation-source.js';

/** CRLReason names by their ENUMERATED value (7 is unused). */
export const REASONS: readonly (RevocationReason | undefined)[] = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  undefined,
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
];

/**
 * Why a CRL was refused. CRL_MALFORMED: not strict DER; CRL_UNTRUSTED: no configured CA key
 * verifies its signature (a bad signature, or a CA with the same DN that is not configured);
 * CRL_UNSUPPORTED: a critical extension this product does not process (delta and indirect CRLs);
 * CRL_NOT_CURRENT: thisUpdate in the future or nextUpdate (plus grace) already past at import;
 * CRL_NOT_NEWER: its cRLNumber (or thisUpdate) is behind the last one imported for its scope, or
 * another import of the scope committed meanwhile; CRL_STORE_INCONSISTENT: the stored snapshot of
 * the previous import is incomplete.
 */
export type CrlErrorCode =
  | 'CRL_MALFORMED'
  | 'CRL_UNTRUSTED'
  | 'CRL_UNSUPPORTED'
  | 'CRL_NOT_CURRENT'
  | 'CRL_NOT_NEWER'
  | 'CRL_STORE_INCONSISTENT';

/** Raised when a CRL cannot be read or is not signed by a trusted CA. */
export class CrlError extends Error {
  override name = 'CrlError';
  constructor(
    readonly code: CrlErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

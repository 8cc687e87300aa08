/**
 * Where the verifier learns whether a certificate is revoked. Implementations: an in-memory
 * CRL-backed source (memory-crl-source.ts); storage-backed CRL and OCSP sources plug in the same way.
 */
import type { ParsedCertificate } from '../jpki/certificate.js';
import type { TrustAnchor } from '../jpki/trust-anchors.js';

/** The certificate to check and the CA generation that issued it. */
export interface RevocationQuery {
  readonly certificate: ParsedCertificate;
  readonly issuer: TrustAnchor;
  readonly now: Date;
}

/** RFC 5280 CRLReason names. */
export type RevocationReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'cACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold'
  | 'removeFromCRL'
  | 'privilegeWithdrawn'
  | 'aACompromise';

export type RevocationStatus =
  | { readonly status: 'good' }
  | { readonly status: 'revoked'; readonly reason: RevocationReason; readonly revokedAt: Date }
  | { readonly status: 'unknown'; readonly detail: string };

/** Answers the revocation status of one certificate; never throws for lack of data (answers `unknown`). */
export interface RevocationSource {
  status(query: RevocationQuery): Promise<RevocationStatus>;
}

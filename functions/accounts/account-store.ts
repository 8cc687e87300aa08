/**
 * Accounts of people who log in with a card. An account is identified by the account key of the
 * first certificate it saw (HMAC of issuer + serial, never the raw serial) and can hold several
 * certificates: a renewed certificate (new serial) is linked to the existing account through a
 * PredecessorSource, so the subject an RP sees stays the same across renewal.
 */
import type { ParsedCertificate } from '../jpki/certificate.js';

/** One certificate known to an account; no raw serial, no personal data. */
export interface AccountCertificate {
  /** The certificate's account key (keyed hash of issuer + serial). */
  readonly certificateKey: string;
  /** CA generation that issued it (e.g. "2023"). */
  readonly issuerGeneration: string;
  readonly notAfter: string;
  readonly firstSeenAt: string;
  readonly lastSeenAt: string;
  /** Set by the revocation notification job when a CRL listed the certificate. */
  readonly revokedAt?: string;
  readonly revocationReason?: string;
}

export interface Account {
  /** Stable id: the certificate key of the account's first certificate. */
  readonly accountId: string;
  readonly createdAt: string;
  readonly certificates: readonly AccountCertificate[];
}

/**
 * Tells which certificate a renewed certificate replaced: J-LIS's new-serial → old-serial linking
 * service in production, a file in development. Serial numbers only pass through; they are not stored.
 */
export interface PredecessorSource {
  /** The serial number (INTEGER content bytes) of the certificate `certificate` renewed, if known. */
  predecessorSerial(certificate: ParsedCertificate): Promise<Uint8Array | undefined>;
}

/** A predecessor source that knows no renewals (until J-LIS linking is configured). */
export const NO_PREDECESSORS: PredecessorSource = { predecessorSerial: async () => undefined };

/** What a verified login contributes to the account store. */
export interface LoginCertificate {
  readonly certificate: ParsedCertificate;
  /** accountKey(secret, issuer, serial) of this certificate. */
  readonly certificateKey: string;
  readonly issuerGeneration: string;
}

export interface AccountStore {
  /**
   * The account of a login: the one that already holds this certificate, else the one holding its
   * predecessor (the certificate is then added to it), else a new account. Idempotent and safe
   * under concurrent logins with the same certificate.
   */
  accountForLogin(login: LoginCertificate): Promise<Account>;
  /** The account with this id, or undefined. */
  find(accountId: string): Promise<Account | undefined>;
}

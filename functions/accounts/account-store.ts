/**
 * Accounts of people who log in with a card. An account is identified by the certificate key of the
 * first certificate it saw (HMAC of issuer + serial, never the raw serial) plus a random part, and
 * can hold several
 * certificates: a renewed certificate (new serial) is linked to the existing account through a
 * PredecessorSource, so the subject an RP sees stays the same across renewal.
 *
 * Every CA generation has the same issuer DN, so the certificate key alone cannot tell a card of one
 * generation from a card of another with the same serial. Each certificate is therefore bound to
 * the key of the CA that issued it (its id, the SHA-256 of the CA's SubjectPublicKeyInfo) the
 * first time it logs in; a later login whose certificate has the same certificate key but another
 * issuing CA key is refused (VerificationError ISSUER_KEY_MISMATCH, and a warning in the log), never joined to
 * the account.
 *
 * An account holds only what a feature reads: when each certificate was first and last seen
 * (ordering, retention), its issuing CA key (the binding above), generation and issue day (the
 * account page, the alert and the export name them), and the revocation the notification job
 * recorded. Not the certificate's
 * expiry, which nothing reads and which can reveal the holder's birthday. Accounts are kept
 * `retentionDays` after the last login (defaults.ts DEFAULT_ACCOUNT_RETENTION_DAYS).
 */
import type { ParsedCertificate } from '../jpki/certificate.js';

/** One certificate known to an account; no raw serial, no personal data. */
export interface AccountCertificate {
  /** The certificate key (keyed hash of issuer + serial). */
  readonly certificateKey: string;
  /**
   * Id of the issuing CA's key (TrustAnchor.id). Absent only on an entry written before the
   * binding existed, until that certificate's next login.
   */
  readonly issuerKeyId?: string;
  /** CA generation that issued it (e.g. "2023"). */
  readonly issuerGeneration: string;
  /**
   * The day the certificate was issued (its notBefore, `YYYY-MM-DD`), for the account page's list of
   * linked certificates; absent on entries written before it was kept.
   */
  readonly issuedAt?: string;
  readonly firstSeenAt: string;
  readonly lastSeenAt: string;
  /** Set by the revocation notification job when a CRL listed the certificate. */
  readonly revokedAt?: string;
  readonly revocationReason?: string;
}

export interface Account {
  /**
   * Stable id: `<certificate key of its first certificate>.<random>` (account-records.ts
   * newAccountId; accounts from before the random part: the certificate key alone). An account
   * made after an erasure is another account: new id, new pairwise subjects.
   */
  readonly accountId: string;
  readonly createdAt: string;
  /** When the account is erased unless a login comes first (absent on accounts from before retention). */
  readonly expiresAt?: string;
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
  /** certificateKey(secret, issuer, serial) of this certificate. */
  readonly certificateKey: string;
  /** Id of the key of the CA that issued it (TrustAnchor.id of the verified issuer). */
  readonly issuerKeyId: string;
  readonly issuerGeneration: string;
}

/** The account a returning certificate's login is recorded on, as read before the login (AccountStore.knownAccount). */
export interface KnownAccount {
  readonly accountId: string;
  /** Id of the CA key the certificate is bound to on that account. */
  readonly issuerKeyId: string;
}

export interface AccountStore {
  /**
   * The account of a login: the one that already holds this certificate, else the one holding its
   * predecessor (the certificate is then added to it), else a new account. Idempotent and safe
   * under concurrent logins with the same certificate. Throws VerificationError
   * ISSUER_KEY_MISMATCH when the certificate key is bound to another CA key.
   */
  accountForLogin(login: LoginCertificate): Promise<Account>;
  /**
   * The account accountForLogin records a login with certificate key `certificateKey` on in one
   * write (the certificate is known and that write's conditions hold now), with the CA key it is
   * bound to; undefined otherwise. A read only: a login may look it up while its certificate is
   * still unverified (nothing is written, nothing goes to the browser), and must still call
   * accountForLogin once it is verified, which checks the same conditions as it writes.
   */
  knownAccount(certificateKey: string): Promise<KnownAccount | undefined>;
  /** The account with this id, or undefined (also once it has expired). */
  find(accountId: string): Promise<Account | undefined>;
}

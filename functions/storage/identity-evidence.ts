/**
 * Optional OP-side retention of identity evidence (clients flagged `myna_retain_identity_evidence`,
 * off by default), for an operator that keeps verification records as the platform: the evidence
 * bundle (identity/evidence.ts, a JWS holding the signing certificate, the signed data and the
 * signature) is kept encrypted, item `MynaIdentityEvidence#<record id>` through the OP's adapter:
 * - AES-256-GCM under a key derived (HKDF-SHA-256, its own label) from the certificate-key secret,
 *   which the table does not hold (a copy of the table alone opens nothing); the additional data
 *   binds the record id and the client id, so no ciphertext opens under another record or client;
 * - with an expiry (`identity.evidenceRetentionDays`): the item's TTL, and `find` checks the
 *   record's own expiry too (TTL deletes late);
 * - fields in plain: the client id and the two times; nothing personal.
 * The record id goes to the RP (claim `myna_identity_evidence_record`), so RP and operator can
 * name the same record. With a release history, `retain` also links the record to the account
 * (ReleaseHistory.recordEvidence: record id, service, created, kept until), so the account page and
 * the export list it; an erasure cuts that link and the record stays until its own expiry (the
 * service's record-keeping duty), naming no account.
 */
import { randomUUID } from 'node:crypto';
import type { Adapter } from 'oidc-provider';
import { SealingKey } from '../identity/sealing-key.js';
import type { ReleaseHistory } from './release-history.js';

/** The adapter model of retained evidence. */
export const IDENTITY_EVIDENCE_MODEL = 'MynaIdentityEvidence';

const KEY_LABEL = 'myna-oidc/identity-evidence/v1';
const DAY_SECONDS = 24 * 60 * 60;

/** One retained record, opened. */
export interface IdentityEvidenceRecord {
  readonly recordId: string;
  readonly clientId: string;
  /** The evidence bundle (compact JWS). */
  readonly bundle: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

interface StoredRecord {
  readonly clientId: string;
  readonly sealed: string;
  readonly createdAt: string;
  readonly expiresAt: string;
}

/** Keeps and opens retained evidence records as described above. */
export class IdentityEvidenceStore {
  readonly #key: SealingKey;
  readonly #store: Adapter;
  readonly #now: () => Date;
  readonly #history: ReleaseHistory | undefined;

  /** `history`: where `retain` links a record to its account (see the module comment). */
  constructor(
    certificateKeySecret: Uint8Array,
    store: Adapter,
    now: () => Date = () => new Date(),
    history?: ReleaseHistory,
  ) {
    this.#key = new SealingKey(certificateKeySecret, KEY_LABEL);
    this.#store = store;
    this.#now = now;
    this.#history = history;
  }

  /**
   * Keeps `bundle` of `clientId` for `retentionDays`, linked to `accountId` in the release history
   * when both are given; returns the new record's id.
   */
  async retain(bundle: string, clientId: string, retentionDays: number, accountId?: string): Promise<string> {
    const recordId = randomUUID();
    const createdAt = this.#now();
    const expiresAt = new Date(createdAt.getTime() + retentionDays * DAY_SECONDS * 1000);
    const record: StoredRecord = {
      clientId,
      sealed: this.#key.seal(bundle, aadOf(recordId, clientId)),
      createdAt: createdAt.toISOString(),
      expiresAt: expiresAt.toISOString(),
    };
    await this.#store.upsert(recordId, { ...record }, retentionDays * DAY_SECONDS);
    if (accountId !== undefined && this.#history) {
      await this.#history.recordEvidence({ accountId, clientId, recordId, createdAt, keptUntil: expiresAt });
    }
    return recordId;
  }

  /** The record `recordId`, opened; undefined when absent, expired or not openable. */
  async find(recordId: string): Promise<IdentityEvidenceRecord | undefined> {
    const stored = (await this.#store.find(recordId)) as StoredRecord | undefined;
    if (!stored || typeof stored.sealed !== 'string') return undefined;
    const expiresAt = new Date(stored.expiresAt);
    if (!(this.#now() < expiresAt)) return undefined;
    const bundle = this.#key.open(stored.sealed, aadOf(recordId, stored.clientId));
    if (bundle === undefined) return undefined;
    return { recordId, clientId: stored.clientId, bundle, createdAt: new Date(stored.createdAt), expiresAt };
  }
}

const aadOf = (recordId: string, clientId: string) => `${recordId}\u0000${clientId}`;

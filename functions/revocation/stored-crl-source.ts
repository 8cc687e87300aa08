/**
 * Revocation status from CRLs imported into DynamoDB (crl-store.ts), as a login asks it: one
 * Query for the certificate's revocation entries under its issuing CA key (one per CRL scope that
 * lists it), in parallel with the CRL metadata of its scopes (cached briefly). A certificate any
 * current or past CRL of any scope still lists is `revoked` whatever the CRL's age; otherwise the
 * answer is `good` only while a CRL covering the certificate is current (nextUpdate + grace).
 */
import { DEFAULT_CRL_GRACE_SECONDS, DEFAULT_CRL_METADATA_CACHE_SECONDS } from '../defaults.js';
import { certificateKey } from '../subject/certificate-key.js';
import type { KeyedHashSecret } from '../subject/keyed-hash.js';
import { certificatePartition, crlScope } from './crl-scope.js';
import type { CrlMetadata, CrlStore } from './crl-store.js';
import type { RevocationQuery, RevocationSource, RevocationStatus } from './revocation-source.js';

/** Options of StoredCrlSource. */
export interface StoredCrlSourceOptions {
  readonly store: CrlStore;
  /** The certificate-key secret (OpSecrets.certificateKeySecret) behind certificate keys. */
  readonly secret: KeyedHashSecret;
  /** How long after a CRL's nextUpdate it is still used, in seconds (default 0). */
  readonly graceSeconds?: number;
  /** How long CRL metadata is cached in memory, in seconds (default 60; 0 disables). */
  readonly metadataCacheSeconds?: number;
}

/** RevocationSource over CrlStore; never throws (a storage failure answers `unknown`). */
export class StoredCrlSource implements RevocationSource {
  readonly #store: CrlStore;
  readonly #secret: KeyedHashSecret;
  readonly #graceMs: number;
  readonly #cacheMs: number;
  readonly #cache = new Map<string, { value: Promise<CrlMetadata | undefined>; until: number }>();

  constructor(options: StoredCrlSourceOptions) {
    this.#store = options.store;
    this.#secret = options.secret;
    this.#graceMs = (options.graceSeconds ?? DEFAULT_CRL_GRACE_SECONDS) * 1000;
    this.#cacheMs = (options.metadataCacheSeconds ?? DEFAULT_CRL_METADATA_CACHE_SECONDS) * 1000;
  }

  async status({ certificate, issuer, now }: RevocationQuery): Promise<RevocationStatus> {
    try {
      const key = certificateKey(this.#secret, certificate.issuer, certificate.serialNumber);
      const partition = certificatePartition(certificate);
      const [revocation, ofPartition, ofCa] = await Promise.all([
        this.#store.revocation(key, issuer.id),
        partition === undefined ? undefined : this.#metadata(crlScope(issuer.id, partition)),
        this.#metadata(crlScope(issuer.id, undefined)),
      ]);
      if (revocation) return { status: 'revoked', ...revocation };
      const crl = ofPartition ?? ofCa;
      if (!crl) return { status: 'unknown', detail: 'no CRL imported for the issuing CA' };
      if (crl.thisUpdate.getTime() > now.getTime() + this.#graceMs) {
        return { status: 'unknown', detail: 'CRL is not valid yet' };
      }
      if (now.getTime() > crl.nextUpdate.getTime() + this.#graceMs) {
        return { status: 'unknown', detail: 'CRL is stale (past nextUpdate)' };
      }
      return { status: 'good' };
    } catch (error) {
      return { status: 'unknown', detail: `revocation store unavailable: ${(error as Error).name}` };
    }
  }

  #metadata(scope: string): Promise<CrlMetadata | undefined> {
    const now = Date.now();
    const cached = this.#cache.get(scope);
    if (cached && cached.until > now) return cached.value;
    const value = this.#store.metadata(scope);
    if (this.#cacheMs > 0) {
      this.#cache.set(scope, { value, until: now + this.#cacheMs });
      value.catch(() => this.#cache.delete(scope));
    }
    return value;
  }
}

/**
 * A revocation source held in memory, built from CRLs that are verified against the trust
 * anchors (by signature: all CA generations share one DN). For development, tests and small
 * deployments; revoked serials are kept per issuing CA key and never written anywhere.
 */
import { serialHex } from '../jpki/certificate.js';
import type { TrustAnchors } from '../jpki/trust-anchors.js';
import { crlSigner, parseCrl } from './crl.js';
import type { RevocationQuery, RevocationSource, RevocationStatus } from './revocation-source.js';

export interface MemoryCrlSourceOptions {
  /** How long after a CRL's nextUpdate it is still used, in seconds (default 0). */
  readonly graceSeconds?: number;
}

interface LoadedCrl {
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  readonly revoked: ReadonlyMap<string, Extract<RevocationStatus, { status: 'revoked' }>>;
}

/** Revocation status from CRLs in memory: `unknown` when no current CRL of the issuer is loaded. */
export class MemoryCrlSource implements RevocationSource {
  readonly #byIssuer = new Map<string, LoadedCrl>();
  readonly #anchors: TrustAnchors;
  readonly #graceMs: number;

  constructor(anchors: TrustAnchors, options: MemoryCrlSourceOptions = {}) {
    this.#anchors = anchors;
    this.#graceMs = (options.graceSeconds ?? 0) * 1000;
  }

  /**
   * Verifies and loads one DER CRL; it replaces an older CRL of the same CA key. Throws CrlError
   * for unreadable or untrusted CRLs; returns the id of the CA that signed it.
   */
  load(der: Uint8Array): string {
    const crl = parseCrl(der);
    const signer = crlSigner(crl, this.#anchors);
    const current = this.#byIssuer.get(signer.id);
    if (!current || current.thisUpdate <= crl.thisUpdate) {
      this.#byIssuer.set(signer.id, {
        thisUpdate: crl.thisUpdate,
        nextUpdate: crl.nextUpdate,
        revoked: new Map(
          crl.entries.map((entry) => [
            serialHex(entry.serialNumber),
            { status: 'revoked', reason: entry.reason, revokedAt: entry.revokedAt },
          ]),
        ),
      });
    }
    return signer.id;
  }

  async status({ certificate, issuer, now }: RevocationQuery): Promise<RevocationStatus> {
    const crl = this.#byIssuer.get(issuer.id);
    if (!crl) return { status: 'unknown', detail: 'no CRL loaded for the issuing CA' };
    if (crl.thisUpdate.getTime() > now.getTime() + this.#graceMs) {
      return { status: 'unknown', detail: 'CRL is not valid yet' };
    }
    if (crl.nextUpdate && now.getTime() > crl.nextUpdate.getTime() + this.#graceMs) {
      return { status: 'unknown', detail: 'CRL is stale (past nextUpdate)' };
    }
    return crl.revoked.get(serialHex(certificate.serialNumber)) ?? { status: 'good' };
  }
}

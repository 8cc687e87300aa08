/**
 * A revocation source held in memory, built from CRLs read by the one CRL reader (crl-stream.ts)
 * and verified against the trust anchors (by signature: all CA generations share one DN). For
 * development, tests and small deployments; revoked serials are kept per CRL scope (the CA key
 * and, for JPKI's CRLs split by municipality, the distribution point) and never written anywhere.
 */
import { serialHex } from '../jpki/certificate.js';
import type { TrustAnchors } from '../jpki/trust-anchors.js';
import { REASONS } from './crl.js';
import { certificatePartition, crlScope } from './crl-scope.js';
import { readCrlStream } from './crl-stream.js';
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

/** Revocation status from CRLs in memory: `unknown` when no current CRL covers the certificate. */
export class MemoryCrlSource implements RevocationSource {
  readonly #byScope = new Map<string, LoadedCrl>();
  readonly #anchors: TrustAnchors;
  readonly #graceMs: number;

  constructor(anchors: TrustAnchors, options: MemoryCrlSourceOptions = {}) {
    this.#anchors = anchors;
    this.#graceMs = (options.graceSeconds ?? 0) * 1000;
  }

  /**
   * Verifies and loads one DER CRL; it replaces an older CRL of the same scope. Rejects with
   * CrlError for unreadable, untrusted or unsupported (delta, indirect) CRLs; resolves to the id
   * of the CA that signed it.
   */
  async load(der: Uint8Array): Promise<string> {
    const revoked = new Map<string, Extract<RevocationStatus, { status: 'revoked' }>>();
    const crl = await readCrlStream(
      [der],
      this.#anchors,
      () => (bytes, start, end, revokedAtMs, reasonCode) => {
        revoked.set(serialHex(bytes.subarray(start, end)), {
          status: 'revoked',
          reason: REASONS[reasonCode] ?? 'unspecified',
          revokedAt: new Date(revokedAtMs),
        });
      },
    );
    const scope = crlScope(crl.signer.id, crl.partition);
    const current = this.#byScope.get(scope);
    if (!current || current.thisUpdate <= crl.thisUpdate) {
      this.#byScope.set(scope, { thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate, revoked });
    }
    return crl.signer.id;
  }

  /**
   * `revoked` while any current CRL that covers the certificate lists it — its municipality's and
   * the whole-CA one alike, so dropping it from one scope never reads `good` while another still
   * lists it; `unknown` when a covering CRL is stale or not yet valid, or none is loaded.
   */
  async status({ certificate, issuer, now }: RevocationQuery): Promise<RevocationStatus> {
    const partition = certificatePartition(certificate);
    const covering = [
      ...(partition === undefined ? [] : [this.#byScope.get(crlScope(issuer.id, partition))]),
      this.#byScope.get(crlScope(issuer.id, undefined)),
    ].filter((crl): crl is LoadedCrl => crl !== undefined);
    if (covering.length === 0) return { status: 'unknown', detail: 'no CRL loaded for the issuing CA' };
    const serial = serialHex(certificate.serialNumber);
    for (const crl of covering) {
      const listed = crl.revoked.get(serial);
      if (listed) return listed;
    }
    for (const crl of covering) {
      if (crl.thisUpdate.getTime() > now.getTime() + this.#graceMs) {
        return { status: 'unknown', detail: 'CRL is not valid yet' };
      }
      if (crl.nextUpdate && now.getTime() > crl.nextUpdate.getTime() + this.#graceMs) {
        return { status: 'unknown', detail: 'CRL is stale (past nextUpdate)' };
      }
    }
    return { status: 'good' };
  }
}

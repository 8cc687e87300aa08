/**
 * Revocation status from an OCSP responder (RFC 6960): the configured responder URL, or the
 * certificate's AIA OCSP URL. Every request carries a fresh nonce; answers are verified
 * (ocsp.ts), cached in memory until their nextUpdate, and anything that goes wrong — no URL,
 * a timeout, an HTTP error, a response that fails a check — answers `unknown`, never throws.
 */
import { randomBytes } from 'node:crypto';
import { serialHex } from '../jpki/certificate.js';
import { buildOcspRequest, ocspUrlOf, verifyOcspResponse } from './ocsp.js';
import type { RevocationQuery, RevocationSource, RevocationStatus } from './revocation-source.js';

/** Default time allowed for one OCSP exchange. */
export const DEFAULT_OCSP_TIMEOUT_MS = 3_000;
const MAX_RESPONSE_BYTES = 64 * 1024;
const MAX_CACHED = 10_000;

/** Options of OcspSource. */
export interface OcspSourceOptions {
  /** The responder to ask; when absent, the certificate's AIA OCSP URL. */
  readonly responderUrl?: string;
  /** Time allowed for the whole exchange, in ms (default 3 s). */
  readonly timeoutMs?: number;
  /** Tolerated clock difference on thisUpdate/nextUpdate, in seconds (default 300); also the
   * longest a response without nextUpdate is accepted after its thisUpdate. */
  readonly clockSkewSeconds?: number;
}

/** RevocationSource over OCSP; see the module comment. */
export class OcspSource implements RevocationSource {
  readonly #url: string | undefined;
  readonly #timeoutMs: number;
  readonly #skewMs: number;
  readonly #cache = new Map<string, { status: RevocationStatus; until: number }>();

  constructor(options: OcspSourceOptions = {}) {
    this.#url = options.responderUrl;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_OCSP_TIMEOUT_MS;
    this.#skewMs = (options.clockSkewSeconds ?? 300) * 1000;
  }

  async status({ certificate, issuer, now }: RevocationQuery): Promise<RevocationStatus> {
    const cacheKey = `${issuer.id}/${serialHex(certificate.serialNumber)}`;
    const cached = this.#cache.get(cacheKey);
    if (cached && cached.until > now.getTime()) return cached.status;
    try {
      const url = this.#url ?? ocspUrlOf(certificate);
      if (!url) return { status: 'unknown', detail: 'no OCSP responder for the certificate' };
      const request = buildOcspRequest(certificate, issuer, randomBytes(32));
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
        body: request.der,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      if (!response.ok)
        return { status: 'unknown', detail: `OCSP responder answered HTTP ${response.status}` };
      const body = new Uint8Array(await response.arrayBuffer());
      if (body.length > MAX_RESPONSE_BYTES) return { status: 'unknown', detail: 'OCSP response too large' };
      const answer = verifyOcspResponse(body, request, issuer, now, this.#skewMs);
      if (answer.nextUpdate) this.#remember(cacheKey, answer.status, answer.nextUpdate.getTime());
      return answer.status;
    } catch (error) {
      const { code, name } = error as { code?: unknown; name?: string };
      return {
        status: 'unknown',
        detail: `OCSP failed: ${typeof code === 'string' ? code : (name ?? 'error')}`,
      };
    }
  }

  #remember(key: string, status: RevocationStatus, until: number): void {
    if (this.#cache.size >= MAX_CACHED) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(key, { status, until });
  }
}

/**
 * Revocation status from an OCSP responder (RFC 6960): the configured responder URL, or the
 * certificate's AIA OCSP URL. Every request carries a fresh nonce; the body is read up to a size
 * limit while it streams; answers are verified (ocsp.ts), cached in memory until their
 * nextUpdate, and anything that goes wrong — no URL, a timeout, an HTTP error, a body too large, a
 * response that fails a check — answers `unknown`, never throws.
 *
 * The OCSP messages (ocsp.ts, with pkijs and asn1js: ~420 KB of the Lambda bundle) are imported on
 * the first request: a cold start, and a deployment that never uses OCSP, does not evaluate them
 * (their bytes are still in the bundle).
 */
import { randomBytes } from 'node:crypto';
import {
  DEFAULT_CLOCK_SKEW_SECONDS,
  DEFAULT_OCSP_MAX_AGE_SECONDS,
  DEFAULT_OCSP_TIMEOUT_MS,
  OCSP_CACHE_ENTRIES,
  OCSP_MAX_RESPONSE_BYTES,
} from '../defaults.js';
import { serialHex } from '../jpki/certificate.js';
import { ocspUrlOf } from './ocsp-url.js';
import type { RevocationQuery, RevocationSource, RevocationStatus } from './revocation-source.js';

/** Options of OcspSource. */
export interface OcspSourceOptions {
  /** The responder to ask; when absent, the certificate's AIA OCSP URL. */
  readonly responderUrl?: string;
  /** Time allowed for the whole exchange, body included, in ms (default DEFAULT_OCSP_TIMEOUT_MS, 3 s). */
  readonly timeoutMs?: number;
  /** Tolerated clock difference on producedAt/thisUpdate/nextUpdate, in seconds (default DEFAULT_CLOCK_SKEW_SECONDS, 60). */
  readonly clockSkewSeconds?: number;
  /** How long a response without nextUpdate is used after its thisUpdate, in seconds (default DEFAULT_OCSP_MAX_AGE_SECONDS, 300). */
  readonly maxAgeSeconds?: number;
}

/** RevocationSource over OCSP; see the module comment. */
export class OcspSource implements RevocationSource {
  readonly #url: string | undefined;
  readonly #timeoutMs: number;
  readonly #skewMs: number;
  readonly #maxAgeMs: number;
  readonly #cache = new Map<string, { status: RevocationStatus; until: number }>();

  constructor(options: OcspSourceOptions = {}) {
    this.#url = options.responderUrl;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_OCSP_TIMEOUT_MS;
    this.#skewMs = (options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS) * 1000;
    this.#maxAgeMs = (options.maxAgeSeconds ?? DEFAULT_OCSP_MAX_AGE_SECONDS) * 1000;
  }

  async status({ certificate, issuer, now }: RevocationQuery): Promise<RevocationStatus> {
    const cacheKey = `${issuer.id}/${serialHex(certificate.serialNumber)}`;
    const cached = this.#cache.get(cacheKey);
    if (cached && cached.until > now.getTime()) return cached.status;
    try {
      const url = this.#url ?? ocspUrlOf(certificate);
      if (!url) return { status: 'unknown', detail: 'no OCSP responder for the certificate' };
      const { buildOcspRequest, verifyOcspResponse } = await ocspMessages();
      const request = buildOcspRequest(certificate, issuer, randomBytes(32));
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
        body: request.der,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      if (!response.ok) {
        await response.body?.cancel();
        return { status: 'unknown', detail: `OCSP responder answered HTTP ${response.status}` };
      }
      const body = await readBody(response);
      const answer = verifyOcspResponse(body, request, certificate, issuer, {
        now: now.getTime(),
        skewMs: this.#skewMs,
        maxAgeMs: this.#maxAgeMs,
      });
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
    if (this.#cache.size >= OCSP_CACHE_ENTRIES) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(key, { status, until });
  }
}

let messages: Promise<typeof import('./ocsp.js')> | undefined;

/** ocsp.ts, imported once on first use. */
function ocspMessages(): Promise<typeof import('./ocsp.js')> {
  messages ??= import('./ocsp.js');
  return messages;
}

/**
 * The response body, refused (OCSP_TOO_LARGE) as soon as it passes OCSP_MAX_RESPONSE_BYTES: never
 * buffered past it.
 */
async function readBody(response: Response): Promise<Uint8Array> {
  const limit = OCSP_MAX_RESPONSE_BYTES;
  const { OcspError } = await ocspMessages();
  const tooLarge = () => new OcspError('OCSP_TOO_LARGE', `the OCSP response is larger than ${limit} bytes`);
  if (Number(response.headers.get('content-length')) > limit) {
    await response.body?.cancel();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of response.body ?? []) {
    length += chunk.length;
    if (length > limit) throw tooLarge(); // leaving the loop cancels the stream
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, length);
}

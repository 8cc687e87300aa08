/**
 * The bytes a card signs, built in one place for both sides: the reader-helper (which sends the
 * card the DigestInfo of them) and the OP (which rebuilds them from its own origin and its stored
 * nonce). Two kinds, never equal to each other (domain separation):
 *
 * - a login ({@link challengeSignedData}), signed with the user-authentication key. The design
 *   follows Web eID: SHA-256(origin) ‖ SHA-256(nonce), signed with RSASSA-PKCS1-v1_5 / SHA-256,
 *   so a relayed challenge yields a signature over the relaying origin;
 * - an identity verification ({@link identitySignedData}), signed with the signing key: a short
 *   readable document naming the origin and the nonce, so the evidence an RP keeps shows an
 *   auditor what the person signed.
 */
import { createHash } from 'node:crypto';

/** Nonces are base64url without padding, 43 (256 bits) to 128 characters. */
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{43,128}$/;

/** DER prefix of a SHA-256 DigestInfo; the 32-byte hash follows. */
export const SHA256_DIGEST_INFO_PREFIX = Uint8Array.from([
  0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
  0x20,
]);

/** Raised when an origin or nonce is not acceptable as challenge input. */
export class ChallengeInputError extends Error {
  override name = 'ChallengeInputError';
  constructor(
    readonly code: 'ORIGIN_INVALID' | 'NONCE_INVALID',
    message: string,
  ) {
    super(message);
  }
}

/** True when `nonce` has the challenge nonce format. */
export function isValidNonce(nonce: unknown): nonce is string {
  return typeof nonce === 'string' && NONCE_PATTERN.test(nonce);
}

/**
 * The ASCII serialisation of a web origin (`scheme://host[:port]`), as browsers send it in the
 * `Origin` header. Throws for anything that is not an http(s) origin without path, query or user info.
 */
export function normalizeOrigin(origin: string): string {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new ChallengeInputError('ORIGIN_INVALID', 'origin is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ChallengeInputError('ORIGIN_INVALID', 'origin must be http or https');
  }
  if (
    url.username ||
    url.password ||
    url.search ||
    url.hash ||
    (url.pathname !== '/' && url.pathname !== '')
  ) {
    throw new ChallengeInputError('ORIGIN_INVALID', 'an origin has no path, query, fragment or user info');
  }
  if (origin.endsWith('/') && !origin.endsWith('//')) {
    throw new ChallengeInputError('ORIGIN_INVALID', 'an origin has no trailing slash');
  }
  return url.origin;
}

/** The normalised origin; throws for an origin or nonce that is not acceptable. */
function checkedChallengeInput(origin: string, nonce: string): string {
  const normalized = normalizeOrigin(origin);
  if (!isValidNonce(nonce))
    throw new ChallengeInputError('NONCE_INVALID', 'nonce must be base64url, 43-128 chars');
  return normalized;
}

/** The 64 bytes that are signed: SHA-256(origin) ‖ SHA-256(nonce), both as UTF-8 (ASCII) text. */
export function challengeSignedData(origin: string, nonce: string): Buffer {
  const normalized = checkedChallengeInput(origin, nonce);
  return Buffer.concat([
    createHash('sha256').update(normalized, 'utf8').digest(),
    createHash('sha256').update(nonce, 'utf8').digest(),
  ]);
}

/** The first line of {@link identitySignedData}: what the document is, and its version. */
export const IDENTITY_SIGNED_DATA_LABEL = 'myna-oidc identity verification v1';

/**
 * The bytes signed with the signing key to verify an identity: the UTF-8 text
 * `"myna-oidc identity verification v1\n" + origin + "\n" + nonce + "\n"` (origin normalised
 * as browsers send it). It is always longer than the 64 bytes of a login's signed data (label,
 * shortest origin and shortest nonce make 88), so the two never coincide.
 */
export function identitySignedData(origin: string, nonce: string): Uint8Array {
  const normalized = checkedChallengeInput(origin, nonce);
  return new TextEncoder().encode(`${IDENTITY_SIGNED_DATA_LABEL}\n${normalized}\n${nonce}\n`);
}

/** The SHA-256 DigestInfo of `data`: what the card's COMPUTE DIGITAL SIGNATURE is sent. */
export function sha256DigestInfo(data: Uint8Array): Buffer {
  return Buffer.concat([SHA256_DIGEST_INFO_PREFIX, createHash('sha256').update(data).digest()]);
}

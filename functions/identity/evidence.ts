/**
 * The evidence bundle (claim `myna_identity_evidence`, clients flagged `myna_identity_evidence`): what
 * an RP that must keep a record of an identity verification (the 犯罪収益移転防止法 record-keeping
 * duty is the RP's) can show an auditor, without the OP keeping it. A compact JWS (RFC 7515) signed
 * by the OP's active signing key for the client's ID-token algorithm (verifiable with the OP's JWKS),
 * header `typ` `myna-identity-evidence+jwt`, payload:
 * - `iss`, `aud` (client id), `sub` (the RP's subject of the person), `iat`, `jti`;
 * - `signing_certificate` (base64url DER of the signing certificate: it holds the basic facts),
 *   `signed_data` (base64url of the exact bytes the card signed: a readable text naming the OP's
 *   origin and the challenge, protocol/signed-data.ts), `signature` (base64url, RSASSA-PKCS1-v1_5
 *   SHA-256 by the signing key), so the signature can be checked again with the certificate alone;
 * - `verified_at` (ISO 8601), `revocation_status` (`good`, or `unknown` where the operator allows
 *   it), `claims` (the claim ids released to the RP in this transaction).
 */
import { randomUUID } from 'node:crypto';
import { CompactSign, importJWK } from 'jose';
import { activeSigningJwk, type SigningSecrets } from '../secrets/op-secrets.js';
import type { EvidenceMaterial } from './release.js';

/** The JWS `typ` of an evidence bundle. */
export const EVIDENCE_BUNDLE_TYPE = 'myna-identity-evidence+jwt';

/** Who the bundle is for and from. */
export interface EvidenceContext {
  readonly issuer: string;
  readonly clientId: string;
  readonly subject: string;
  readonly claimNames: readonly string[];
  /** The JWS algorithm (the client's ID-token algorithm: RS256, PS256 or ES256). */
  readonly alg: string;
  readonly now: Date;
}

/** Raised when the OP has no active key for the algorithm. */
export class EvidenceError extends Error {
  override name = 'EvidenceError';
  readonly code = 'EVIDENCE_KEY_UNAVAILABLE';
}

/** Signs the evidence bundle of `material` for `context` with the OP's key from `secrets`. */
export async function signEvidenceBundle(
  material: EvidenceMaterial,
  context: EvidenceContext,
  secrets: SigningSecrets,
): Promise<string> {
  const jwk = activeSigningJwk(secrets, context.alg);
  if (!jwk?.kid) throw new EvidenceError(`no active signing key for ${context.alg}`);
  const key = await importJWK(jwk, context.alg);
  const payload = {
    iss: context.issuer,
    aud: context.clientId,
    sub: context.subject,
    iat: Math.floor(context.now.getTime() / 1000),
    jti: randomUUID(),
    ...material,
    claims: [...context.claimNames],
  };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: context.alg, kid: jwk.kid, typ: EVIDENCE_BUNDLE_TYPE })
    .sign(key);
}

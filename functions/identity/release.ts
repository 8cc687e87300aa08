/**
 * The identity release of one transaction: exactly the claims the user let this RP have, placed
 * where the request asked for them (ID token and/or userinfo, plain or inside `verified_claims`).
 * It exists only sealed (sealed-claims.ts) between the consent and the token endpoint / userinfo
 * of that transaction; the OP never stores it in plain and never logs a value.
 *
 * `verified_claims` (OpenID Connect for Identity Assurance 1.0):
 * ```json
 * { "verification": { "trust_framework": "jp_aml", "time": "2026-12-01T12:00:00Z",
 *     "evidence": [{ "type": "electronic_signature", "signature_type": "jpki_signing_certificate",
 *                    "issuer": "J-LIS", "created_at": "2026-12-01T12:00:00Z" }] },
 *   "claims": { "name": "山田 太郎", "age_over_20": true } }
 * ```
 * `time` and `created_at` are the verification time: the card's signature carries no time of its
 * own, and it was made for a challenge of at most CHALLENGE_TTL_SECONDS before. The evidence's
 * `serial_number` (the signing certificate's serial, lower-case hex) is there only for clients
 * flagged `myna_raw_serial_claim` whose request has the scope `myna_certificate_serial`: a serial
 * is a tracker across services.
 * Substitute characters are described by `myna_substitute_characters` next to the claims
 * (vocabulary.ts). For clients flagged `myna_identity_evidence` (or `myna_retain_identity_evidence`)
 * the release carries the evidence material (signing certificate, signed data, signature,
 * verification time, revocation status), which the token endpoint signs into the evidence bundle
 * (evidence.ts). The certificate holds all four facts and its serial, whatever claims are ticked:
 * disclosures.ts decides both, and the consent page lists them from the same function.
 */
import type { BasicFacts } from '../jpki/basic-facts.js';
import { parseCertificate, serialHex } from '../jpki/certificate.js';
import { claimValue, substitutePositions } from './claim-values.js';
import { disclosedEvidence } from './disclosures.js';
import type { IdentityRequest } from './identity-request.js';
import {
  ADDRESS_MEMBERS,
  AGE_EQUAL_OR_OVER,
  EVIDENCE_TYPE,
  IDENTITY_TARGETS,
  type IdentityTarget,
  SIGNATURE_TYPE,
  SIGNING_CERTIFICATE_ISSUER,
  SUBSTITUTES_CLAIM,
  TRUST_FRAMEWORK,
  VERIFIED_CLAIMS,
} from './vocabulary.js';

/** What the verifier established (functions/jpki/verify-identity.ts VerifiedIdentity has all of it). */
export interface IdentityVerification {
  readonly verifiedAt: Date;
  readonly revocationStatus: 'good' | 'unknown';
  /** DER of the signing certificate. */
  readonly signingCertificate: Uint8Array;
  /** The exact bytes the signing key signed (protocol/signed-data.ts identitySignedData). */
  readonly signedData: Uint8Array;
  readonly signature: Uint8Array;
}

/** The evidence bundle's material (base64url bytes, ISO time), carried sealed to the token endpoint. */
export interface EvidenceMaterial {
  readonly signing_certificate: string;
  readonly signed_data: string;
  readonly signature: string;
  readonly verified_at: string;
  readonly revocation_status: 'good' | 'unknown';
}

/** One transaction's release (JSON-serialisable: it is sealed as JSON). */
export interface IdentityRelease {
  readonly idToken: Record<string, unknown>;
  readonly userinfo: Record<string, unknown>;
  /** The claim ids released, in request order (for the audit line and the evidence bundle). */
  readonly claimNames: readonly string[];
  readonly evidence?: EvidenceMaterial;
}

type Claims = Record<string, unknown>;

/** A time as IDA writes it: ISO 8601 UTC to the second. */
function idaTime(instant: Date): string {
  return `${instant.toISOString().slice(0, 19)}Z`;
}

/** Puts one claim's value (and its substitute positions) into a container of claims. */
function place(
  container: Claims,
  claim: string,
  value: string | boolean,
  positions: readonly number[],
): void {
  const [base, member] = claim.split('.') as [string, string | undefined];
  if (base === 'address' && member) {
    container.address = { ...((container.address ?? {}) as Claims), [member]: value };
  } else if (base === AGE_EQUAL_OR_OVER && member) {
    container[AGE_EQUAL_OR_OVER] = { ...((container[AGE_EQUAL_OR_OVER] ?? {}) as Claims), [member]: value };
  } else {
    container[claim] = value;
  }
  if (positions.length === 0) return;
  const substitutes = (container[SUBSTITUTES_CLAIM] ?? {}) as Claims;
  container[SUBSTITUTES_CLAIM] =
    base === 'address' && member
      ? { ...substitutes, address: { ...((substitutes.address ?? {}) as Claims), [member]: [...positions] } }
      : { ...substitutes, [claim]: [...positions] };
}

/**
 * The release of `request` for `facts`: the required claims and the optional ones in
 * `selectedClaims` (claim ids), with the verification of `verification`; `client` is the client's
 * metadata (its flags and the request decide the evidence serial and material: disclosures.ts).
 */
export function buildRelease(
  request: IdentityRequest,
  facts: BasicFacts,
  selectedClaims: readonly string[],
  verification: IdentityVerification,
  client: object | undefined,
): IdentityRelease {
  const at = verification.verifiedAt;
  const containers = Object.fromEntries(
    IDENTITY_TARGETS.map((target) => [target, { plain: {} as Claims, verified: {} as Claims }]),
  ) as Record<IdentityTarget, { plain: Claims; verified: Claims }>;
  const claimNames: string[] = [];
  for (const item of request.items) {
    if (!item.required && !selectedClaims.includes(item.claim)) continue;
    if (claimValue(item.claim, facts, at) === undefined) continue;
    // The whole address is its members: the address as written and the components it splits into.
    const parts =
      item.claim === 'address' ? ADDRESS_MEMBERS.map((member) => `address.${member}`) : [item.claim];
    for (const part of parts) {
      const value = claimValue(part, facts, at);
      if (value === undefined) continue;
      const positions = substitutePositions(part, facts);
      for (const target of item.targets) {
        place(containers[target][item.inVerifiedClaims ? 'verified' : 'plain'], part, value, positions);
      }
    }
    if (!claimNames.includes(item.claim)) claimNames.push(item.claim);
  }
  const disclosed = disclosedEvidence(client, request);
  const evidence = {
    type: EVIDENCE_TYPE,
    signature_type: SIGNATURE_TYPE,
    issuer: SIGNING_CERTIFICATE_ISSUER,
    ...(disclosed.signingSerial
      ? { serial_number: serialHex(parseCertificate(verification.signingCertificate).serialNumber) }
      : {}),
    created_at: idaTime(at),
  };
  const verificationElement = { trust_framework: TRUST_FRAMEWORK, time: idaTime(at), evidence: [evidence] };
  const claimsOf = ({ plain, verified }: { plain: Claims; verified: Claims }): Claims =>
    Object.keys(verified).length === 0
      ? plain
      : { ...plain, [VERIFIED_CLAIMS]: { verification: verificationElement, claims: verified } };
  const wantsEvidence = disclosed.signingCertificate || disclosed.retained;
  const base64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
  return {
    idToken: claimsOf(containers.id_token),
    userinfo: claimsOf(containers.userinfo),
    claimNames,
    ...(wantsEvidence && claimNames.length > 0
      ? {
          evidence: {
            signing_certificate: base64url(verification.signingCertificate),
            signed_data: base64url(verification.signedData),
            signature: base64url(verification.signature),
            verified_at: idaTime(at),
            revocation_status: verification.revocationStatus,
          },
        }
      : {}),
  };
}

/**
 * The certificate checks a login (user-auth certificate) and an identity verification (signing
 * certificate) share, parameterised by a JPKI certificate profile: size, DER, algorithm, RSA ≥
 * 2048, chain by signature to a trust anchor (every CA generation has the same DN), CA and leaf
 * validity with clock skew, critical extensions, keyUsage, extKeyUsage, the profile's policy; then
 * the card's signature with the certificate key and the revocation answer. Each refusal is a
 * VerificationError whose code the profile names, so a signing certificate's refusal never reads
 * like a login's.
 */
import { type KeyObject, verify } from 'node:crypto';
import {
  ALLOWED_SIGNATURE_ALGORITHMS,
  Ext,
  KeyUsageBit,
  OID_ANY_EXTENDED_KEY_USAGE,
  OID_EKU_CLIENT_AUTH,
  POLICY_SIGNING,
  POLICY_USER_AUTH,
} from '../../protocol/oids.js';
import { ChallengeInputError } from '../../protocol/signed-data.js';
import type { RevocationStatus } from '../revocation/revocation-source.js';
import {
  type CertificateKind,
  hasKeyUsage,
  type ParsedCertificate,
  parseCertificate,
} from './certificate.js';
import { VerificationError, type VerificationErrorCode } from './errors.js';
import {
  MIN_RSA_BITS,
  rsaModulusBits,
  rsaPublicKeyOf,
  type TrustAnchor,
  type TrustAnchors,
} from './trust-anchors.js';

/** Certificates above this size are refused unread (a JPKI certificate is about 1.5 KB). */
export const MAX_CERTIFICATE_BYTES = 16 * 1024;

/** Where and when a certificate is judged. */
export interface CertificateContext {
  readonly trustAnchors: TrustAnchors;
  readonly now: Date;
  /** Tolerated clock difference, in seconds, on both ends of every validity period. */
  readonly clockSkewSeconds: number;
}

/** A certificate that chains to a trusted JPKI CA and fits the profile it was checked against. */
export interface VerifiedCertificate {
  readonly certificate: ParsedCertificate;
  readonly kind: CertificateKind;
  /** The RSA modulus size in bytes: every signature by this key has exactly this length. */
  readonly keyBytes: number;
  readonly issuer: TrustAnchor;
}

/** Every check a profile refuses with a code of its own. */
export type ProfileCheck =
  | 'tooLarge'
  | 'malformed'
  | 'algorithm'
  | 'key'
  | 'untrusted'
  | 'issuerNotValid'
  | 'notYetValid'
  | 'expired'
  | 'criticalExtension'
  | 'keyUsage'
  | 'policy'
  | 'signatureSize'
  | 'signature'
  | 'revoked'
  | 'revocationUnknown';

/** What one kind of JPKI certificate must be, and how each refusal is named. */
export interface CertificateProfile {
  readonly kind: Exclude<CertificateKind, 'other'>;
  /** The certificate policy the certificate must carry. */
  readonly policy: string;
  /** Whether that policy's extension must be critical (the signing profile demands it). */
  readonly policyMustBeCritical: boolean;
  /** Policies that disqualify the certificate (a signing certificate must not also be user-auth). */
  readonly refusedPolicies: readonly string[];
  /** keyUsage bits (KeyUsageBit) that must all be set. */
  readonly keyUsage: readonly number[];
  /** The purpose an extKeyUsage, when present, must allow (anyExtendedKeyUsage also does); undefined: not checked. */
  readonly extendedKeyUsage: string | undefined;
  /** Extensions whose criticality is honoured because they are checked (or knowingly ignored). */
  readonly understoodExtensions: ReadonlySet<string>;
  readonly codes: Readonly<Record<ProfileCheck, VerificationErrorCode>>;
}

const COMMON_EXTENSIONS = [
  Ext.keyUsage,
  Ext.certificatePolicies,
  Ext.basicConstraints,
  Ext.extKeyUsage,
  Ext.subjectKeyIdentifier,
  Ext.authorityKeyIdentifier,
];

/** The user-authentication certificate, as a login accepts it (its codes are the login's). */
export const USER_AUTH_PROFILE: CertificateProfile = {
  kind: 'user-auth',
  policy: POLICY_USER_AUTH,
  policyMustBeCritical: false,
  refusedPolicies: [],
  keyUsage: [KeyUsageBit.digitalSignature],
  extendedKeyUsage: OID_EKU_CLIENT_AUTH,
  understoodExtensions: new Set(COMMON_EXTENSIONS),
  codes: {
    tooLarge: 'CERTIFICATE_TOO_LARGE',
    malformed: 'CERTIFICATE_MALFORMED',
    algorithm: 'ALGORITHM_NOT_ALLOWED',
    key: 'KEY_NOT_ALLOWED',
    untrusted: 'ISSUER_UNTRUSTED',
    issuerNotValid: 'ISSUER_NOT_VALID',
    notYetValid: 'CERTIFICATE_NOT_YET_VALID',
    expired: 'CERTIFICATE_EXPIRED',
    criticalExtension: 'UNSUPPORTED_CRITICAL_EXTENSION',
    keyUsage: 'KEY_USAGE_INVALID',
    policy: 'NOT_USER_AUTH_CERTIFICATE',
    signatureSize: 'SIGNATURE_MALFORMED',
    signature: 'CHALLENGE_SIGNATURE_INVALID',
    revoked: 'REVOKED',
    revocationUnknown: 'REVOCATION_UNKNOWN',
  },
};

/** The signing certificate (署名用電子証明書), as an identity verification accepts it. */
export const SIGNING_PROFILE: CertificateProfile = {
  kind: 'signing',
  policy: POLICY_SIGNING,
  policyMustBeCritical: true,
  refusedPolicies: [POLICY_USER_AUTH],
  keyUsage: [KeyUsageBit.digitalSignature, KeyUsageBit.nonRepudiation],
  extendedKeyUsage: undefined,
  understoodExtensions: new Set([...COMMON_EXTENSIONS, Ext.subjectAltName]),
  codes: {
    tooLarge: 'SIGNING_CERTIFICATE_INVALID',
    malformed: 'SIGNING_CERTIFICATE_INVALID',
    algorithm: 'SIGNING_CERTIFICATE_INVALID',
    key: 'SIGNING_CERTIFICATE_INVALID',
    untrusted: 'SIGNING_CHAIN_INVALID',
    issuerNotValid: 'SIGNING_CHAIN_INVALID',
    notYetValid: 'SIGNING_CERTIFICATE_INVALID',
    expired: 'SIGNING_CERTIFICATE_EXPIRED',
    criticalExtension: 'SIGNING_CERTIFICATE_INVALID',
    keyUsage: 'SIGNING_KEY_USAGE_INVALID',
    policy: 'SIGNING_POLICY_INVALID',
    signatureSize: 'IDENTITY_SIGNATURE_INVALID',
    signature: 'IDENTITY_SIGNATURE_INVALID',
    revoked: 'SIGNING_REVOKED',
    revocationUnknown: 'SIGNING_REVOCATION_UNKNOWN',
  },
};

const KEY_USAGE_NAMES = Object.fromEntries(Object.entries(KeyUsageBit).map(([name, bit]) => [bit, name]));
/** Checks whose refusal always says what exactly failed. */
const ALWAYS_DETAILED: ReadonlySet<ProfileCheck> = new Set(['criticalExtension', 'keyUsage', 'policy']);

/**
 * The profile's refusal for `check`. The detail is kept where the code alone does not say which
 * check failed (a code the profile uses for several checks) and for the checks always detailed.
 */
function refusal(
  profile: CertificateProfile,
  check: ProfileCheck,
  detail?: string,
  cause?: unknown,
): VerificationError {
  const code = profile.codes[check];
  const shared = Object.values(profile.codes).filter((other) => other === code).length > 1;
  return new VerificationError(
    code,
    shared || ALWAYS_DETAILED.has(check) ? detail : undefined,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Checks a certificate against `profile`: size, DER, algorithm, RSA ≥ 2048, chain by signature
 * to a trust anchor, CA and leaf validity at `now` ± skew, critical extensions, keyUsage,
 * extKeyUsage when present, and the policy.
 */
export function verifyCertificateProfile(
  der: Uint8Array,
  context: CertificateContext,
  profile: CertificateProfile,
): VerifiedCertificate {
  const refuse = (check: ProfileCheck, detail?: string, cause?: unknown) =>
    refusal(profile, check, detail, cause);
  if (der.length > MAX_CERTIFICATE_BYTES) throw refuse('tooLarge', 'too large');
  let certificate: ParsedCertificate;
  try {
    certificate = parseCertificate(der);
  } catch (error) {
    throw refuse('malformed', 'not a readable certificate', error);
  }
  if (!ALLOWED_SIGNATURE_ALGORITHMS.has(certificate.signatureAlgorithm)) {
    throw refuse('algorithm', 'signature algorithm not accepted');
  }
  let modulusBits: number;
  try {
    modulusBits = rsaModulusBits(certificate);
  } catch (error) {
    throw refuse('key', 'not an RSA key', error);
  }
  if (modulusBits < MIN_RSA_BITS) throw refuse('key', `RSA key under ${MIN_RSA_BITS} bits`);

  const issuer = context.trustAnchors.findSigner(certificate);
  if (!issuer) throw refuse('untrusted', 'no trusted CA signed it');
  const skew = context.clockSkewSeconds * 1000;
  const now = context.now.getTime();
  if (!isWithin(issuer.certificate, now, skew)) throw refuse('issuerNotValid', 'the CA is not valid now');
  if (now + skew < certificate.notBefore.getTime()) throw refuse('notYetValid', 'not valid yet');
  if (now - skew > certificate.notAfter.getTime()) throw refuse('expired', 'expired');

  for (const [oid, extension] of certificate.extensions) {
    if (extension.critical && !profile.understoodExtensions.has(oid)) {
      throw refuse('criticalExtension', `unsupported critical extension ${oid}`);
    }
  }
  if (profile.refusedPolicies.some((policy) => certificate.policies.includes(policy))) {
    throw refuse('policy', `kind: ${certificate.kind}`);
  }
  for (const bit of profile.keyUsage) {
    if (!hasKeyUsage(certificate.keyUsage, bit)) {
      throw refuse('keyUsage', `${KEY_USAGE_NAMES[bit]} is not allowed`);
    }
  }
  const purposes = certificate.extendedKeyUsage;
  const purpose = profile.extendedKeyUsage;
  if (purpose && purposes && !purposes.includes(purpose) && !purposes.includes(OID_ANY_EXTENDED_KEY_USAGE)) {
    throw refuse(
      'keyUsage',
      purpose === OID_EKU_CLIENT_AUTH ? 'clientAuth is not allowed' : `${purpose} is not allowed`,
    );
  }
  if (!certificate.policies.includes(profile.policy)) throw refuse('policy', `kind: ${certificate.kind}`);
  if (profile.policyMustBeCritical && !certificate.extensions.get(Ext.certificatePolicies)?.critical) {
    throw refuse('policy', 'the certificate policies extension is not critical');
  }
  return { certificate, kind: certificate.kind, keyBytes: Math.ceil(modulusBits / 8), issuer };
}

/** The OP's own challenge (origin and stored nonce) that the card's signature must be over. */
export interface Challenge {
  /** The OP's own origin (never one claimed by the browser). */
  readonly origin: string;
  /** The nonce the OP stored for this interaction. */
  readonly nonce: string;
}

/** The signed data `build` makes of the challenge; an unusable origin or nonce is CHALLENGE_INPUT_INVALID. */
export function challengeBytes(
  build: (origin: string, nonce: string) => Uint8Array,
  challenge: Challenge,
): Uint8Array {
  try {
    return build(challenge.origin, challenge.nonce);
  } catch (error) {
    if (error instanceof ChallengeInputError) {
      throw new VerificationError('CHALLENGE_INPUT_INVALID', error.code, { cause: error });
    }
    throw error;
  }
}

/**
 * Checks the card's RSASSA-PKCS1-v1_5 / SHA-256 signature over `signedData` with the certificate
 * key, imported here: only a key that verifies something is imported (it is the costly part).
 */
export function verifyCardSignature(
  verified: VerifiedCertificate,
  signedData: Uint8Array,
  signature: Uint8Array,
  profile: CertificateProfile,
): void {
  if (signature.length !== verified.keyBytes) {
    throw refusal(profile, 'signatureSize', 'the signature does not have the size of the key');
  }
  let publicKey: KeyObject;
  try {
    publicKey = rsaPublicKeyOf(verified.certificate);
  } catch (error) {
    throw refusal(profile, 'malformed', 'unreadable key', error);
  }
  if (!verify('sha256', signedData, publicKey, signature)) {
    throw refusal(profile, 'signature', 'the signature does not verify');
  }
}

/** The accepted revocation status, or the profile's refusal (`unknown` only when allowed). */
export function acceptedRevocation(
  status: RevocationStatus,
  profile: CertificateProfile,
  allowUnknownRevocation: boolean,
): 'good' | 'unknown' {
  if (status.status === 'revoked')
    throw new VerificationError(profile.codes.revoked, `reason: ${status.reason}`);
  if (status.status === 'unknown' && !allowUnknownRevocation) {
    throw new VerificationError(profile.codes.revocationUnknown, status.detail);
  }
  return status.status;
}

function isWithin(certificate: ParsedCertificate, now: number, skew: number): boolean {
  return now + skew >= certificate.notBefore.getTime() && now - skew <= certificate.notAfter.getTime();
}

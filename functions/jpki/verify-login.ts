/**
 * The login verifier: decides whether a card's answer to a challenge is a valid login. Pure apart
 * from the injected revocation source; the clock is an input. Every refusal is a VerificationError
 * with its own code.
 */
import { type KeyObject, verify } from 'node:crypto';
import { DerError } from '../../protocol/der.js';
import {
  ALLOWED_SIGNATURE_ALGORITHMS,
  Ext,
  KeyUsageBit,
  OID_ANY_EXTENDED_KEY_USAGE,
  OID_EKU_CLIENT_AUTH,
  POLICY_USER_AUTH,
} from '../../protocol/oids.js';
import { ChallengeInputError, challengeSignedData } from '../../protocol/signed-data.js';
import type { RevocationSource } from '../revocation/revocation-source.js';
import { certificateKey } from '../subject/certificate-key.js';
import type { KeyedHashSecret } from '../subject/keyed-hash.js';
import {
  type CertificateKind,
  hasKeyUsage,
  type ParsedCertificate,
  parseCertificate,
} from './certificate.js';
import { VerificationError } from './errors.js';
import { MIN_RSA_BITS, rsaPublicKeyOf, type TrustAnchor, type TrustAnchors } from './trust-anchors.js';

/** Certificates above this size are refused unread (a JPKI user-auth certificate is about 1.5 KB). */
export const MAX_CERTIFICATE_BYTES = 16 * 1024;
/** Extensions whose criticality we honour because we check (or knowingly ignore) them. */
const UNDERSTOOD_EXTENSIONS: ReadonlySet<string> = new Set([
  Ext.keyUsage,
  Ext.certificatePolicies,
  Ext.basicConstraints,
  Ext.extKeyUsage,
  Ext.subjectKeyIdentifier,
  Ext.authorityKeyIdentifier,
]);

/** Where and when a certificate is judged. */
export interface CertificateContext {
  readonly trustAnchors: TrustAnchors;
  readonly now: Date;
  /** Tolerated clock difference, in seconds, on both ends of every validity period. */
  readonly clockSkewSeconds: number;
}

/** A certificate that chains to a trusted JPKI user-auth CA and fits the user-auth profile. */
export interface VerifiedCertificate {
  readonly certificate: ParsedCertificate;
  readonly kind: CertificateKind;
  readonly publicKey: KeyObject;
  /** The RSA modulus size in bytes: every signature by this key has exactly this length. */
  readonly keyBytes: number;
  readonly issuer: TrustAnchor;
}

export interface LoginAnswer {
  /** DER of the card's user-authentication certificate. */
  readonly certificate: Uint8Array;
  /** RSASSA-PKCS1-v1_5 / SHA-256 signature over the challenge signed data. */
  readonly signature: Uint8Array;
}

export interface LoginChallenge {
  /** The OP's own origin (never one claimed by the browser). */
  readonly origin: string;
  /** The nonce the OP stored for this interaction. */
  readonly nonce: string;
}

export interface LoginContext extends CertificateContext {
  readonly revocation: RevocationSource;
  /** The certificate-key secret (OpSecrets.certificateKeySecret) of the certificate key, an HMAC of issuer + serial. */
  readonly certificateKeySecret: KeyedHashSecret;
  /** Accept a login whose revocation status is unknown. Off by default (fail closed). */
  readonly allowUnknownRevocation?: boolean;
}

/** The facts of a verified login; nothing here is the raw serial except inside `certificate`. */
export interface VerifiedLogin {
  readonly certificateKey: string;
  readonly kind: 'user-auth';
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly issuer: { readonly id: string; readonly generation: string };
  readonly revocation: 'good' | 'unknown';
  /** The parsed certificate. Holds the serial number: personal data, never log or store it raw. */
  readonly certificate: ParsedCertificate;
}

/**
 * Checks a certificate for login use: size, DER, algorithm, RSA ≥ 2048, chain by signature to a
 * trust anchor, CA and leaf validity at `now` ± skew, critical extensions, keyUsage
 * digitalSignature, extKeyUsage clientAuth when present, and the user-auth policy.
 */
export function verifyCertificate(der: Uint8Array, context: CertificateContext): VerifiedCertificate {
  if (der.length > MAX_CERTIFICATE_BYTES) throw new VerificationError('CERTIFICATE_TOO_LARGE');
  let certificate: ParsedCertificate;
  try {
    certificate = parseCertificate(der);
  } catch (error) {
    throw new VerificationError('CERTIFICATE_MALFORMED', undefined, { cause: error });
  }
  if (!ALLOWED_SIGNATURE_ALGORITHMS.has(certificate.signatureAlgorithm)) {
    throw new VerificationError('ALGORITHM_NOT_ALLOWED');
  }
  let publicKey: KeyObject;
  try {
    publicKey = rsaPublicKeyOf(certificate);
  } catch (error) {
    const code = error instanceof DerError ? 'KEY_NOT_ALLOWED' : 'CERTIFICATE_MALFORMED';
    throw new VerificationError(code, undefined, { cause: error });
  }
  const modulusBits = publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (modulusBits < MIN_RSA_BITS) throw new VerificationError('KEY_NOT_ALLOWED');

  const issuer = context.trustAnchors.findSigner(certificate);
  if (!issuer) throw new VerificationError('ISSUER_UNTRUSTED');
  const skew = context.clockSkewSeconds * 1000;
  const now = context.now.getTime();
  if (!isWithin(issuer.certificate, now, skew)) throw new VerificationError('ISSUER_NOT_VALID');
  if (now + skew < certificate.notBefore.getTime()) throw new VerificationError('CERTIFICATE_NOT_YET_VALID');
  if (now - skew > certificate.notAfter.getTime()) throw new VerificationError('CERTIFICATE_EXPIRED');

  for (const [oid, extension] of certificate.extensions) {
    if (extension.critical && !UNDERSTOOD_EXTENSIONS.has(oid)) {
      throw new VerificationError('UNSUPPORTED_CRITICAL_EXTENSION', oid);
    }
  }
  if (!hasKeyUsage(certificate.keyUsage, KeyUsageBit.digitalSignature)) {
    throw new VerificationError('KEY_USAGE_INVALID', 'digitalSignature is not allowed');
  }
  const purposes = certificate.extendedKeyUsage;
  if (purposes && !purposes.includes(OID_EKU_CLIENT_AUTH) && !purposes.includes(OID_ANY_EXTENDED_KEY_USAGE)) {
    throw new VerificationError('KEY_USAGE_INVALID', 'clientAuth is not allowed');
  }
  if (!certificate.policies.includes(POLICY_USER_AUTH)) {
    throw new VerificationError('NOT_USER_AUTH_CERTIFICATE', `kind: ${certificate.kind}`);
  }
  return { certificate, kind: certificate.kind, publicKey, keyBytes: Math.ceil(modulusBits / 8), issuer };
}

/**
 * Verifies a login answer: the certificate (see verifyCertificate), the signature over
 * SHA-256(origin) ‖ SHA-256(nonce) rebuilt from the OP's own origin and stored nonce, and the
 * revocation status (last, so forged answers cost no lookup). Returns the facts of the login.
 */
export async function verifyLogin(
  answer: LoginAnswer,
  challenge: LoginChallenge,
  context: LoginContext,
): Promise<VerifiedLogin> {
  let signedData: Buffer;
  try {
    signedData = challengeSignedData(challenge.origin, challenge.nonce);
  } catch (error) {
    if (error instanceof ChallengeInputError) {
      throw new VerificationError('CHALLENGE_INPUT_INVALID', error.code, { cause: error });
    }
    throw error;
  }
  const verified = verifyCertificate(answer.certificate, context);
  const { certificate, publicKey, keyBytes, issuer } = verified;
  if (answer.signature.length !== keyBytes) throw new VerificationError('SIGNATURE_MALFORMED');
  if (!verify('sha256', signedData, publicKey, answer.signature)) {
    throw new VerificationError('CHALLENGE_SIGNATURE_INVALID');
  }

  const status = await context.revocation.status({ certificate, issuer, now: context.now });
  if (status.status === 'revoked') throw new VerificationError('REVOKED', `reason: ${status.reason}`);
  if (status.status === 'unknown' && !context.allowUnknownRevocation) {
    throw new VerificationError('REVOCATION_UNKNOWN', status.detail);
  }
  return {
    certificateKey: certificateKey(
      context.certificateKeySecret,
      certificate.issuer,
      certificate.serialNumber,
    ),
    kind: 'user-auth',
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    issuer: { id: issuer.id, generation: issuer.generation },
    revocation: status.status,
    certificate,
  };
}

function isWithin(certificate: ParsedCertificate, now: number, skew: number): boolean {
  return now + skew >= certificate.notBefore.getTime() && now - skew <= certificate.notAfter.getTime();
}

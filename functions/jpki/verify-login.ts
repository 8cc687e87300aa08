/**
 * The login verifier: decides whether a card's answer to a challenge is a valid login. Pure apart
 * from the injected revocation source; the clock is an input. Every refusal is a VerificationError
 * with its own code.
 */
import { challengeSignedData } from '../../protocol/signed-data.js';
import type { RevocationSource } from '../revocation/revocation-source.js';
import { certificateKey } from '../subject/certificate-key.js';
import type { KeyedHashSecret } from '../subject/keyed-hash.js';
import type { ParsedCertificate } from './certificate.js';
import {
  acceptedRevocation,
  type CertificateContext,
  type Challenge,
  challengeBytes,
  USER_AUTH_PROFILE,
  type VerifiedCertificate,
  verifyCardSignature,
  verifyCertificateProfile,
} from './verify-certificate.js';

export type { CertificateContext, Challenge, VerifiedCertificate } from './verify-certificate.js';

export interface LoginAnswer {
  /** DER of the card's user-authentication certificate. */
  readonly certificate: Uint8Array;
  /** RSASSA-PKCS1-v1_5 / SHA-256 signature over the challenge signed data. */
  readonly signature: Uint8Array;
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
 * Checks a certificate for login use (verify-certificate.ts, user-auth profile): size, DER,
 * algorithm, RSA ≥ 2048, chain by signature to a trust anchor, CA and leaf validity at `now` ±
 * skew, critical extensions, keyUsage digitalSignature, extKeyUsage clientAuth when present, and
 * the user-auth policy.
 */
export function verifyCertificate(der: Uint8Array, context: CertificateContext): VerifiedCertificate {
  return verifyCertificateProfile(der, context, USER_AUTH_PROFILE);
}

/**
 * Verifies a login answer: the certificate (see verifyCertificate), the signature over
 * SHA-256(origin) ‖ SHA-256(nonce) rebuilt from the OP's own origin and the challenge's nonce, and the
 * revocation status (last, so forged answers cost no lookup). Returns the facts of the login.
 */
export async function verifyLogin(
  answer: LoginAnswer,
  challenge: Challenge,
  context: LoginContext,
): Promise<VerifiedLogin> {
  const signedData = challengeBytes(challengeSignedData, challenge);
  const verified = verifyCertificate(answer.certificate, context);
  const { certificate, issuer } = verified;
  verifyCardSignature(verified, signedData, answer.signature, USER_AUTH_PROFILE);

  const status = await context.revocation.status({ certificate, issuer, now: context.now });
  const revocation = acceptedRevocation(status, USER_AUTH_PROFILE, context.allowUnknownRevocation ?? false);
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
    revocation,
    certificate,
  };
}

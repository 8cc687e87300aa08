/**
 * The identity verifier: decides whether a card's answer to an identity challenge proves the
 * basic facts of its signing certificate (署名用電子証明書). Checks, in this order (cheap before
 * costly, I/O last, so a forged answer costs no look-up):
 *
 * 1. the signed data is rebuilt from the OP's own origin and stored nonce (identitySignedData);
 * 2. the signing certificate against the signing profile (verify-certificate.ts): chain by
 *    signature to a signing trust anchor of any generation, validity ± skew, keyUsage
 *    digitalSignature + nonRepudiation, the signing policy `1.2.392.200149.8.5.1.1.20` as a
 *    critical extension, and not a user-auth certificate;
 * 3. the signature over the signed data with the signing key;
 * 4. the basic facts (basic-facts.ts);
 * 5. the user-auth certificate as a login checks it (chain, policy, validity; its revocation was
 *    checked by the login of this interaction), to compute its certificate key, which the caller
 *    compares with the login's;
 * 6. the revocation of the signing certificate (the same RevocationSource as logins: CRLs keyed
 *    by the issuing CA key, OCSP by the certificate's AIA; a signing certificate is revoked, with
 *    reason affiliationChanged, when the name or address changes) and, when configured, the link
 *    source's word that both certificates are of one card.
 *
 * Pure apart from the injected revocation and link sources; the clock is an input. Every refusal
 * is a VerificationError; none of its messages carries a fact or a serial.
 */
import { identitySignedData } from '../../protocol/signed-data.js';
import type { RevocationSource } from '../revocation/revocation-source.js';
import { certificateKey } from '../subject/certificate-key.js';
import type { KeyedHashSecret } from '../subject/keyed-hash.js';
import { type BasicFacts, readBasicFacts } from './basic-facts.js';
import { serialHex } from './certificate.js';
import type { CertificateLinkSource } from './certificate-links.js';
import { VerificationError } from './errors.js';
import type { TrustAnchors } from './trust-anchors.js';
import {
  acceptedRevocation,
  type Challenge,
  challengeBytes,
  SIGNING_PROFILE,
  USER_AUTH_PROFILE,
  verifyCardSignature,
  verifyCertificateProfile,
} from './verify-certificate.js';

/** What the helper returns for `verify-identity` (decoded from base64url). */
export interface IdentityAnswer {
  /** DER of the card's user-authentication certificate (read in the same card session). */
  readonly userAuthCertificate: Uint8Array;
  /** DER of the card's signing certificate. */
  readonly signingCertificate: Uint8Array;
  /** RSASSA-PKCS1-v1_5 / SHA-256 signature by the signing key over identitySignedData(origin, nonce). */
  readonly signature: Uint8Array;
}

export interface IdentityContext {
  /** The JPKI signing CAs, every generation. */
  readonly signingTrustAnchors: TrustAnchors;
  /** The JPKI user-auth CAs (the login's trust anchors). */
  readonly userAuthTrustAnchors: TrustAnchors;
  readonly now: Date;
  readonly clockSkewSeconds: number;
  /** The login's revocation source; it must know the signing CAs too (see combineTrustAnchors). */
  readonly revocation: RevocationSource;
  /** Accept a signing certificate whose revocation status is unknown (fail closed when false). */
  readonly allowUnknownRevocation: boolean;
  /** The certificate-key secret (OpSecrets.certificateKeySecret). */
  readonly certificateKeySecret: KeyedHashSecret;
  /** J-LIS's signing serial → user-auth serial look-up, when the operator has one. */
  readonly links?: CertificateLinkSource | undefined;
}

/** A verified identity. Personal data throughout: never log or store it (the release is sealed). */
export interface VerifiedIdentity {
  readonly facts: BasicFacts;
  /** The certificate key of the answer's user-auth certificate: what a login with it gets. */
  readonly userAuthCertificateKey: string;
  /** The signing CA generation (id: hex SHA-256 of its key; generation: its start year). */
  readonly signingIssuer: { readonly id: string; readonly generation: string };
  /** DER of the signing certificate (for the evidence bundle). */
  readonly signingCertificate: Uint8Array;
  /** The exact bytes the signing key signed. */
  readonly signedData: Uint8Array;
  readonly signature: Uint8Array;
  readonly verifiedAt: Date;
  readonly revocationStatus: 'good' | 'unknown';
}

/** Verifies an identity answer against the OP's own challenge; see the module comment for the checks. */
export async function verifyIdentity(
  answer: IdentityAnswer,
  challenge: Challenge,
  context: IdentityContext,
): Promise<VerifiedIdentity> {
  const signedData = challengeBytes(identitySignedData, challenge);
  const timing = { now: context.now, clockSkewSeconds: context.clockSkewSeconds };
  const signing = verifyCertificateProfile(
    answer.signingCertificate,
    { ...timing, trustAnchors: context.signingTrustAnchors },
    SIGNING_PROFILE,
  );
  verifyCardSignature(signing, signedData, answer.signature, SIGNING_PROFILE);
  const facts = readBasicFacts(signing.certificate);
  const userAuth = verifyCertificateProfile(
    answer.userAuthCertificate,
    { ...timing, trustAnchors: context.userAuthTrustAnchors },
    USER_AUTH_PROFILE,
  ).certificate;

  const [status, linkedUserAuthSerial] = await Promise.all([
    context.revocation.status({ certificate: signing.certificate, issuer: signing.issuer, now: context.now }),
    context.links?.userAuthSerialFor(signing.certificate),
  ]);
  const revocationStatus = acceptedRevocation(status, SIGNING_PROFILE, context.allowUnknownRevocation);
  if (context.links) {
    if (linkedUserAuthSerial === undefined) {
      if (context.links.authoritative) {
        throw new VerificationError('CARD_MISMATCH', 'the link source does not know the signing certificate');
      }
    } else if (linkedUserAuthSerial !== serialHex(userAuth.serialNumber)) {
      throw new VerificationError(
        'CARD_MISMATCH',
        'the link source links it to another user-auth certificate',
      );
    }
  }
  return {
    facts,
    userAuthCertificateKey: certificateKey(
      context.certificateKeySecret,
      userAuth.issuer,
      userAuth.serialNumber,
    ),
    signingIssuer: { id: signing.issuer.id, generation: signing.issuer.generation },
    signingCertificate: answer.signingCertificate,
    signedData,
    signature: answer.signature,
    verifiedAt: context.now,
    revocationStatus,
  };
}

/**
 * The configured JPKI user-authentication CA certificates, parsed once. Every generation of the
 * CA has the same subject DN, so an issuer is only ever chosen by verifying its signature; the
 * authority key identifier merely decides which anchor is tried first.
 */
import { constants, createHash, createPublicKey, type KeyObject, publicDecrypt, verify } from 'node:crypto';
import { checkInteger, childrenOf, contentOf, DerError, readWhole, Tag } from '../../protocol/der.js';
import { ALLOWED_SIGNATURE_ALGORITHMS, KeyUsageBit, OID_RSA_ENCRYPTION } from '../../protocol/oids.js';
import { hasKeyUsage, type ParsedCertificate, parseCertificate } from './certificate.js';

export const MIN_RSA_BITS = 2048;

/** A trusted CA: its certificate, its public key ready for node:crypto, and a stable id. */
export interface TrustAnchor {
  /** Hex SHA-256 of the CA's SubjectPublicKeyInfo: identifies this generation's key. */
  readonly id: string;
  /** The CA generation, named by the year its certificate starts (JPKI: 2015, 2019, 2023). */
  readonly generation: string;
  readonly certificate: ParsedCertificate;
  readonly publicKey: KeyObject;
}

/** Raised when a configured anchor is not a usable CA certificate. */
export class TrustAnchorError extends Error {
  readonly code = 'TRUST_ANCHOR_INVALID';
  override name = 'TrustAnchorError';
}

/**
 * The modulus size in bits of a certificate's RSA key, read from its PKCS#1 RSAPublicKey without
 * importing it (a key that verifies nothing need not cost an import). Throws DerError for a key
 * that is not RSA or not a well-formed RSAPublicKey.
 */
export function rsaModulusBits(certificate: ParsedCertificate): number {
  if (certificate.publicKeyAlgorithm !== OID_RSA_ENCRYPTION) throw new DerError('not an RSA key');
  const key = certificate.publicKey;
  const parts = childrenOf(key, readWhole(key, Tag.SEQUENCE));
  const [modulus, exponent] = parts;
  if (parts.length !== 2 || modulus?.tag !== Tag.INTEGER || exponent?.tag !== Tag.INTEGER) {
    throw new DerError('bad RSAPublicKey');
  }
  const n = checkInteger(contentOf(key, modulus));
  checkInteger(contentOf(key, exponent));
  if (((n[0] as number) & 0x80) !== 0) throw new DerError('negative RSA modulus');
  const start = n[0] === 0 ? 1 : 0;
  if (start >= n.length) throw new DerError('zero RSA modulus');
  return (n.length - start - 1) * 8 + (32 - Math.clz32(n[start] as number));
}

/** Imports the RSA public key of a parsed certificate (PKCS#1 import: ~20x faster than SPKI in OpenSSL 3). */
export function rsaPublicKeyOf(certificate: ParsedCertificate): KeyObject {
  if (certificate.publicKeyAlgorithm !== OID_RSA_ENCRYPTION) throw new DerError('not an RSA key');
  return createPublicKey({ key: Buffer.from(certificate.publicKey), format: 'der', type: 'pkcs1' });
}

/** A signed DER object (certificate or CRL): the signed bytes, the algorithm and the signature. */
export interface SignedObject {
  readonly tbs: Uint8Array;
  readonly signatureAlgorithm: string;
  readonly signatureValue: Uint8Array;
  /** The authorityKeyIdentifier keyIdentifier, used only to order the anchors tried. */
  readonly authorityKeyId?: Uint8Array | undefined;
}

/** Checks `signed` is signed by `key` with an allowed algorithm. */
export function isSignedBy(signed: SignedObject, key: KeyObject): boolean {
  const hash = ALLOWED_SIGNATURE_ALGORITHMS.get(signed.signatureAlgorithm);
  return hash !== undefined && verify(hash, signed.tbs, key, signed.signatureValue);
}

/** A signature over a digest computed elsewhere (a CRL hashed while it streams). */
export interface SignedDigest {
  readonly hash: 'sha256' | 'sha384' | 'sha512';
  readonly digest: Uint8Array;
  readonly signatureValue: Uint8Array;
  /** The authorityKeyIdentifier keyIdentifier, used only to order the anchors tried. */
  readonly authorityKeyId?: Uint8Array | undefined;
}

/** The DER DigestInfo prefix (RFC 8017 §9.2 note 1) of each allowed hash. */
const DIGEST_INFO_PREFIX = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
} as const;

/**
 * Checks an RSASSA-PKCS1-v1_5 signature over a precomputed digest: the signature is opened with
 * the public key (OpenSSL checks the type-1 padding) and must be exactly DigestInfo(hash, digest).
 */
export function isDigestSignedBy(signed: SignedDigest, key: KeyObject): boolean {
  let opened: Buffer;
  try {
    opened = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signed.signatureValue);
  } catch {
    return false;
  }
  return opened.equals(Buffer.concat([DIGEST_INFO_PREFIX[signed.hash], signed.digest]));
}

/** An immutable set of trust anchors. */
export class TrustAnchors {
  readonly #anchors: readonly TrustAnchor[];
  readonly #byKeyId: ReadonlyMap<string, TrustAnchor>;

  constructor(anchors: readonly TrustAnchor[]) {
    if (anchors.length === 0) throw new TrustAnchorError('at least one trust anchor is required');
    this.#anchors = anchors;
    this.#byKeyId = new Map(
      anchors.flatMap((anchor) => {
        const keyId = anchor.certificate.subjectKeyId;
        return keyId ? [[Buffer.from(keyId).toString('latin1'), anchor] as const] : [];
      }),
    );
  }

  /** All anchors, in configuration order. */
  get list(): readonly TrustAnchor[] {
    return this.#anchors;
  }

  /** The anchor whose key signed `signed` (a certificate or a CRL), or undefined. */
  findSigner(signed: SignedObject): TrustAnchor | undefined {
    return this.#find(signed.authorityKeyId, (key) => isSignedBy(signed, key));
  }

  /** The anchor whose key signed a digest (see isDigestSignedBy), or undefined. */
  findDigestSigner(signed: SignedDigest): TrustAnchor | undefined {
    return this.#find(signed.authorityKeyId, (key) => isDigestSignedBy(signed, key));
  }

  #find(
    authorityKeyId: Uint8Array | undefined,
    signedBy: (key: KeyObject) => boolean,
  ): TrustAnchor | undefined {
    const hinted = authorityKeyId && this.#byKeyId.get(Buffer.from(authorityKeyId).toString('latin1'));
    if (hinted && signedBy(hinted.publicKey)) return hinted;
    return this.#anchors.find((anchor) => anchor !== hinted && signedBy(anchor.publicKey));
  }
}

/** Parses and checks CA certificates (DER) for use as trust anchors. */
export function loadTrustAnchors(certificates: readonly Uint8Array[]): TrustAnchors {
  return new TrustAnchors(
    certificates.map((der, index) => {
      let certificate: ParsedCertificate;
      let publicKey: KeyObject;
      try {
        certificate = parseCertificate(der);
        publicKey = rsaPublicKeyOf(certificate);
      } catch (error) {
        throw new TrustAnchorError(`trust anchor #${index + 1} is not a readable RSA certificate`, {
          cause: error,
        });
      }
      if (!certificate.basicConstraintsCA || !hasKeyUsage(certificate.keyUsage, KeyUsageBit.keyCertSign)) {
        throw new TrustAnchorError(`trust anchor #${index + 1} is not a CA certificate`);
      }
      if ((publicKey.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) {
        throw new TrustAnchorError(`trust anchor #${index + 1} has an RSA key under ${MIN_RSA_BITS} bits`);
      }
      return {
        id: createHash('sha256').update(certificate.spki).digest('hex'),
        generation: String(certificate.notBefore.getUTCFullYear()),
        certificate,
        publicKey,
      };
    }),
  );
}

/**
 * One set of the anchors of several (duplicates by key dropped), for what serves both kinds of
 * certificate: a revocation source that checks user-auth and signing certificates verifies CRLs
 * of both CAs. Never verify a certificate against it: each kind has its own anchors.
 */
export function combineTrustAnchors(...sets: readonly TrustAnchors[]): TrustAnchors {
  const byId = new Map<string, TrustAnchor>();
  for (const anchor of sets.flatMap((set) => set.list)) if (!byId.has(anchor.id)) byId.set(anchor.id, anchor);
  return new TrustAnchors([...byId.values()]);
}

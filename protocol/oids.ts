/**
 * Object identifiers of the JPKI certificate profiles (shared/jpki-card.md §3), of the X.509,
 * CRL and OCSP structures this product reads or writes, and of the algorithms it accepts. The one
 * place for OIDs (ASN.1 tags live with the DER reader, `Tag` in der.ts), so a profile change is a
 * one-line edit.
 */

/** Certificate policy of the JPKI user-authentication certificate (利用者証明用). */
export const POLICY_USER_AUTH = '1.2.392.200149.8.5.1.3.30';
/** Certificate policy of the JPKI signing certificate (署名用): it must never log in. */
export const POLICY_SIGNING = '1.2.392.200149.8.5.1.1.20';
/** Arc of the basic-facts otherNames in a signing certificate's subjectAltName. */
export const BASIC_FACTS_ARC = '1.2.392.200149.8.5.5';

/** The basic facts (基本4情報) that a signing certificate carries as otherNames. */
export const BasicFactOid = {
  name: `${BASIC_FACTS_ARC}.1`,
  nameSubstitute: `${BASIC_FACTS_ARC}.2`,
  gender: `${BASIC_FACTS_ARC}.3`,
  birthDate: `${BASIC_FACTS_ARC}.4`,
  address: `${BASIC_FACTS_ARC}.5`,
  addressSubstitute: `${BASIC_FACTS_ARC}.6`,
} as const;

/** id-sha1: only for identifiers (an OCSP CertID may use it), never for signatures. */
export const OID_SHA1 = '1.3.14.3.2.26';
/** id-sha256 (FIPS 180-4 via RFC 5754). */
export const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
export const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
/** sha256WithRSAEncryption (RFC 4055): what the development PKI and the large test CRLs sign with. */
export const OID_SHA256_WITH_RSA = '1.2.840.113549.1.1.11';

/** Certificate signature algorithms accepted on JPKI certificates (RSA PKCS#1 v1.5 with SHA-2). */
export const ALLOWED_SIGNATURE_ALGORITHMS: ReadonlyMap<string, 'sha256' | 'sha384' | 'sha512'> = new Map([
  [OID_SHA256_WITH_RSA, 'sha256'],
  ['1.2.840.113549.1.1.12', 'sha384'],
  ['1.2.840.113549.1.1.13', 'sha512'],
]);

/**
 * Hash algorithms an OCSP CertID may name (RFC 6960 §4.1.1; RFC 5019 responders answer with
 * SHA-1). Only identifiers are hashed with them, so SHA-1 is acceptable here; requests use SHA-256.
 */
export const CERT_ID_HASH_ALGORITHMS: ReadonlyMap<string, 'sha1' | 'sha256' | 'sha384' | 'sha512'> = new Map([
  [OID_SHA1, 'sha1'],
  [OID_SHA256, 'sha256'],
  ['2.16.840.1.101.3.4.2.2', 'sha384'],
  ['2.16.840.1.101.3.4.2.3', 'sha512'],
]);

/** Certificate and CRL extensions (RFC 5280 §4.2, §5.2, §5.3). */
export const Ext = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  issuerAltName: '2.5.29.18',
  basicConstraints: '2.5.29.19',
  crlDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  crlNumber: '2.5.29.20',
  crlReason: '2.5.29.21',
  issuingDistributionPoint: '2.5.29.28',
} as const;

/** X.520 attribute types of the names in JPKI certificates. */
export const AttributeType = {
  commonName: '2.5.4.3',
  country: '2.5.4.6',
  locality: '2.5.4.7',
  organization: '2.5.4.10',
  organizationalUnit: '2.5.4.11',
} as const;

export const OID_EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
/** id-kp-OCSPSigning: a certificate the CA issued for signing OCSP responses in its name. */
export const OID_EKU_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';
/** anyExtendedKeyUsage (RFC 5280 §4.2.1.12). */
export const OID_ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';
/** id-ad-ocsp: the accessMethod of an OCSP responder in authorityInfoAccess. */
export const OID_AIA_OCSP = '1.3.6.1.5.5.7.48.1';
/** id-pkix-ocsp-basic: the only OCSP response type (RFC 6960 §4.2.1). */
export const OID_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
/** id-pkix-ocsp-nonce (RFC 8954). */
export const OID_OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2';
export const OID_CPS_QUALIFIER = '1.3.6.1.5.5.7.2.1';

/** keyUsage bits, numbered as in RFC 5280 (bit 0 is the most significant bit of the first byte). */
export const KeyUsageBit = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
} as const;

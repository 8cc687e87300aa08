/**
 * Object identifiers of the JPKI certificate profiles (shared/jpki-card.md §3) and of the
 * algorithms this product accepts. One place, so a profile change is a one-line edit.
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

export const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';

/** Certificate signature algorithms accepted on JPKI certificates (RSA PKCS#1 v1.5 with SHA-2). */
export const ALLOWED_SIGNATURE_ALGORITHMS: ReadonlyMap<string, 'sha256' | 'sha384' | 'sha512'> = new Map([
  ['1.2.840.113549.1.1.11', 'sha256'],
  ['1.2.840.113549.1.1.12', 'sha384'],
  ['1.2.840.113549.1.1.13', 'sha512'],
]);

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
} as const;

export const OID_EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
export const OID_AIA_OCSP = '1.3.6.1.5.5.7.48.1';
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

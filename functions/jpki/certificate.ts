/**
 * Reads the parts of an X.509 certificate that login verification needs, straight from the DER
 * (views into the input, no re-encoding), so verification costs little more than its two RSA
 * operations. Human-readable inspection uses @peculiar/x509 instead (cli/commands/cert.ts).
 */
import {
  bitStringBytes,
  checkInteger,
  childrenOf,
  contentOf,
  contextTag,
  type DerElement,
  DerError,
  decodeBoolean,
  decodeOid,
  decodeTime,
  encodingOf,
  expectElement,
  readWhole,
  Tag,
} from '../../protocol/der.js';
import { Ext, POLICY_SIGNING, POLICY_USER_AUTH } from '../../protocol/oids.js';
import {
  checkSameAlgorithm,
  type Extension,
  readAlgorithmOid,
  readAuthorityKeyId,
  readExtensions,
  readSignedEnvelope,
  type SignedEnvelope,
} from './x509-fields.js';

/** What a certificate is for, judged by its JPKI policy OID. */
export type CertificateKind = 'user-auth' | 'signing' | 'other';

/** A certificate as the verifier sees it. Byte fields are views into `der`. */
export interface ParsedCertificate extends Omit<SignedEnvelope, 'tbsElement' | 'algorithmEncoding'> {
  readonly der: Uint8Array;
  /** INTEGER content octets of the serial number: personal data for end-entity certificates. */
  readonly serialNumber: Uint8Array;
  /** Encoded issuer and subject Names. */
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKeyAlgorithm: string;
  /** Encoded SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
  /** The subjectPublicKey BIT STRING content (for RSA: a PKCS#1 RSAPublicKey). */
  readonly publicKey: Uint8Array;
  readonly extensions: ReadonlyMap<string, Extension>;
  /** keyUsage as a bit set (bit i = RFC 5280 bit i), or undefined without the extension. */
  readonly keyUsage: number | undefined;
  readonly basicConstraintsCA: boolean;
  readonly policies: readonly string[];
  /** extKeyUsage purposes, or undefined without the extension (any purpose). */
  readonly extendedKeyUsage: readonly string[] | undefined;
  readonly subjectKeyId: Uint8Array | undefined;
  readonly authorityKeyId: Uint8Array | undefined;
  readonly kind: CertificateKind;
}

/** Parses a DER certificate. Throws DerError for anything malformed. */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  const envelope = readSignedEnvelope(der);
  const { tbsElement, tbs, signatureAlgorithm, signatureValue } = envelope;
  const fields = childrenOf(der, tbsElement);
  let index = 0;
  const next = (): DerElement => {
    const element = fields[index++];
    if (!element) throw new DerError('tbsCertificate is truncated');
    return element;
  };
  const version = next();
  if (version.tag !== contextTag(0, true)) throw new DerError('only v3 certificates are accepted');
  const versionValue = contentOf(der, expectElement(der, version.valueStart, Tag.INTEGER, version.end));
  if (versionValue.length !== 1 || versionValue[0] !== 2)
    throw new DerError('only v3 certificates are accepted');

  const serial = next();
  if (serial.tag !== Tag.INTEGER) throw new DerError('bad serial number');
  const serialNumber = checkInteger(contentOf(der, serial));
  checkSameAlgorithm(der, next(), envelope);
  const issuer = next();
  const validity = childrenOf(der, next());
  const subject = next();
  const spkiElement = next();
  if (issuer.tag !== Tag.SEQUENCE || subject.tag !== Tag.SEQUENCE || validity.length !== 2) {
    throw new DerError('bad names or validity');
  }
  const [notBeforeElement, notAfterElement] = validity as [DerElement, DerElement];
  const spki = childrenOf(der, spkiElement);
  if (spki.length !== 2 || spki[1]?.tag !== Tag.BIT_STRING) throw new DerError('bad subjectPublicKeyInfo');

  let extensionsElement: DerElement | undefined;
  while (index < fields.length) {
    const element = next();
    if (element.tag === contextTag(3, true)) extensionsElement = element;
    else if (element.tag !== contextTag(1, false) && element.tag !== contextTag(2, false)) {
      throw new DerError('unexpected field in tbsCertificate');
    }
  }
  const extensions = extensionsElement
    ? readExtensions(der, extensionsElement, 3)
    : new Map<string, Extension>();

  const policies = readPolicies(extensions.get(Ext.certificatePolicies));
  return {
    der,
    tbs,
    signatureAlgorithm,
    signatureValue,
    serialNumber,
    issuer: encodingOf(der, issuer),
    subject: encodingOf(der, subject),
    notBefore: decodeTime(notBeforeElement.tag, contentOf(der, notBeforeElement)),
    notAfter: decodeTime(notAfterElement.tag, contentOf(der, notAfterElement)),
    publicKeyAlgorithm: readAlgorithmOid(der, spki[0] as DerElement),
    spki: encodingOf(der, spkiElement),
    publicKey: bitStringBytes(contentOf(der, spki[1])),
    extensions,
    keyUsage: readKeyUsage(extensions.get(Ext.keyUsage)),
    basicConstraintsCA: readBasicConstraintsCA(extensions.get(Ext.basicConstraints)),
    policies,
    extendedKeyUsage: readExtendedKeyUsage(extensions.get(Ext.extKeyUsage)),
    subjectKeyId: readSubjectKeyId(extensions.get(Ext.subjectKeyIdentifier)),
    authorityKeyId: readAuthorityKeyId(extensions.get(Ext.authorityKeyIdentifier)),
    kind: classifyPolicies(policies),
  };
}

/** The JPKI kind named by a list of certificate policies. */
export function classifyPolicies(policies: readonly string[]): CertificateKind {
  if (policies.includes(POLICY_USER_AUTH)) return 'user-auth';
  if (policies.includes(POLICY_SIGNING)) return 'signing';
  return 'other';
}

/** The canonical text form of a serial number's INTEGER bytes (lower-case hex, no leading zero bytes). */
export function serialHex(serial: Uint8Array): string {
  let start = 0;
  while (start < serial.length - 1 && serial[start] === 0) start++;
  return Buffer.from(serial.buffer, serial.byteOffset + start, serial.length - start).toString('hex');
}

/** True when bit `bit` (RFC 5280 numbering) is set in a keyUsage bit set. */
export function hasKeyUsage(keyUsage: number | undefined, bit: number): boolean {
  return keyUsage !== undefined && (keyUsage & (1 << bit)) !== 0;
}

function readKeyUsage(extension: Extension | undefined): number | undefined {
  if (!extension) return undefined;
  const bytes = extension.value;
  const bits = contentOf(bytes, readWhole(bytes, Tag.BIT_STRING));
  if (bits.length < 1 || (bits[0] as number) > 7) throw new DerError('bad keyUsage');
  let set = 0;
  for (let bit = 0; bit < (bits.length - 1) * 8 && bit < 16; bit++) {
    if (((bits[1 + (bit >> 3)] as number) & (0x80 >> (bit & 7))) !== 0) set |= 1 << bit;
  }
  return set;
}

function readBasicConstraintsCA(extension: Extension | undefined): boolean {
  if (!extension) return false;
  const bytes = extension.value;
  const [first] = childrenOf(bytes, readWhole(bytes, Tag.SEQUENCE));
  return first?.tag === Tag.BOOLEAN ? decodeBoolean(contentOf(bytes, first)) : false;
}

function readPolicies(extension: Extension | undefined): string[] {
  if (!extension) return [];
  const bytes = extension.value;
  return childrenOf(bytes, readWhole(bytes, Tag.SEQUENCE)).map((information) => {
    const [oid] = childrenOf(bytes, information);
    if (!oid || oid.tag !== Tag.OID) throw new DerError('bad PolicyInformation');
    return decodeOid(contentOf(bytes, oid));
  });
}

function readExtendedKeyUsage(extension: Extension | undefined): string[] | undefined {
  if (!extension) return undefined;
  const bytes = extension.value;
  return childrenOf(bytes, readWhole(bytes, Tag.SEQUENCE)).map((oid) => {
    if (oid.tag !== Tag.OID) throw new DerError('bad extKeyUsage');
    return decodeOid(contentOf(bytes, oid));
  });
}

function readSubjectKeyId(extension: Extension | undefined): Uint8Array | undefined {
  return extension ? contentOf(extension.value, readWhole(extension.value, Tag.OCTET_STRING)) : undefined;
}

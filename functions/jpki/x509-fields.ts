/**
 * X.509 structures shared by certificates and CRLs (RFC 5280): the signed envelope,
 * AlgorithmIdentifier, Extensions and the authority key identifier, read with protocol/der.ts.
 */
import {
  bitStringBytes,
  childrenOf,
  contentOf,
  contextTag,
  type DerElement,
  DerError,
  decodeBoolean,
  decodeOid,
  encodingOf,
  readWhole,
  Tag,
} from '../../protocol/der.js';

export interface Extension {
  readonly critical: boolean;
  /** The extnValue OCTET STRING content. */
  readonly value: Uint8Array;
}

/** The outer SEQUENCE { tbs, signatureAlgorithm, signatureValue } of a certificate or CRL. */
export interface SignedEnvelope {
  readonly tbsElement: DerElement;
  readonly tbs: Uint8Array;
  readonly signatureAlgorithm: string;
  readonly signatureValue: Uint8Array;
  /** The outer AlgorithmIdentifier exactly as encoded. */
  readonly algorithmEncoding: Uint8Array;
}

/** Splits a signed X.509 object into its parts; the inner algorithm is checked with sameAlgorithm(). */
export function readSignedEnvelope(der: Uint8Array): SignedEnvelope {
  const parts = childrenOf(der, readWhole(der, Tag.SEQUENCE));
  const [tbsElement, algorithm, signature] = parts as [DerElement, DerElement, DerElement];
  if (parts.length !== 3 || tbsElement.tag !== Tag.SEQUENCE || signature.tag !== Tag.BIT_STRING) {
    throw new DerError('bad signed structure');
  }
  return {
    tbsElement,
    tbs: encodingOf(der, tbsElement),
    signatureAlgorithm: readAlgorithmOid(der, algorithm),
    signatureValue: bitStringBytes(contentOf(der, signature)),
    algorithmEncoding: encodingOf(der, algorithm),
  };
}

/**
 * Checks the signed part's AlgorithmIdentifier is byte-for-byte the outer one (RFC 5280
 * §4.1.1.2), so the unsigned outer copy cannot be altered, parameters included.
 */
export function checkSameAlgorithm(
  der: Uint8Array,
  inner: DerElement | undefined,
  envelope: SignedEnvelope,
): void {
  if (!inner || Buffer.compare(encodingOf(der, inner), envelope.algorithmEncoding) !== 0) {
    throw new DerError('inner and outer signature algorithms differ');
  }
}

/** The OID of an AlgorithmIdentifier (the accepted RSA algorithms take no parameters of use). */
export function readAlgorithmOid(der: Uint8Array, element: DerElement): string {
  if (element.tag !== Tag.SEQUENCE) throw new DerError('bad AlgorithmIdentifier');
  const parts = childrenOf(der, element);
  const [oid] = parts;
  if (!oid || oid.tag !== Tag.OID || parts.length > 2) throw new DerError('bad AlgorithmIdentifier');
  return decodeOid(contentOf(der, oid));
}

/** Reads `Extensions` (a SEQUENCE, or one wrapped in the explicit tag `[wrapTag]`) into a map by OID. */
export function readExtensions(
  der: Uint8Array,
  element: DerElement,
  wrapTag?: number,
): Map<string, Extension> {
  let list = element;
  if (wrapTag !== undefined) {
    if (element.tag !== contextTag(wrapTag, true)) throw new DerError('bad extensions wrapper');
    const inner = childrenOf(der, element);
    if (inner.length !== 1) throw new DerError('bad extensions wrapper');
    list = inner[0] as DerElement;
  }
  if (list.tag !== Tag.SEQUENCE) throw new DerError('bad extensions');
  const extensions = new Map<string, Extension>();
  for (const extension of childrenOf(der, list)) {
    const parts = childrenOf(der, extension);
    const [oid, second, third] = parts;
    if (!oid || oid.tag !== Tag.OID || !second || parts.length > 3) throw new DerError('bad extension');
    if (third && second.tag !== Tag.BOOLEAN) throw new DerError('bad extension');
    const value = third ?? second;
    if (value.tag !== Tag.OCTET_STRING) throw new DerError('bad extension');
    const id = decodeOid(contentOf(der, oid));
    if (extensions.has(id)) throw new DerError('duplicate extension');
    extensions.set(id, {
      critical: third ? decodeBoolean(contentOf(der, second)) : false,
      value: contentOf(der, value),
    });
  }
  return extensions;
}

/** The keyIdentifier of an authorityKeyIdentifier extension, if it has one. */
export function readAuthorityKeyId(extension: Extension | undefined): Uint8Array | undefined {
  if (!extension) return undefined;
  const bytes = extension.value;
  const keyId = childrenOf(bytes, readWhole(bytes, Tag.SEQUENCE)).find(
    (part) => part.tag === contextTag(0, false),
  );
  return keyId ? contentOf(bytes, keyId) : undefined;
}

/**
 * Reads an X.509 CRL (RFC 5280 §5) from DER with the same strict reader as certificates, and
 * checks it against the trust anchors. JPKI CRLs are split by municipality and can be large; the
 * entries are read in one pass over views into the input.
 */
import {
  checkInteger,
  childrenOf,
  contentOf,
  type DerElement,
  DerError,
  decodeTime,
  encodingOf,
  readWhole,
  Tag,
} from '../../protocol/der.js';
import type { TrustAnchor, TrustAnchors } from '../jpki/trust-anchors.js';
import {
  checkSameAlgorithm,
  type Extension,
  readAuthorityKeyId,
  readExtensions,
  readSignedEnvelope,
  type SignedEnvelope,
} from '../jpki/x509-fields.js';
import type { RevocationReason } from './revocation-source.js';

const OID_CRL_NUMBER = '2.5.29.20';
const OID_CRL_REASON = '2.5.29.21';
const OID_AUTHORITY_KEY_ID = '2.5.29.35';
const ENUMERATED = 0x0a;

/** CRLReason names by their ENUMERATED value (7 is unused). */
export const REASONS: readonly (RevocationReason | undefined)[] = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  undefined,
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
];

export interface CrlEntry {
  readonly serialNumber: Uint8Array;
  readonly revokedAt: Date;
  readonly reason: RevocationReason;
}

export interface ParsedCrl extends Omit<SignedEnvelope, 'tbsElement' | 'algorithmEncoding'> {
  readonly authorityKeyId: Uint8Array | undefined;
  readonly issuer: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  /** The cRLNumber extension as a bigint, when present. */
  readonly crlNumber: bigint | undefined;
  readonly entries: readonly CrlEntry[];
}

/**
 * Why a CRL was refused. CRL_MALFORMED: not strict DER; CRL_UNTRUSTED: no configured CA key
 * verifies its signature (a bad signature, or a CA with the same DN that is not configured);
 * CRL_UNSUPPORTED: a critical extension this product does not process (delta and indirect CRLs);
 * CRL_NOT_CURRENT: thisUpdate in the future or nextUpdate (plus grace) already past at import;
 * CRL_NOT_NEWER: its cRLNumber (or thisUpdate) is behind the last one imported for its scope, or
 * another import of the scope committed meanwhile; CRL_STORE_INCONSISTENT: the stored snapshot of
 * the previous import is incomplete.
 */
export type CrlErrorCode =
  | 'CRL_MALFORMED'
  | 'CRL_UNTRUSTED'
  | 'CRL_UNSUPPORTED'
  | 'CRL_NOT_CURRENT'
  | 'CRL_NOT_NEWER'
  | 'CRL_STORE_INCONSISTENT';

/** Raised when a CRL cannot be read or is not signed by a trusted CA. */
export class CrlError extends Error {
  override name = 'CrlError';
  constructor(
    readonly code: CrlErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Parses a DER CRL. Throws CrlError (CRL_MALFORMED). */
export function parseCrl(der: Uint8Array): ParsedCrl {
  try {
    return readCrl(der);
  } catch (error) {
    if (error instanceof DerError)
      throw new CrlError('CRL_MALFORMED', `CRL could not be read: ${error.message}`);
    throw error;
  }
}

/** The anchor that signed `crl`, chosen by signature. Throws CrlError (CRL_UNTRUSTED). */
export function crlSigner(crl: ParsedCrl, anchors: TrustAnchors): TrustAnchor {
  const signer = anchors.findSigner(crl);
  if (!signer) throw new CrlError('CRL_UNTRUSTED', 'CRL is not signed by any configured CA');
  return signer;
}

function readCrl(der: Uint8Array): ParsedCrl {
  const envelope = readSignedEnvelope(der);
  const { tbsElement, tbs, signatureAlgorithm, signatureValue } = envelope;
  const fields = childrenOf(der, tbsElement);
  let index = 0;
  if (fields[0]?.tag === Tag.INTEGER) index++;
  const inner = fields[index++];
  const issuer = fields[index++];
  const thisUpdate = fields[index++];
  if (!inner || !issuer || !thisUpdate || issuer.tag !== Tag.SEQUENCE) throw new DerError('bad tbsCertList');
  checkSameAlgorithm(der, inner, envelope);

  let nextUpdate: Date | undefined;
  let entries: CrlEntry[] = [];
  let extensions = new Map<string, Extension>();
  for (const field of fields.slice(index)) {
    if (field.tag === Tag.UTC_TIME || field.tag === Tag.GENERALIZED_TIME) {
      nextUpdate = decodeTime(field.tag, contentOf(der, field));
    } else if (field.tag === Tag.SEQUENCE) {
      entries = childrenOf(der, field).map((entry) => readEntry(der, entry));
    } else {
      extensions = readExtensions(der, field, 0);
    }
  }
  const crlNumber = extensions.get(OID_CRL_NUMBER)?.value;
  return {
    tbs,
    signatureAlgorithm,
    signatureValue,
    authorityKeyId: readAuthorityKeyId(extensions.get(OID_AUTHORITY_KEY_ID)),
    issuer: encodingOf(der, issuer),
    thisUpdate: decodeTime(thisUpdate.tag, contentOf(der, thisUpdate)),
    nextUpdate,
    crlNumber: crlNumber ? integerToBigInt(crlNumber) : undefined,
    entries,
  };
}

function readEntry(der: Uint8Array, entry: DerElement): CrlEntry {
  const [serial, date, extensionList] = childrenOf(der, entry);
  if (!serial || serial.tag !== Tag.INTEGER || !date) throw new DerError('bad CRL entry');
  const reasonCode = extensionList
    ? readExtensions(der, extensionList).get(OID_CRL_REASON)?.value
    : undefined;
  const code = reasonCode ? contentOf(reasonCode, readWhole(reasonCode, ENUMERATED)) : undefined;
  return {
    serialNumber: checkInteger(contentOf(der, serial)),
    revokedAt: decodeTime(date.tag, contentOf(der, date)),
    reason: (code?.length === 1 ? REASONS[code[0] as number] : undefined) ?? 'unspecified',
  };
}

/** The value of an encoded INTEGER (e.g. a cRLNumber extension value) as a bigint. */
export function integerToBigInt(encoded: Uint8Array): bigint {
  const value = checkInteger(contentOf(encoded, readWhole(encoded, Tag.INTEGER)));
  return BigInt(`0x${Buffer.from(value).toString('hex')}`);
}

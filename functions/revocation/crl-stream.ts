/**
 * Reads a DER CRL from a stream with bounded memory: the revokedCertificates entries are handed
 * to a sink one by one while the tbsCertList is hashed as it passes, and the signature (which
 * follows the tbsCertList) is checked against the trust anchors at the end. A JPKI CRL can list a
 * million certificates (~37 MB); only the current chunk and a partial entry are ever held here.
 * Nothing read may be acted on before the returned promise resolves: that is when the signature
 * has been verified.
 */
import { createHash, type Hash } from 'node:crypto';
import {
  checkInteger,
  checkIntegerAt,
  contentOf,
  contextTag,
  type DerElement,
  DerError,
  decodeBoolean,
  decodeTimeAt,
  encodingOf,
  readElement,
  readHeader,
  readWhole,
  Tag,
} from '../../protocol/der.js';
import { encodeOid } from '../../protocol/der-writer.js';
import { ALLOWED_SIGNATURE_ALGORITHMS, Ext } from '../../protocol/oids.js';
import type { TrustAnchor, TrustAnchors } from '../jpki/trust-anchors.js';
import { readAlgorithmOid, readAuthorityKeyId, readExtensions } from '../jpki/x509-fields.js';
import { CrlError } from './crl.js';
import { distributionPointId } from './crl-scope.js';

/** The CRL fields known before its entries. */
export interface CrlHeader {
  /** The encoded issuer Name (a copy). */
  readonly issuer: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  /** Length of the revokedCertificates list: at least 20 bytes per entry, so a bound on the count. */
  readonly revokedListBytes: number;
}

/**
 * Receives one entry: its serial number is the INTEGER content `bytes[serialStart, serialEnd)`
 * (valid only during the call), revokedAtMs the revocationDate, reasonCode the CRLReason value
 * (0, unspecified, when absent).
 */
export type CrlEntrySink = (
  bytes: Uint8Array,
  serialStart: number,
  serialEnd: number,
  revokedAtMs: number,
  reasonCode: number,
) => void;

/** A CRL that has been read to the end and whose signature verified. */
export interface StreamedCrl extends Omit<CrlHeader, 'revokedListBytes'> {
  readonly signer: TrustAnchor;
  readonly crlNumber: bigint | undefined;
  /** distributionPointId of its issuingDistributionPoint; undefined for a CRL of the whole CA. */
  readonly partition: string | undefined;
  readonly entryCount: number;
}

/** The content of the reasonCode OID (55 1d 15), compared byte by byte in the entry loop. */
const REASON_OID = encodeOid(Ext.crlReason).subarray(2);
const REASON_OID_0 = REASON_OID[0] as number;
const REASON_OID_1 = REASON_OID[1] as number;
const REASON_OID_2 = REASON_OID[2] as number;
/** The longest TLV header DER allows here: tag, 0x84, four length bytes. */
const MAX_HEADER = 6;

/**
 * Reads the CRL in `chunks`, calling `onHeader` once the issuer and times are known and the sink
 * it returns for every entry, then verifies the signature by any anchor (CA generations share one
 * DN: chosen by signature). Throws CrlError: CRL_MALFORMED, CRL_UNTRUSTED, CRL_UNSUPPORTED.
 */
export async function readCrlStream(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  anchors: TrustAnchors,
  onHeader: (header: CrlHeader) => CrlEntrySink,
): Promise<StreamedCrl> {
  try {
    const iterator =
      Symbol.asyncIterator in chunks
        ? chunks[Symbol.asyncIterator]()
        : toAsync(chunks)[Symbol.asyncIterator]();
    return await readCrl(new Window(iterator), anchors, onHeader);
  } catch (error) {
    if (error instanceof DerError) {
      throw new CrlError('CRL_MALFORMED', `CRL could not be read: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/**
 * A sliding view over the stream: `bytes[pos]` is the next unread byte, at absolute offset
 * base + pos. Chunks are copied into one reused buffer (grown only for a chunk larger than it),
 * so reading a large CRL makes no garbage and the source may reuse its chunk buffers. Views
 * into `bytes` are valid only until the next await: copy what must outlive it.
 */
class Window {
  bytes: Buffer = Buffer.alloc(0);
  pos = 0;
  base = 0;
  #buffer: Buffer = Buffer.alloc(0);
  readonly #iterator: AsyncIterator<Uint8Array>;
  #hash: Hash | undefined;
  #hashedTo = 0;
  #hashEnd = 0;

  constructor(iterator: AsyncIterator<Uint8Array>) {
    this.#iterator = iterator;
  }

  get offset(): number {
    return this.base + this.pos;
  }

  /** Makes at least `n` unread bytes available. */
  async fill(n: number): Promise<void> {
    while (this.bytes.length - this.pos < n) {
      if (!(await this.more())) throw new DerError('CRL is truncated');
    }
  }

  /** Appends the next chunk, dropping read bytes (hashed first); false at the end of the stream. */
  async more(): Promise<boolean> {
    const next = await this.#iterator.next();
    if (next.done) return false;
    const keep = this.#hash ? this.pos : 0;
    this.#hashUpTo(this.base + keep);
    const kept = this.bytes.length - keep;
    const needed = kept + next.value.length;
    if (needed > this.#buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, 2 * this.#buffer.length));
      this.bytes.copy(grown, 0, keep);
      this.#buffer = grown;
    } else {
      this.bytes.copy(this.#buffer, 0, keep);
    }
    this.#buffer.set(next.value, kept);
    this.bytes = this.#buffer.subarray(0, needed);
    this.base += keep;
    this.pos -= keep;
    return true;
  }

  /** Reads the complete TLV at the current position and moves past it. */
  async element(): Promise<DerElement> {
    await this.fill(2);
    const header = await this.header();
    await this.fill(header.headerLength + header.length);
    const element = readElement(this.bytes, this.pos);
    this.pos = element.end;
    return element;
  }

  /** The header of the TLV at the current position (not moved past). */
  async header(): Promise<{ tag: number; headerLength: number; length: number }> {
    await this.fill(2);
    const first = this.bytes[this.pos + 1] as number;
    if (first >= 0x80) await this.fill(Math.min(MAX_HEADER, 2 + (first & 0x7f)));
    return readHeader(this.bytes, this.pos);
  }

  /** Starts hashing at absolute offset `from` (still in the window) up to `end`. */
  startHash(hash: Hash, from: number, end: number): void {
    this.#hash = hash;
    this.#hashedTo = from;
    this.#hashEnd = end;
  }

  /** The digest of the hashed range, once the window has reached its end. */
  digest(): Buffer {
    this.#hashUpTo(this.#hashEnd);
    if (!this.#hash || this.#hashedTo !== this.#hashEnd) throw new DerError('signed part not read');
    return this.#hash.digest();
  }

  /** True when the stream has no bytes beyond those in the window. */
  async atEnd(): Promise<boolean> {
    return this.pos === this.bytes.length && !(await this.more());
  }

  #hashUpTo(absolute: number): void {
    const to = Math.min(absolute, this.#hashEnd);
    if (!this.#hash || to <= this.#hashedTo) return;
    this.#hash.update(this.bytes.subarray(this.#hashedTo - this.base, to - this.base));
    this.#hashedTo = to;
  }
}

async function readCrl(
  window: Window,
  anchors: TrustAnchors,
  onHeader: (header: CrlHeader) => CrlEntrySink,
): Promise<StreamedCrl> {
  const outer = await window.header();
  if (outer.tag !== Tag.SEQUENCE) throw new DerError('not a CertificateList');
  window.pos += outer.headerLength;
  const outerEnd = window.offset + outer.length;
  const tbsStart = window.offset;
  const tbs = await window.header();
  if (tbs.tag !== Tag.SEQUENCE) throw new DerError('bad tbsCertList');
  window.pos += tbs.headerLength;
  const tbsEnd = window.offset + tbs.length;
  if (tbsEnd > outerEnd) throw new DerError('tbsCertList runs past the CRL');

  let field = await window.element();
  if (field.tag === Tag.INTEGER) field = await window.element();
  const innerAlgorithm = Buffer.from(encodingOf(window.bytes, field));
  const algorithm = readAlgorithmOid(window.bytes, field);
  const hashName = ALLOWED_SIGNATURE_ALGORITHMS.get(algorithm);
  if (!hashName) throw new CrlError('CRL_UNTRUSTED', `CRL signature algorithm ${algorithm} is not accepted`);
  window.startHash(createHash(hashName), tbsStart, tbsEnd);

  const issuerElement = await window.element();
  if (issuerElement.tag !== Tag.SEQUENCE) throw new DerError('bad issuer');
  const issuer = Uint8Array.from(encodingOf(window.bytes, issuerElement));
  const thisUpdateElement = await window.element();
  const thisUpdate = new Date(
    decodeTimeAt(thisUpdateElement.tag, window.bytes, thisUpdateElement.valueStart, thisUpdateElement.end),
  );
  let nextUpdate: Date | undefined;
  let next = window.offset < tbsEnd ? await window.header() : undefined;
  if (next && (next.tag === Tag.UTC_TIME || next.tag === Tag.GENERALIZED_TIME)) {
    const element = await window.element();
    nextUpdate = new Date(decodeTimeAt(element.tag, window.bytes, element.valueStart, element.end));
    next = window.offset < tbsEnd ? await window.header() : undefined;
  }
  const listed = next?.tag === Tag.SEQUENCE ? next : undefined;
  const sink = onHeader({ issuer, thisUpdate, nextUpdate, revokedListBytes: listed?.length ?? 0 });
  let entryCount = 0;
  if (listed) {
    window.pos += listed.headerLength;
    const listEnd = window.offset + listed.length;
    if (listEnd > tbsEnd) throw new DerError('revokedCertificates runs past tbsCertList');
    entryCount = await readEntries(window, listEnd, sink);
    next = window.offset < tbsEnd ? await window.header() : undefined;
  }
  let extensions: ReturnType<typeof readExtensions> = new Map();
  if (next) {
    const element = await window.element();
    const copy = Uint8Array.from(encodingOf(window.bytes, element));
    extensions = readExtensions(copy, readElement(copy, 0), 0);
  }
  if (window.offset !== tbsEnd) throw new DerError('unexpected field in tbsCertList');

  const outerAlgorithm = await window.element();
  if (!innerAlgorithm.equals(encodingOf(window.bytes, outerAlgorithm))) {
    throw new DerError('inner and outer signature algorithms differ');
  }
  const signatureElement = await window.element();
  if (signatureElement.tag !== Tag.BIT_STRING) throw new DerError('bad signatureValue');
  const signature = Uint8Array.from(contentOf(window.bytes, signatureElement));
  if (signature[0] !== 0) throw new DerError('BIT STRING with unused bits');
  if (window.offset !== outerEnd || !(await window.atEnd()))
    throw new DerError('trailing bytes after the CRL');

  const partition = readScope(extensions);
  const crlNumber = extensions.get(Ext.crlNumber)?.value;
  const signer = anchors.findDigestSigner({
    hash: hashName,
    digest: window.digest(),
    signatureValue: signature.subarray(1),
    authorityKeyId: readAuthorityKeyId(extensions.get(Ext.authorityKeyIdentifier)),
  });
  if (!signer) throw new CrlError('CRL_UNTRUSTED', 'CRL is not signed by any configured CA');
  return {
    issuer,
    thisUpdate,
    nextUpdate,
    signer,
    crlNumber: crlNumber ? integerToBigInt(crlNumber) : undefined,
    partition,
    entryCount,
  };
}

/** The hot loop: every complete entry in the window, then the next chunk, until `listEnd`. */
async function readEntries(window: Window, listEnd: number, sink: CrlEntrySink): Promise<number> {
  let count = 0;
  for (;;) {
    const bytes = window.bytes;
    const listInWindow = listEnd - window.base;
    const stop = Math.min(bytes.length, listInWindow);
    const more = stop < listInWindow;
    let pos = window.pos;
    while (pos < stop) {
      if (more && stop - pos < MAX_HEADER) break;
      const { tag, headerLength, length } = readHeader(bytes, pos, stop);
      const end = pos + headerLength + length;
      if (end > stop) {
        if (more) break;
        throw new DerError('CRL entry runs past revokedCertificates');
      }
      if (tag !== Tag.SEQUENCE) throw new DerError('bad CRL entry');
      readEntry(bytes, pos + headerLength, end, sink);
      pos = end;
      count++;
    }
    window.pos = pos;
    if (!more) return count;
    if (!(await window.more())) throw new DerError('CRL is truncated');
  }
}

function readEntry(bytes: Uint8Array, start: number, end: number, sink: CrlEntrySink): void {
  const serial = readElement(bytes, start, end);
  if (serial.tag !== Tag.INTEGER) throw new DerError('bad CRL entry serial');
  checkIntegerAt(bytes, serial.valueStart, serial.end);
  const date = readElement(bytes, serial.end, end);
  const revokedAtMs = decodeTimeAt(date.tag, bytes, date.valueStart, date.end);
  let reasonCode = 0;
  if (date.end < end) {
    const list = readElement(bytes, date.end, end);
    if (list.tag !== Tag.SEQUENCE || list.end !== end) throw new DerError('bad CRL entry extensions');
    for (let at = list.valueStart; at < end; ) {
      const extension = readElement(bytes, at, end);
      const oid = readElement(bytes, extension.valueStart, extension.end);
      let value = readElement(bytes, oid.end, extension.end);
      let critical = false;
      if (value.tag === Tag.BOOLEAN) {
        critical = decodeBoolean(contentOf(bytes, value));
        value = readElement(bytes, value.end, extension.end);
      }
      if (oid.tag !== Tag.OID || value.tag !== Tag.OCTET_STRING || value.end !== extension.end) {
        throw new DerError('bad CRL entry extension');
      }
      if (
        oid.end - oid.valueStart === 3 &&
        bytes[oid.valueStart] === REASON_OID_0 &&
        bytes[oid.valueStart + 1] === REASON_OID_1 &&
        bytes[oid.valueStart + 2] === REASON_OID_2
      ) {
        if (
          value.end - value.valueStart !== 3 ||
          bytes[value.valueStart] !== Tag.ENUMERATED ||
          bytes[value.valueStart + 1] !== 1
        ) {
          throw new DerError('bad reasonCode');
        }
        reasonCode = bytes[value.valueStart + 2] as number;
      } else if (critical) {
        throw new CrlError(
          'CRL_UNSUPPORTED',
          'CRL entry has a critical extension this service does not process',
        );
      }
      at = extension.end;
    }
  }
  sink(bytes, serial.valueStart, serial.end, revokedAtMs, reasonCode);
}

/** The partition named by issuingDistributionPoint; refuses CRLs that are not complete for their scope. */
function readScope(extensions: ReturnType<typeof readExtensions>): string | undefined {
  for (const [oid, extension] of extensions) {
    if (extension.critical && oid !== Ext.issuingDistributionPoint) {
      throw new CrlError('CRL_UNSUPPORTED', `critical CRL extension ${oid} is not processed (delta CRL?)`);
    }
  }
  const idp = extensions.get(Ext.issuingDistributionPoint)?.value;
  if (!idp) return undefined;
  const sequence = readElement(idp, 0);
  if (sequence.tag !== Tag.SEQUENCE || sequence.end !== idp.length)
    throw new DerError('bad issuingDistributionPoint');
  let partition: string | undefined;
  for (let at = sequence.valueStart; at < sequence.end; ) {
    const part = readElement(idp, at, sequence.end);
    if (part.tag === contextTag(0, true)) partition = distributionPointId(contentOf(idp, part));
    else if (part.tag === contextTag(3, false) || part.tag === contextTag(4, false)) {
      throw new CrlError('CRL_UNSUPPORTED', 'indirect CRLs and CRLs for some reasons only are not supported');
    }
    at = part.end;
  }
  return partition;
}

/** The value of an encoded INTEGER (the cRLNumber extension value) as a bigint. */
function integerToBigInt(encoded: Uint8Array): bigint {
  const value = checkInteger(contentOf(encoded, readWhole(encoded, Tag.INTEGER)));
  return BigInt(`0x${Buffer.from(value).toString('hex')}`);
}

async function* toAsync(chunks: Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

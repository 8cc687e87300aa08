/**
 * A strict, allocation-free DER reader: the few primitives that the hot paths need (the login
 * verifier walks a certificate in microseconds; the reader-helper sizes a certificate from its
 * first bytes; CRL import streams a million entries through it). Anything that is not minimal DER
 * with definite lengths and low tag numbers is rejected, which is all X.509 uses. It only reads:
 * der-writer.ts writes the few structures built by hand (test and benchmark CRLs), pkijs the OCSP
 * messages (functions/revocation/ocsp.ts, off the hot path: they wait on a network round trip), and
 * @peculiar/x509 the development PKI and `cert inspect`; see README "Why a small DER reader".
 */

/** Raised for any input that is not well-formed DER. */
export class DerError extends Error {
  readonly code = 'DER_MALFORMED';
  override name = 'DerError';
}

/** Universal tags used in X.509, CRLs and OCSP: the one place for ASN.1 tags (context tags: contextTag()). */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** The tag of context-specific `[n]`, constructed when `constructed` is true. */
export function contextTag(n: number, constructed: boolean): number {
  return 0x80 | (constructed ? 0x20 : 0) | n;
}

/** One TLV: its tag, and offsets of its header start, value start and end (exclusive). */
export interface DerElement {
  readonly tag: number;
  readonly start: number;
  readonly valueStart: number;
  readonly end: number;
}

/** The header of the TLV at `offset`: tag, header length and value length (the value need not be present). */
export function readHeader(
  bytes: Uint8Array,
  offset: number,
  limit: number = bytes.length,
): { tag: number; headerLength: number; length: number } {
  if (offset + 2 > limit) throw new DerError('truncated header');
  const tag = bytes[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not used in X.509');
  const first = bytes[offset + 1] as number;
  if (first < 0x80) return { tag, headerLength: 2, length: first };
  const count = first & 0x7f;
  if (count === 0) throw new DerError('indefinite length is not DER');
  if (count > 4) throw new DerError('length too large');
  if (offset + 2 + count > limit) throw new DerError('truncated length');
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + (bytes[offset + 2 + i] as number);
  if (bytes[offset + 2] === 0 || length < 0x80) throw new DerError('non-minimal length');
  return { tag, headerLength: 2 + count, length };
}

/** Reads the complete TLV at `offset`, which must end at or before `limit`. */
export function readElement(bytes: Uint8Array, offset: number, limit: number = bytes.length): DerElement {
  const { tag, headerLength, length } = readHeader(bytes, offset, limit);
  const valueStart = offset + headerLength;
  const end = valueStart + length;
  if (end > limit) throw new DerError('value runs past its container');
  return { tag, start: offset, valueStart, end };
}

/** Reads the TLV at `offset` and checks its tag. */
export function expectElement(bytes: Uint8Array, offset: number, tag: number, limit?: number): DerElement {
  const element = readElement(bytes, offset, limit);
  if (element.tag !== tag) {
    throw new DerError(`expected tag 0x${tag.toString(16)}, found 0x${element.tag.toString(16)}`);
  }
  return element;
}

/** The elements directly inside a constructed element, in order; they must fill it exactly. */
export function childrenOf(bytes: Uint8Array, parent: DerElement): DerElement[] {
  if ((parent.tag & 0x20) === 0) throw new DerError('primitive element has no children');
  const list: DerElement[] = [];
  let offset = parent.valueStart;
  while (offset < parent.end) {
    const child = readElement(bytes, offset, parent.end);
    list.push(child);
    offset = child.end;
  }
  return list;
}

/** Reads a single top-level element that must span the whole input. */
export function readWhole(bytes: Uint8Array, tag: number): DerElement {
  const element = expectElement(bytes, 0, tag);
  if (element.end !== bytes.length) throw new DerError('trailing bytes after the element');
  return element;
}

/** The value bytes of an element (a view, not a copy). */
export function contentOf(bytes: Uint8Array, element: DerElement): Uint8Array {
  return bytes.subarray(element.valueStart, element.end);
}

/** The whole encoding of an element, header included (a view, not a copy). */
export function encodingOf(bytes: Uint8Array, element: DerElement): Uint8Array {
  return bytes.subarray(element.start, element.end);
}

/** Decodes an OBJECT IDENTIFIER value to dotted form. */
export function decodeOid(value: Uint8Array): string {
  if (value.length === 0) throw new DerError('empty OID');
  if (((value[value.length - 1] as number) & 0x80) !== 0) throw new DerError('truncated OID arc');
  let text = '';
  let arc = 0;
  let arcStart = true;
  for (let i = 0; i < value.length; i++) {
    const byte = value[i] as number;
    if (arcStart && byte === 0x80) throw new DerError('non-minimal OID arc');
    arc = arc * 128 + (byte & 0x7f);
    if (arc > Number.MAX_SAFE_INTEGER / 128) throw new DerError('OID arc too large');
    arcStart = (byte & 0x80) === 0;
    if (arcStart) {
      if (text === '') {
        const top = arc < 40 ? 0 : arc < 80 ? 1 : 2;
        text = `${top}.${arc - top * 40}`;
      } else {
        text += `.${arc}`;
      }
      arc = 0;
    }
  }
  return text;
}

/** Decodes a BOOLEAN value (DER: 0x00 or 0xFF). */
export function decodeBoolean(value: Uint8Array): boolean {
  if (value.length !== 1 || (value[0] !== 0 && value[0] !== 0xff)) throw new DerError('bad BOOLEAN');
  return value[0] === 0xff;
}

/** Checks an INTEGER value is minimally encoded and returns it unchanged. */
export function checkInteger(value: Uint8Array): Uint8Array {
  checkIntegerAt(value, 0, value.length);
  return value;
}

/** Checks the INTEGER value in `bytes[start, end)` is minimally encoded (no view is made: hot loops). */
export function checkIntegerAt(bytes: Uint8Array, start: number, end: number): void {
  if (end <= start) throw new DerError('empty INTEGER');
  if (end - start > 1) {
    const a = bytes[start] as number;
    const b = bytes[start + 1] as number;
    if ((a === 0 && (b & 0x80) === 0) || (a === 0xff && (b & 0x80) !== 0)) {
      throw new DerError('non-minimal INTEGER');
    }
  }
}

/** The content of a BIT STRING whose length is a whole number of bytes. */
export function bitStringBytes(value: Uint8Array): Uint8Array {
  if (value.length === 0 || value[0] !== 0) throw new DerError('BIT STRING with unused bits');
  return value.subarray(1);
}

/** Decodes a UTCTime or GeneralizedTime in the `...Z` seconds form RFC 5280 requires. */
export function decodeTime(tag: number, value: Uint8Array): Date {
  return new Date(decodeTimeAt(tag, value, 0, value.length));
}

/**
 * decodeTime for the value in `bytes[start, end)`, as epoch milliseconds: no view and no Date are
 * made, for loops over a million CRL entries.
 */
export function decodeTimeAt(tag: number, bytes: Uint8Array, start: number, end: number): number {
  const yearDigits = tag === Tag.UTC_TIME ? 2 : tag === Tag.GENERALIZED_TIME ? 4 : 0;
  if (yearDigits === 0 || end - start !== yearDigits + 11 || bytes[end - 1] !== 0x5a) {
    throw new DerError('bad time');
  }
  let year = 0;
  for (let i = 0; i < yearDigits; i++) year = year * 10 + digitAt(bytes, start + i);
  if (yearDigits === 2) year += year >= 50 ? 1900 : 2000;
  const at = start + yearDigits;
  const month = twoDigits(bytes, at);
  const day = twoDigits(bytes, at + 2);
  const hour = twoDigits(bytes, at + 4);
  const minute = twoDigits(bytes, at + 6);
  const second = twoDigits(bytes, at + 8);
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    throw new DerError('time out of range');
  }
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function twoDigits(bytes: Uint8Array, index: number): number {
  return digitAt(bytes, index) * 10 + digitAt(bytes, index + 1);
}

function digitAt(bytes: Uint8Array, index: number): number {
  const digit = (bytes[index] as number) - 0x30;
  if (digit < 0 || digit > 9) throw new DerError('bad time');
  return digit;
}

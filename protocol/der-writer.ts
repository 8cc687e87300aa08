/**
 * A minimal DER encoder: the few constructions this product writes itself (in benchmarks and
 * tests, CRLs too large for a library; the encoded reasonCode OID the CRL reader compares in
 * place). Callers build values bottom-up; every function returns complete, minimal DER.
 */
import { DerError, Tag } from './der.js';

/** The DER header of a TLV with this tag and value length. */
export function encodeHeader(tag: number, length: number): Buffer {
  if (length < 0x80) return Buffer.from([tag, length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  if (bytes.length > 4) throw new DerError('length too large');
  return Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
}

/** A complete TLV whose value is the concatenation of `parts`. */
export function encodeTlv(tag: number, ...parts: readonly Uint8Array[]): Buffer {
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  return Buffer.concat([encodeHeader(tag, length), ...parts]);
}

/** A SEQUENCE of the given encoded elements. */
export function encodeSequence(...elements: readonly Uint8Array[]): Buffer {
  return encodeTlv(Tag.SEQUENCE, ...elements);
}

/** A non-negative INTEGER from its big-endian magnitude (leading zeros removed, sign byte added). */
export function encodeUnsignedInteger(magnitude: Uint8Array): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const bytes = magnitude.subarray(start);
  const value = bytes.length === 0 || ((bytes[0] as number) & 0x80) !== 0 ? [Buffer.of(0), bytes] : [bytes];
  return encodeTlv(Tag.INTEGER, ...value);
}

/** An OBJECT IDENTIFIER from its dotted form. */
export function encodeOid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const [first, second, ...rest] = arcs;
  if (
    first === undefined ||
    second === undefined ||
    arcs.some((arc) => !Number.isSafeInteger(arc) || arc < 0)
  ) {
    throw new DerError(`bad OID ${dotted}`);
  }
  const bytes: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    const base128 = [arc & 0x7f];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) {
      base128.unshift(0x80 | (rest & 0x7f));
    }
    bytes.push(...base128);
  }
  return encodeTlv(Tag.OID, Buffer.from(bytes));
}

/** An AlgorithmIdentifier with NULL parameters (the RSA and SHA algorithms' form). */
export function encodeAlgorithm(oid: string): Buffer {
  return encodeSequence(encodeOid(oid), Buffer.of(Tag.NULL, 0));
}

/** An OCTET STRING. */
export function encodeOctetString(value: Uint8Array): Buffer {
  return encodeTlv(Tag.OCTET_STRING, value);
}

/** A BIT STRING of whole bytes. */
export function encodeBitString(value: Uint8Array): Buffer {
  return encodeTlv(Tag.BIT_STRING, Buffer.of(0), value);
}

/** A Time as RFC 5280 wants it: UTCTime through 2049, GeneralizedTime from 2050, seconds, `Z`. */
export function encodeTime(time: Date): Buffer {
  const iso = time.toISOString();
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const year = time.getUTCFullYear();
  return year < 2050
    ? encodeTlv(Tag.UTC_TIME, Buffer.from(digits.slice(2), 'latin1'))
    : encodeTlv(Tag.GENERALIZED_TIME, Buffer.from(digits, 'latin1'));
}

import { describe, expect, it } from '@jest/globals';
import {
  checkInteger,
  childrenOf,
  DerError,
  decodeOid,
  decodeTime,
  readElement,
  readHeader,
  readWhole,
  Tag,
} from '../../protocol/der.js';

const bytes = (hex: string) => Buffer.from(hex.replace(/\s+/g, ''), 'hex');

describe('readHeader', () => {
  it('reads short and long definite lengths', () => {
    expect(readHeader(bytes('30 05'), 0)).toEqual({ tag: 0x30, headerLength: 2, length: 5 });
    expect(readHeader(bytes('30 82 05 dc'), 0)).toEqual({ tag: 0x30, headerLength: 4, length: 1500 });
  });

  it.each([
    ['indefinite length', '30 80'],
    ['non-minimal long form', '30 81 05'],
    ['leading zero length byte', '30 82 00 90'],
    ['five length bytes', '30 85 01 00 00 00 00'],
    ['high tag number', '1f 01 00'],
    ['truncated header', '30'],
  ])('refuses %s', (_name, hex) => {
    expect(() => readHeader(bytes(hex), 0)).toThrow(DerError);
  });
});

describe('elements', () => {
  it('lists children that fill their parent exactly', () => {
    const der = bytes('30 06 02 01 01 02 01 02');
    const children = childrenOf(der, readWhole(der, Tag.SEQUENCE));
    expect(children.map((child) => child.tag)).toEqual([Tag.INTEGER, Tag.INTEGER]);
  });

  it('refuses values running past their container and trailing bytes', () => {
    expect(() => readElement(bytes('30 06 02 01 01'), 0)).toThrow(DerError);
    expect(() => readWhole(bytes('30 00 00'), Tag.SEQUENCE)).toThrow(DerError);
    expect(() =>
      childrenOf(bytes('30 03 02 05 01'), readWhole(bytes('30 03 02 05 01'), Tag.SEQUENCE)),
    ).toThrow(DerError);
  });
});

describe('primitive values', () => {
  it('decodes OIDs', () => {
    expect(decodeOid(bytes('2a 83 08 8c 9b 55 08 05 01 03 1e'))).toBe('1.2.392.200149.8.5.1.3.30');
    expect(decodeOid(bytes('55 1d 0f'))).toBe('2.5.29.15');
    expect(() => decodeOid(bytes('2a 83'))).toThrow(DerError);
    expect(() => decodeOid(bytes('2a 80 01'))).toThrow(DerError);
  });

  it('checks INTEGER minimality', () => {
    expect(() => checkInteger(bytes('00 7f'))).toThrow(DerError);
    expect(() => checkInteger(bytes('ff 80'))).toThrow(DerError);
    expect(checkInteger(bytes('00 80'))).toEqual(bytes('00 80'));
  });

  it('decodes UTCTime and GeneralizedTime and refuses impossible dates', () => {
    expect(decodeTime(Tag.UTC_TIME, Buffer.from('301231145959Z')).toISOString()).toBe(
      '2030-12-31T14:59:59.000Z',
    );
    expect(decodeTime(Tag.UTC_TIME, Buffer.from('991231000000Z')).getUTCFullYear()).toBe(1999);
    expect(decodeTime(Tag.GENERALIZED_TIME, Buffer.from('20501231145959Z')).getUTCFullYear()).toBe(2050);
    expect(() => decodeTime(Tag.UTC_TIME, Buffer.from('300230000000Z'))).toThrow(DerError);
    expect(() => decodeTime(Tag.UTC_TIME, Buffer.from('3012311459Z'))).toThrow(DerError);
  });
});

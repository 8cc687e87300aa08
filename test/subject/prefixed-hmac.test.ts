/**
 * PrefixedHmac, the plain-JS HMAC-SHA-256 of CRL ingest, against node:crypto's createHmac: random
 * keys (shorter and longer than a block), prefixes and tails of every length around the block
 * and padding boundaries, and tails read from inside a larger buffer.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { PrefixedHmac } from '../../functions/subject/prefixed-hmac.js';

const bytes = (maxLength: number) => fc.uint8Array({ minLength: 0, maxLength });

describe('PrefixedHmac', () => {
  it('equals HMAC-SHA-256(key, prefix ‖ tail) of node:crypto', () => {
    fc.assert(
      fc.property(
        bytes(150),
        bytes(200),
        bytes(200),
        fc.nat(8),
        fc.nat(8),
        (key, prefix, tail, before, after) => {
          const framed = new Uint8Array(before + tail.length + after).fill(0xa5);
          framed.set(tail, before);
          const out = new Uint8Array(40).fill(0x5a);
          new PrefixedHmac(key, prefix).digestInto(framed, before, before + tail.length, out, 4);
          const expected = createHmac('sha256', key).update(prefix).update(tail).digest();
          expect(Buffer.from(out.subarray(4, 36))).toEqual(expected);
          expect(out.subarray(0, 4).every((byte) => byte === 0x5a)).toBe(true);
          expect(out.subarray(36).every((byte) => byte === 0x5a)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('equals node:crypto at every prefix and tail length up to 160 bytes (all padding boundaries)', () => {
    const key = Buffer.from(
      'a long key, longer than one SHA-256 block of sixty-four bytes, so it is hashed first',
    );
    const source = Buffer.from(Array.from({ length: 160 }, (_, i) => (i * 37 + 11) & 0xff));
    const out = new Uint8Array(32);
    let mismatches = 0;
    for (let prefixLength = 0; prefixLength <= 160; prefixLength++) {
      const prefix = source.subarray(0, prefixLength);
      const hmac = new PrefixedHmac(key, prefix);
      for (let tailLength = 0; tailLength <= 160; tailLength++) {
        hmac.digestInto(source, 0, tailLength, out, 0);
        const expected = createHmac('sha256', key)
          .update(prefix)
          .update(source.subarray(0, tailLength))
          .digest();
        if (!expected.equals(out)) mismatches++;
      }
    }
    expect(mismatches).toBe(0);
  });

  it('gives the same digest when reused for many tails', () => {
    fc.assert(
      fc.property(
        bytes(80),
        bytes(130),
        fc.array(bytes(130), { minLength: 2, maxLength: 8 }),
        (key, prefix, tails) => {
          const hmac = new PrefixedHmac(key, prefix);
          const out = new Uint8Array(32);
          for (const tail of tails) {
            hmac.digestInto(tail, 0, tail.length, out, 0);
            expect(Buffer.from(out)).toEqual(createHmac('sha256', key).update(prefix).update(tail).digest());
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

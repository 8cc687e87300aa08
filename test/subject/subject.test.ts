import { createSecretKey } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { certificateKey } from '../../functions/subject/certificate-key.js';
import { SecretError } from '../../functions/subject/keyed-hash.js';
import { pairwiseSubject } from '../../functions/subject/pairwise-subject.js';

const SECRET = Buffer.alloc(32, 1);
const ISSUER = Buffer.from('3011310f300d06035504030c064a504b4931', 'hex');

describe('certificateKey', () => {
  it('is a stable keyed hash of issuer and serial that does not contain the serial', () => {
    const key = certificateKey(SECRET, ISSUER, Buffer.from('018c453e', 'hex'));
    expect(key).toBe(certificateKey(SECRET, ISSUER, Buffer.from('018c453e', 'hex')));
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key.toLowerCase()).not.toContain('018c453e');
  });

  it('treats equal serial numbers with and without a leading zero byte as one', () => {
    expect(certificateKey(SECRET, ISSUER, Buffer.from('0080', 'hex'))).toBe(
      certificateKey(SECRET, ISSUER, Buffer.from('80', 'hex')),
    );
  });

  it('differs by serial, by issuer and by secret', () => {
    const key = certificateKey(SECRET, ISSUER, Buffer.from('01', 'hex'));
    expect(certificateKey(SECRET, ISSUER, Buffer.from('02', 'hex'))).not.toBe(key);
    expect(certificateKey(SECRET, Buffer.from('3000', 'hex'), Buffer.from('01', 'hex'))).not.toBe(key);
    expect(certificateKey(Buffer.alloc(32, 2), ISSUER, Buffer.from('01', 'hex'))).not.toBe(key);
  });

  it('accepts a secret KeyObject and refuses short secrets', () => {
    expect(certificateKey(createSecretKey(SECRET), ISSUER, Buffer.from('01', 'hex'))).toBe(
      certificateKey(SECRET, ISSUER, Buffer.from('01', 'hex')),
    );
    expect(() => certificateKey(Buffer.alloc(16), ISSUER, Buffer.from('01', 'hex'))).toThrow(SecretError);
  });
});

describe('pairwiseSubject', () => {
  const account = certificateKey(SECRET, ISSUER, Buffer.from('01', 'hex'));

  it('gives each sector its own subject for one account, stable per sector', () => {
    const a = pairwiseSubject(SECRET, 'rp-a.example', account);
    const b = pairwiseSubject(SECRET, 'rp-b.example', account);
    expect(a).not.toBe(b);
    expect(pairwiseSubject(SECRET, 'rp-a.example', account)).toBe(a);
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('cannot be shifted across the field boundary', () => {
    expect(pairwiseSubject(SECRET, 'ab', 'c')).not.toBe(pairwiseSubject(SECRET, 'a', 'bc'));
  });

  it('is not the certificate key and refuses an empty sector', () => {
    expect(pairwiseSubject(SECRET, 'rp-a.example', account)).not.toBe(account);
    expect(() => pairwiseSubject(SECRET, '', account)).toThrow(TypeError);
  });
});

/**
 * Known-answer vectors of the identifiers every user's data hangs on: the keyed hash, the
 * certificate key and the pairwise `sub`. A refactoring that changed any of them would
 * silently change every stored certificate key and every `sub` an RP knows, so they are pinned here.
 * The values were computed from the code of 2026-12 and checked against an independent
 * implementation of the documented construction (Python's hmac over the same length-prefixed
 * fields). If one of these fails, the change is a migration, not a refactoring.
 */
import { describe, expect, it } from '@jest/globals';
import { certificateKey, certificateKeyHasher } from '../../functions/subject/certificate-key.js';
import { keyedHash } from '../../functions/subject/keyed-hash.js';
import { pairwiseSubject } from '../../functions/subject/pairwise-subject.js';

/** 00 01 … 1f. */
const SECRET = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
/** SEQUENCE { SET { SEQUENCE { CN, UTF8String "JPKI1" } } }. */
const ISSUER = Buffer.from('3011310f300d06035504030c064a504b4931', 'hex');

describe('keyedHash', () => {
  it('is HMAC-SHA-256 over the length-prefixed label and fields, base64url', () => {
    expect(keyedHash(SECRET, 'myna-oidc/test/v1', [])).toBe('1IH5Edf88nRdFFrq1mZHZMyAZ8eiR6vEONi6Omn6iTw');
    expect(keyedHash(SECRET, 'myna-oidc/test/v1', ['a', Buffer.of(0, 1, 2)])).toBe(
      '1AYQLZqMlwunrQclaQeXbS7goJfZF6nzTmpId_evL6A',
    );
  });

  it('answers for the secret bytes of the moment, also when they change in place after a use', () => {
    const secret = Buffer.alloc(32, 0xff);
    expect(keyedHash(secret, 'myna-oidc/test/v1', [])).not.toBe(
      '1IH5Edf88nRdFFrq1mZHZMyAZ8eiR6vEONi6Omn6iTw',
    );
    SECRET.copy(secret);
    expect(keyedHash(secret, 'myna-oidc/test/v1', [])).toBe('1IH5Edf88nRdFFrq1mZHZMyAZ8eiR6vEONi6Omn6iTw');
  });
});

describe('certificateKey', () => {
  it('of issuer + serial', () => {
    expect(certificateKey(SECRET, ISSUER, Buffer.from('018c453e', 'hex'))).toBe(
      'KGjNDQka_u5xmz9cM69L6tkDhUKZq5erlmam4oDl7M8',
    );
    expect(certificateKey(SECRET, ISSUER, Buffer.from('00ff', 'hex'))).toBe(
      'Ff2XGo1-fggjA-c4G0ucygTz25zDrhDpAca3Uni43xI',
    );
  });

  it('is the same through the CRL ingest hasher (PrefixedHmac)', () => {
    const hash = certificateKeyHasher(SECRET, ISSUER);
    const out = Buffer.alloc(32);
    const serial = Buffer.from('018c453e', 'hex');
    hash(serial, 0, serial.length, out, 0);
    expect(out.toString('base64url')).toBe('KGjNDQka_u5xmz9cM69L6tkDhUKZq5erlmam4oDl7M8');
  });
});

describe('pairwiseSubject', () => {
  it('of a sector and an account', () => {
    const account = 'KGjNDQka_u5xmz9cM69L6tkDhUKZq5erlmam4oDl7M8';
    expect(pairwiseSubject(SECRET, 'rp.example', account)).toBe(
      'cvPrj2oTiDT8hZYhYuMPxuOmfGLG3Ct1vZs7B87kTJY',
    );
    expect(pairwiseSubject(SECRET, 'shop.example.jp', account)).toBe(
      'yFHyW1T7QDQyqaUjX4XpwpQ4EijcKHtwEHgsVA--o28',
    );
  });
});

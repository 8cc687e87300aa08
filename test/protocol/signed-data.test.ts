import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import {
  ChallengeInputError,
  challengeSignedData,
  isValidNonce,
  normalizeOrigin,
  SHA256_DIGEST_INFO_PREFIX,
  sha256DigestInfo,
} from '../../protocol/signed-data.js';

const NONCE = 'a'.repeat(43);
const sha256 = (text: string) => createHash('sha256').update(text).digest();

describe('challengeSignedData', () => {
  it('is SHA-256(origin) ‖ SHA-256(nonce)', () => {
    expect(challengeSignedData('https://op.example', NONCE)).toEqual(
      Buffer.concat([sha256('https://op.example'), sha256(NONCE)]),
    );
  });

  it('binds the origin: another origin or port gives other bytes', () => {
    const base = challengeSignedData('https://op.example', NONCE);
    expect(challengeSignedData('https://op.example:8443', NONCE)).not.toEqual(base);
    expect(challengeSignedData('http://op.example', NONCE)).not.toEqual(base);
  });

  it('refuses nonces that are not base64url of 43 to 128 characters', () => {
    for (const nonce of ['a'.repeat(42), 'a'.repeat(129), `${'a'.repeat(42)}=`, `${'a'.repeat(42)}+`, '']) {
      expect(isValidNonce(nonce)).toBe(false);
      expect(() => challengeSignedData('https://op.example', nonce)).toThrow(ChallengeInputError);
    }
    expect(isValidNonce('A-_9'.repeat(32))).toBe(true);
  });
});

describe('normalizeOrigin', () => {
  it('returns the browser serialisation', () => {
    expect(normalizeOrigin('https://OP.Example')).toBe('https://op.example');
    expect(normalizeOrigin('https://op.example:443')).toBe('https://op.example');
    expect(normalizeOrigin('http://localhost:3000')).toBe('http://localhost:3000');
  });

  it.each([
    'null',
    'op.example',
    'ftp://op.example',
    'https://op.example/path',
    'https://op.example/',
    'https://user@op.example',
    'https://op.example?x=1',
  ])('refuses %s', (origin) => {
    expect(() => normalizeOrigin(origin)).toThrow(ChallengeInputError);
  });
});

describe('sha256DigestInfo', () => {
  it('is the DER DigestInfo the card pads and signs', () => {
    const info = sha256DigestInfo(Buffer.from('x'));
    expect(info.subarray(0, 19)).toEqual(Buffer.from(SHA256_DIGEST_INFO_PREFIX));
    expect(info.subarray(19)).toEqual(sha256('x'));
    expect(info.length).toBe(51);
  });
});

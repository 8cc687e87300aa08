import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import {
  ChallengeInputError,
  challengeSignedData,
  IDENTITY_SIGNED_DATA_LABEL,
  identitySignedData,
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

describe('identitySignedData', () => {
  it('is the readable document: label, normalised origin, nonce, each on its own line', () => {
    const bytes = identitySignedData('https://OP.example:443', NONCE);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(bytes).toString('utf8')).toBe(
      `myna-oidc identity verification v1\nhttps://op.example\n${NONCE}\n`,
    );
    expect(IDENTITY_SIGNED_DATA_LABEL).toBe('myna-oidc identity verification v1');
  });

  it('binds the origin and the nonce', () => {
    const base = Buffer.from(identitySignedData('https://op.example', NONCE));
    expect(Buffer.from(identitySignedData('https://op.example:8443', NONCE))).not.toEqual(base);
    expect(Buffer.from(identitySignedData('https://op.example', 'b'.repeat(43)))).not.toEqual(base);
  });

  it("is never a login's signed data (domain separation: always longer than 64 bytes)", () => {
    const shortest = identitySignedData('http://a', NONCE);
    expect(shortest.length).toBe(88);
    expect(Buffer.from(shortest)).not.toEqual(challengeSignedData('http://a', NONCE));
  });

  it('refuses what the login refuses', () => {
    expect(() => identitySignedData('https://op.example/', NONCE)).toThrow(ChallengeInputError);
    expect(() => identitySignedData('https://op.example', 'a'.repeat(42))).toThrow(ChallengeInputError);
    expect(() => identitySignedData('https://op.example', `${'a'.repeat(42)}\n`)).toThrow(
      ChallengeInputError,
    );
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

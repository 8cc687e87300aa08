/** The helper protocol's navigation-path pieces: the card-answer fragment codec and the URLs. */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  AUTHENTICATE_PATH,
  authenticateNavigationUrl,
  CARD_ANSWER_FRAGMENT,
  CARD_ANSWER_PATH,
  type CardAnswer,
  decodeCardAnswer,
  encodeCardAnswer,
  HelperErrorCode,
  MAX_CARD_ANSWER_CHARS,
  PROTOCOL_VERSION,
  PURPOSE_PARAMETER,
} from '../../protocol/helper-protocol.js';

const NONCE = 'n'.repeat(43);
const SIGNED: CardAnswer = { v: 2, nonce: NONCE, certificate: 'MIIB_-x', signature: 'c2ln' };
const IDENTITY: CardAnswer = {
  v: 2,
  nonce: NONCE,
  purpose: 'verify-identity',
  userAuthCertificate: 'MIIB_-u',
  signingCertificate: 'MIIB_-s',
  signature: 'c2ln',
};

/** The fragment of an arbitrary JSON value, encoded as the helper would. */
function fragmentOf(value: unknown): string {
  return `${CARD_ANSWER_FRAGMENT}=${Buffer.from(JSON.stringify(value)).toString('base64url')}`;
}

describe('card answer fragment', () => {
  it('round-trips a signature and every error code, with and without the leading #', () => {
    expect(PROTOCOL_VERSION).toBe(2);
    const fragment = encodeCardAnswer(SIGNED);
    expect(fragment.startsWith(`${CARD_ANSWER_FRAGMENT}=`)).toBe(true);
    expect(fragment).toMatch(/^myna-answer=[A-Za-z0-9_-]+$/);
    expect(decodeCardAnswer(fragment)).toEqual(SIGNED);
    expect(decodeCardAnswer(`#${fragment}`)).toEqual(SIGNED);
    for (const code of Object.values(HelperErrorCode)) {
      const answer: CardAnswer = { v: 2, nonce: NONCE, error: { code } };
      expect(decodeCardAnswer(`#${encodeCardAnswer(answer)}`)).toEqual(answer);
    }
    const wrongPin: CardAnswer = { v: 2, nonce: NONCE, error: { code: 'PIN_INCORRECT', triesLeft: 2 } };
    expect(decodeCardAnswer(encodeCardAnswer(wrongPin))).toEqual(wrongPin);
  });

  it('round-trips an identity verification and its errors', () => {
    expect(decodeCardAnswer(`#${encodeCardAnswer(IDENTITY)}`)).toEqual(IDENTITY);
    const wrongPassword: CardAnswer = {
      v: 2,
      nonce: NONCE,
      purpose: 'verify-identity',
      error: { code: 'PIN_INCORRECT', triesLeft: 4 },
    };
    expect(decodeCardAnswer(encodeCardAnswer(wrongPassword))).toEqual(wrongPassword);
    const blocked: CardAnswer = {
      v: 2,
      nonce: NONCE,
      purpose: 'verify-identity',
      error: { code: 'PIN_BLOCKED' },
    };
    expect(decodeCardAnswer(encodeCardAnswer(blocked))).toEqual(blocked);
  });

  it('holds an identity answer with two real-sized certificates', () => {
    // Two 2 KB certificates and a 2048-bit signature: about 8 KB of fragment.
    const der = (seed: number) => Buffer.alloc(2048, seed).toString('base64url');
    const large: CardAnswer = {
      ...IDENTITY,
      userAuthCertificate: der(1),
      signingCertificate: der(2),
      signature: Buffer.alloc(256, 3).toString('base64url'),
    };
    expect(decodeCardAnswer(encodeCardAnswer(large))).toEqual(large);
  });

  it('is the base64url of the JSON (what a server-side or other-language reader would decode)', () => {
    const value = encodeCardAnswer(SIGNED).slice(CARD_ANSWER_FRAGMENT.length + 1);
    expect(JSON.parse(Buffer.from(value, 'base64url').toString('utf8'))).toEqual(SIGNED);
  });

  it.each([
    ['empty', ''],
    ['only #', '#'],
    ['another fragment', '#state=abc'],
    ['the name without a value', '#myna-answer='],
    ['a prefix of the name', '#myna-answe=eyJ9'],
    ['padding', `#${fragmentOf(SIGNED)}==`],
    [
      'standard base64 characters',
      `#myna-answer=${Buffer.from(JSON.stringify(SIGNED)).toString('base64')}+/`,
    ],
    ['an impossible length', '#myna-answer=abcde'],
    ['percent-encoding', `#${fragmentOf(SIGNED)}%3D`],
    ['a second parameter', `#${fragmentOf(SIGNED)}&x=1`],
    ['bytes that are not UTF-8', `#myna-answer=${Buffer.from([0xff, 0xfe, 0x7b]).toString('base64url')}`],
    ['not JSON', `#myna-answer=${Buffer.from('{nonce:').toString('base64url')}`],
    ['JSON null', `#${fragmentOf(null)}`],
    ['a JSON array', `#${fragmentOf([SIGNED])}`],
    ['a JSON string', `#${fragmentOf('answer')}`],
    ['version 1', `#${fragmentOf({ ...SIGNED, v: 1 })}`],
    ['version "2"', `#${fragmentOf({ ...SIGNED, v: '2' })}`],
    ['no nonce', `#${fragmentOf({ v: 2, certificate: 'a', signature: 'b' })}`],
    ['a nonce that is not base64url', `#${fragmentOf({ ...SIGNED, nonce: 'a b' })}`],
    ['an empty certificate', `#${fragmentOf({ ...SIGNED, certificate: '' })}`],
    ['a numeric signature', `#${fragmentOf({ ...SIGNED, signature: 7 })}`],
    ['an extra member', `#${fragmentOf({ ...SIGNED, origin: 'https://evil.example' })}`],
    ['a signature and an error', `#${fragmentOf({ ...SIGNED, error: { code: 'BUSY' } })}`],
    ['a login answer with a purpose', `#${fragmentOf({ ...SIGNED, purpose: 'verify-identity' })}`],
    ['an identity answer without its purpose', `#${fragmentOf({ ...IDENTITY, purpose: undefined })}`],
    ['an identity answer of another purpose', `#${fragmentOf({ ...IDENTITY, purpose: 'sign-in' })}`],
    ['an identity answer with a certificate member', `#${fragmentOf({ ...IDENTITY, certificate: 'a' })}`],
    [
      'an identity answer without its signing certificate',
      `#${fragmentOf({ ...IDENTITY, signingCertificate: undefined })}`,
    ],
    ['an empty signing certificate', `#${fragmentOf({ ...IDENTITY, signingCertificate: '' })}`],
    [
      'a user-auth certificate that is not base64url',
      `#${fragmentOf({ ...IDENTITY, userAuthCertificate: 'a+b' })}`,
    ],
    ['an identity answer and an error', `#${fragmentOf({ ...IDENTITY, error: { code: 'BUSY' } })}`],
    [
      'an error of an unknown purpose',
      `#${fragmentOf({ v: 2, nonce: NONCE, purpose: 'sign', error: { code: 'BUSY' } })}`,
    ],
    [
      'an error whose purpose is null',
      `#${fragmentOf({ v: 2, nonce: NONCE, purpose: null, error: { code: 'BUSY' } })}`,
    ],
    ['an unknown error code', `#${fragmentOf({ v: 2, nonce: NONCE, error: { code: 'LAST_TRY' } })}`],
    ['an error that is a string', `#${fragmentOf({ v: 2, nonce: NONCE, error: 'BUSY' })}`],
    [
      'an error with a message',
      `#${fragmentOf({ v: 2, nonce: NONCE, error: { code: 'BUSY', message: '<b>' } })}`,
    ],
    [
      'negative tries',
      `#${fragmentOf({ v: 2, nonce: NONCE, error: { code: 'PIN_INCORRECT', triesLeft: -1 } })}`,
    ],
    [
      'fractional tries',
      `#${fragmentOf({ v: 2, nonce: NONCE, error: { code: 'PIN_INCORRECT', triesLeft: 1.5 } })}`,
    ],
    [
      'tries as a string',
      `#${fragmentOf({ v: 2, nonce: NONCE, error: { code: 'PIN_INCORRECT', triesLeft: '2' } })}`,
    ],
    [
      'more tries than a card counts',
      `#${fragmentOf({ v: 2, nonce: NONCE, error: { code: 'PIN_INCORRECT', triesLeft: 16 } })}`,
    ],
    [
      'a proto key',
      `#myna-answer=${Buffer.from('{"__proto__":{"v":2},"nonce":"abc"}').toString('base64url')}`,
    ],
  ])('gives undefined for %s', (_, hash) => {
    expect(decodeCardAnswer(hash)).toBeUndefined();
  });

  it('gives undefined for an overlong value without decoding it', () => {
    const long = { ...SIGNED, certificate: 'A'.repeat(MAX_CARD_ANSWER_CHARS) };
    expect(decodeCardAnswer(encodeCardAnswer(long))).toBeUndefined();
  });

  it('never throws, whatever the fragment', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => {
        decodeCardAnswer(text);
        decodeCardAnswer(`#myna-answer=${text}`);
      }),
    );
    fc.assert(
      fc.property(fc.json(), (json) => {
        const decoded = decodeCardAnswer(`#myna-answer=${Buffer.from(json).toString('base64url')}`);
        if (decoded !== undefined) expect(decoded.v).toBe(2);
      }),
    );
  });

  it('decodes whatever it encodes', () => {
    const base64url = fc.stringMatching(/^[A-Za-z0-9_-]{1,200}$/);
    const answer: fc.Arbitrary<CardAnswer> = fc.oneof(
      fc.record({
        v: fc.constant(2 as const),
        nonce: base64url,
        certificate: base64url,
        signature: base64url,
      }),
      fc.record({
        v: fc.constant(2 as const),
        nonce: base64url,
        purpose: fc.constant('verify-identity' as const),
        userAuthCertificate: base64url,
        signingCertificate: base64url,
        signature: base64url,
      }),
      fc.record(
        {
          v: fc.constant(2 as const),
          nonce: base64url,
          purpose: fc.constant('verify-identity' as const),
          error: fc.oneof(
            fc.record({ code: fc.constantFrom(...Object.values(HelperErrorCode)) }),
            fc.record({
              code: fc.constantFrom(...Object.values(HelperErrorCode)),
              triesLeft: fc.integer({ min: 0, max: 15 }),
            }),
          ),
        },
        { requiredKeys: ['v', 'nonce', 'error'] },
      ),
    );
    fc.assert(
      fc.property(answer, (value) => expect(decodeCardAnswer(encodeCardAnswer(value))).toEqual(value)),
    );
  });
});

describe('navigation URLs', () => {
  it('builds the helper URL with the nonce, the percent-encoded return address and the language', () => {
    const returnUrl = 'https://login.example.jp/interaction/abc_DEF-1/card-answer';
    const url = new URL(authenticateNavigationUrl(47_123, { nonce: NONCE, returnUrl, language: 'en' }));
    expect(url.origin).toBe('http://127.0.0.1:47123');
    expect(url.pathname).toBe(AUTHENTICATE_PATH);
    expect(url.searchParams.get('nonce')).toBe(NONCE);
    expect(url.searchParams.get('return')).toBe(returnUrl);
    expect(url.searchParams.get('lang')).toBe('en');
    expect(url.search).toContain(`return=${encodeURIComponent(returnUrl)}`);
    expect(url.searchParams.has(PURPOSE_PARAMETER)).toBe(false);
  });

  it('adds purpose=verify-identity for an identity verification, nothing for a sign-in', () => {
    const returnUrl = 'https://login.example.jp/interaction/abc/card-answer';
    const identity = new URL(
      authenticateNavigationUrl(47_123, {
        nonce: NONCE,
        returnUrl,
        language: 'ja',
        purpose: 'verify-identity',
      }),
    );
    expect(identity.pathname).toBe(AUTHENTICATE_PATH);
    expect(identity.searchParams.get(PURPOSE_PARAMETER)).toBe('verify-identity');
    expect(identity.searchParams.get('nonce')).toBe(NONCE);
    const signIn = authenticateNavigationUrl(47_123, {
      nonce: NONCE,
      returnUrl,
      language: 'ja',
      purpose: 'sign-in',
    });
    expect(signIn).toBe(authenticateNavigationUrl(47_123, { nonce: NONCE, returnUrl, language: 'ja' }));
  });

  it('accepts only the card-answer path of one interaction', () => {
    expect(CARD_ANSWER_PATH.test('/interaction/abc_DEF-1/card-answer')).toBe(true);
    for (const path of [
      '/interaction/abc/card-answer/',
      '/interaction//card-answer',
      '/interaction/a.b/card-answer',
      '/interaction/abc/card-answer/..',
      '/interaction/abc/login',
      `/interaction/${'a'.repeat(65)}/card-answer`,
      '/x/interaction/abc/card-answer',
    ]) {
      expect(CARD_ANSWER_PATH.test(path)).toBe(false);
    }
  });
});

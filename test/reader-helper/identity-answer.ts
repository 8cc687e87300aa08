/**
 * Checks an identity verification's answer as an auditor would, independently of the OP's
 * verifier: the signing certificate is the card's and signed by the card's signing CA, and its key — not
 * the user-auth key — signed identitySignedData(origin, nonce), not a login's signed data.
 */
import { createVerify, X509Certificate } from 'node:crypto';
import { expect } from '@jest/globals';
import { challengeSignedData, identitySignedData } from '../../protocol/signed-data.js';
import type { CardIdentity } from '../../reader-helper/virtual-card/identity.js';

/** An answer's parts, as bytes or as the protocol's base64url. */
export interface IdentityAnswerParts {
  readonly userAuthCertificate: Uint8Array | string;
  readonly signingCertificate: Uint8Array | string;
  readonly signature: Uint8Array | string;
}

function bytesOf(value: Uint8Array | string): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'base64url') : Buffer.from(value);
}

/** Fails the test unless `answer` is `card`'s signature for (origin, nonce) with its signing key. */
export function expectSignedIdentity(
  answer: IdentityAnswerParts,
  expected: { readonly card: CardIdentity; readonly origin: string; readonly nonce: string },
): void {
  const { card, origin, nonce } = expected;
  const signingDer = bytesOf(answer.signingCertificate);
  const userAuthDer = bytesOf(answer.userAuthCertificate);
  const signature = bytesOf(answer.signature);
  expect(signingDer.equals(Buffer.from(card.signingCertificate))).toBe(true);
  expect(userAuthDer.equals(Buffer.from(card.userAuthCertificate))).toBe(true);
  const signing = new X509Certificate(signingDer);
  expect(signing.verify(new X509Certificate(card.signingCaCertificate).publicKey)).toBe(true);
  const signed = identitySignedData(origin, nonce);
  expect(createVerify('sha256').update(signed).verify(signing.publicKey, signature)).toBe(true);
  const userAuthKey = new X509Certificate(userAuthDer).publicKey;
  expect(createVerify('sha256').update(signed).verify(userAuthKey, signature)).toBe(false);
  const login = challengeSignedData(origin, nonce);
  expect(createVerify('sha256').update(login).verify(signing.publicKey, signature)).toBe(false);
}

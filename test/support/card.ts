/** Helpers for card-layer tests: card identities from the test PKI and checking login answers. */
import { randomBytes } from 'node:crypto';
import type { DevPki } from '../../dev-pki/hierarchy.js';
import { type VerifiedLogin, verifyLogin } from '../../functions/jpki/verify-login.js';
import { CardError } from '../../reader-helper/card/card-error.js';
import { type CardIdentity, cardIdentityOf } from '../../reader-helper/virtual-card/identity.js';
import { devPki, ORIGIN, userAuthAnchors } from './dev-pki.js';

/** The card contents of the test PKI's `alice`. */
export async function aliceCard(): Promise<{ pki: DevPki; identity: CardIdentity }> {
  const pki = await devPki();
  return { pki, identity: cardIdentityOf(pki.identities[0] as DevPki['identities'][number]) };
}

/** Runs the OP's verifier over a card's answer to (ORIGIN, nonce); revocation reported good. */
export function verifyAnswer(
  pki: DevPki,
  answer: { certificate: Uint8Array; signature: Uint8Array },
  nonce: string,
): Promise<VerifiedLogin> {
  return verifyLogin(
    answer,
    { origin: ORIGIN, nonce },
    {
      trustAnchors: userAuthAnchors(pki),
      now: new Date(),
      clockSkewSeconds: 60,
      revocation: { status: async () => ({ status: 'good' }) },
      certificateKeySecret: randomBytes(32),
    },
  );
}

/** The CardError a promise rejects with (fails the test when it resolves or rejects otherwise). */
export async function cardErrorOf(promise: Promise<unknown>): Promise<CardError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CardError) return error;
    throw error;
  }
  throw new Error('expected a CardError, but the operation succeeded');
}

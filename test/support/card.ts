/**
 * Helpers for card-layer tests: card identities from the test PKI, checking login answers, and
 * virtual cards with PIN tries already spent.
 */
import { randomBytes } from 'node:crypto';
import type { DevPki } from '../../dev-pki/hierarchy.js';
import { type VerifiedLogin, verifyLogin } from '../../functions/jpki/verify-login.js';
import { type JpkiPinRule, USER_AUTH_PIN } from '../../protocol/jpki-profile.js';
import { CardError } from '../../reader-helper/card/card-error.js';
import { JpkiCard } from '../../reader-helper/card/jpki-card.js';
import { type CardIdentity, cardIdentityOf } from '../../reader-helper/virtual-card/identity.js';
import type { SimulatedCard } from '../../reader-helper/virtual-card/in-process-backend.js';
import { VirtualJpkiCard } from '../../reader-helper/virtual-card/virtual-jpki-card.js';
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

function jpkiOn(card: SimulatedCard): JpkiCard {
  return new JpkiCard({ transmit: async (apdu) => card.transmit(apdu) });
}

/**
 * `identity`'s virtual card with `spent` wrong tries of `pin` (default the user-auth PIN; or
 * SIGNING_PIN, the signing password) already used, as a person who mistyped before would bring it
 * (`pin.maxTries` − `spent` tries left; all spent: blocked). The card is reset after.
 */
export async function cardWithSpentTries(
  identity: CardIdentity,
  spent: number,
  pin: JpkiPinRule = USER_AUTH_PIN,
): Promise<VirtualJpkiCard> {
  const card = new VirtualJpkiCard(identity);
  const right = pin === USER_AUTH_PIN ? identity.userAuthPin : identity.signingPin;
  // Two candidates of each format: one of them is always a wrong PIN of the right format.
  const wrong = ['0000', '1111', 'ZZZZZZ', 'YYYYYY'].find(
    (text) => text !== right && pin.pattern.test(text),
  ) as string;
  const jpki = jpkiOn(card);
  await jpki.selectApplication();
  await jpki.selectFile(pin.file);
  for (let tries = 0; tries < spent; tries += 1) {
    await jpki.verifyPin(wrong).then(
      () => {
        throw new Error('the wrong PIN was accepted');
      },
      (error: unknown) => {
        if (!(error instanceof CardError)) throw error;
      },
    );
  }
  card.reset();
  return card;
}

/** The user-auth PIN tries `card` has left, read from the card itself (0: blocked). Resets the card. */
export function userAuthTriesLeft(card: SimulatedCard): Promise<number> {
  return pinTriesLeft(card, USER_AUTH_PIN);
}

/** The tries of `pin` (e.g. SIGNING_PIN) `card` has left, read from the card itself (0: blocked). Resets the card. */
export async function pinTriesLeft(card: SimulatedCard, pin: JpkiPinRule): Promise<number> {
  const jpki = jpkiOn(card);
  try {
    await jpki.selectApplication();
    return (await jpki.pinTriesLeft(pin.file)) ?? pin.maxTries;
  } catch (error) {
    if (error instanceof CardError && error.code === 'PIN_BLOCKED') return 0;
    throw error;
  } finally {
    card.reset();
  }
}

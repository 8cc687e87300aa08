/**
 * CardService.verifyIdentity against the in-process backend with virtual cards (real crypto): one
 * card session reads both certificates and signs identitySignedData with the signing key after the
 * signing password; tries, the last try, blocking and cancelling of the signing password.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { DevPki } from '../../dev-pki/hierarchy.js';
import { SIGNING_KEY, SIGNING_PIN } from '../../protocol/jpki-profile.js';
import { CardError } from '../../reader-helper/card/card-error.js';
import { CardService, type VerifyIdentityResult } from '../../reader-helper/card/card-service.js';
import { JpkiCard } from '../../reader-helper/card/jpki-card.js';
import type { CardIdentity } from '../../reader-helper/virtual-card/identity.js';
import { InProcessReaderBackend } from '../../reader-helper/virtual-card/in-process-backend.js';
import { VirtualJpkiCard } from '../../reader-helper/virtual-card/virtual-jpki-card.js';
import {
  aliceCard,
  cardErrorOf,
  cardWithSpentTries,
  pinTriesLeft,
  userAuthTriesLeft,
  verifyAnswer,
} from '../support/card.js';
import { newNonce, ORIGIN } from '../support/dev-pki.js';
import { hooked, INS_SIGN, INS_VERIFY } from '../support/virtual-readers.js';
import { expectSignedIdentity } from './identity-answer.js';
import { ScriptedPerson } from './scripted-person.js';

let pki: DevPki;
let alice: CardIdentity;
beforeAll(async () => {
  ({ pki, identity: alice } = await aliceCard());
});

/** A wrong signing password of the right format. */
const WRONG_PASSWORD = 'WRONG1';

/** A service over one reader holding `card` (default: a fresh virtual card of alice). */
function setup(card = new VirtualJpkiCard(alice)) {
  const backend = new InProcessReaderBackend(['Reader A']);
  backend.reader('Reader A').insert(card);
  return { backend, card, service: new CardService(backend) };
}

/** One identity verification; the person types `password` (or does what `person` was scripted to do). */
function verify(
  service: CardService,
  password = alice.signingPin,
  extra: { person?: ScriptedPerson; signal?: AbortSignal; progress?: string[]; origin?: string } = {},
) {
  const nonce = newNonce();
  const person = extra.person ?? new ScriptedPerson(alice.userAuthPin, password);
  const result = service.verifyIdentity({
    origin: extra.origin ?? ORIGIN,
    nonce,
    language: 'ja',
    pinEntry: person.pinEntry,
    signal: extra.signal ?? new AbortController().signal,
    onProgress: (step, triesLeft) =>
      extra.progress?.push(triesLeft === undefined ? step : `${step}:${triesLeft}`),
  });
  return { nonce, result, person };
}

/** One login with the user-auth PIN. */
function login(service: CardService) {
  const nonce = newNonce();
  const person = new ScriptedPerson(alice.userAuthPin);
  const result = service.authenticate({
    origin: ORIGIN,
    nonce,
    language: 'ja',
    pinEntry: person.pinEntry,
    signal: new AbortController().signal,
  });
  return { nonce, result, person };
}

/** The signing password tries `card` has left (0: blocked). Resets the card. */
const triesLeft = (card: VirtualJpkiCard) => pinTriesLeft(card, SIGNING_PIN);

/** Checks the answer: alice's signing key over identitySignedData(origin, nonce). */
function expectSignedIdentityOf(answer: VerifyIdentityResult, nonce: string, origin = ORIGIN): void {
  expectSignedIdentity(answer, { card: alice, origin, nonce });
}

describe('identity verification', () => {
  it('returns both certificates and a signing-key signature over identitySignedData', async () => {
    const { service } = setup();
    const progress: string[] = [];
    const { nonce, result, person } = verify(service, alice.signingPin, { progress });
    expectSignedIdentityOf(await result, nonce);
    expect(person.requests).toHaveLength(1);
    expect(person.requests[0]).toMatchObject({
      origin: ORIGIN,
      purpose: 'verify-identity',
      secret: 'signing-password',
      triesLeft: 5,
      language: 'ja',
    });
    expect(progress).toEqual(['pin-entry:5', 'signing']);
  });

  it('binds the origin it was given', async () => {
    const { service } = setup();
    const { nonce, result } = verify(service, alice.signingPin, { origin: 'https://other.example' });
    expectSignedIdentityOf(await result, nonce, 'https://other.example');
  });

  it('costs 12 APDUs on a fresh card and 9 after a login of the same card (user-auth certificate kept, signing certificate read again)', async () => {
    const { service, card } = setup();
    await verify(service).result;
    expect(card.apduCount).toBe(12);
    card.resetStats();
    await login(service).result;
    card.resetStats();
    const { nonce, result } = verify(service);
    expectSignedIdentityOf(await result, nonce);
    expect(card.apduCount).toBe(9);
  });

  it('leaves no verified password behind: the card then neither signs with the signing key nor gives out the signing certificate', async () => {
    const { service, card } = setup();
    await verify(service).result;
    const jpki = new JpkiCard({ transmit: async (apdu) => card.transmit(apdu) });
    await jpki.selectApplication();
    await expect(jpki.readCertificate(SIGNING_KEY.certificateFile)).rejects.toThrow(
      'READ BINARY failed: 6982',
    );
    await expect(jpki.sign(SIGNING_KEY.keyFile, new Uint8Array(51))).rejects.toThrow(
      'COMPUTE DIGITAL SIGNATURE failed: 6982',
    );
  });

  it('a login and an identity verification of the same card each sign with their own key', async () => {
    const { service } = setup();
    const signIn = login(service);
    const signedIn = await signIn.result;
    expect((await verifyAnswer(pki, signedIn, signIn.nonce)).kind).toBe('user-auth');
    expect(signIn.person.requests[0]).toMatchObject({ purpose: 'sign-in', secret: 'user-auth-pin' });
    const { nonce, result } = verify(service);
    const identity = await result;
    expectSignedIdentityOf(identity, nonce);
    expect(Buffer.from(identity.userAuthCertificate).equals(Buffer.from(signedIn.certificate))).toBe(true);
  });

  it('answers BUSY while a login runs', async () => {
    const { service } = setup();
    const first = login(service);
    expect(await cardErrorOf(verify(service).result)).toMatchObject({ code: 'BUSY' });
    await first.result;
  });
});

describe('the signing password', () => {
  it('reports the tries left after a wrong password and leaves the user-auth PIN alone', async () => {
    const { service, card } = setup();
    expect(await cardErrorOf(verify(service, WRONG_PASSWORD).result)).toMatchObject({
      code: 'PIN_INCORRECT',
      triesLeft: 4,
    });
    const next = verify(service, WRONG_PASSWORD);
    expect(await cardErrorOf(next.result)).toMatchObject({ code: 'PIN_INCORRECT', triesLeft: 3 });
    expect(next.person.requests[0]?.triesLeft).toBe(4);
    expect(await triesLeft(card)).toBe(3);
    expect(await userAuthTriesLeft(card)).toBe(3);
  });

  it('tells the window it is the last try; declined, it sends no VERIFY and the try stays', async () => {
    const { service, card } = setup(await cardWithSpentTries(alice, 4, SIGNING_PIN));
    const person = new ScriptedPerson().cancels();
    expect(await cardErrorOf(verify(service, alice.signingPin, { person }).result)).toMatchObject({
      code: 'USER_CANCELLED',
    });
    expect(person.requests[0]).toMatchObject({ triesLeft: 1, secret: 'signing-password' });
    expect(await triesLeft(card)).toBe(1);
  });

  it('spends the last try when the person confirms it and types the right password', async () => {
    const { service, card } = setup(await cardWithSpentTries(alice, 4, SIGNING_PIN));
    const { nonce, result, person } = verify(service);
    expectSignedIdentityOf(await result, nonce);
    expect(person.requests[0]?.triesLeft).toBe(1);
    expect(await triesLeft(card)).toBe(5);
  });

  it('reports PIN_BLOCKED when the last try fails, then without opening the window; sign-in still works', async () => {
    const { service, card } = setup(await cardWithSpentTries(alice, 4, SIGNING_PIN));
    expect(await cardErrorOf(verify(service, WRONG_PASSWORD).result)).toMatchObject({
      code: 'PIN_BLOCKED',
      triesLeft: 0,
    });
    const later = verify(service);
    expect(await cardErrorOf(later.result)).toMatchObject({ code: 'PIN_BLOCKED', triesLeft: 0 });
    expect(later.person.requests).toHaveLength(0);
    expect(await triesLeft(card)).toBe(0);
    const signIn = login(service);
    await verifyAnswer(pki, await signIn.result, signIn.nonce);
  });

  it('a card brought with a blocked signing password: PIN_BLOCKED, no window, no VERIFY with a password', async () => {
    const blocked = await cardWithSpentTries(alice, SIGNING_PIN.maxTries, SIGNING_PIN);
    const verifies: number[] = [];
    const backend = new InProcessReaderBackend(['Reader B']);
    backend.reader('Reader B').insert(
      hooked(blocked, (apdu) => {
        if (apdu[1] === INS_VERIFY) verifies.push(apdu.length);
      }),
    );
    const attempt = verify(new CardService(backend));
    expect(await cardErrorOf(attempt.result)).toMatchObject({ code: 'PIN_BLOCKED', triesLeft: 0 });
    expect(attempt.person.requests).toHaveLength(0);
    expect(verifies).toEqual([4]); // the empty VERIFY that asks for the tries left, nothing else
  });

  it.each(['ABC12', 'abc123', 'ABC 123', 'ABCDEFGHIJKLMNOPQ', '1234', 'ＡＢＣ１２３'])(
    'never sends a password of the wrong format (%j) to the card',
    async (password) => {
      const { service, card } = setup();
      const error = await cardErrorOf(verify(service, password).result);
      expect(error.code).toBe('PIN_ENTRY_UNAVAILABLE');
      expect(`${error.message} ${String(error.stack)}`).not.toContain(password);
      expect(await triesLeft(card)).toBe(5);
    },
  );

  it('never puts the password in an error message', async () => {
    const { service } = setup();
    const error = await cardErrorOf(verify(service, 'SECRET99').result);
    expect(error.code).toBe('PIN_INCORRECT');
    expect(`${error.message} ${String(error.stack)}`).not.toContain('SECRET99');
  });

  it.each(['USER_CANCELLED', 'PIN_ENTRY_UNAVAILABLE', 'TIMEOUT'] as const)(
    'answers %s from the window with the same code and sends no VERIFY',
    async (code) => {
      const { service, card } = setup();
      const person = new ScriptedPerson().fails(code);
      expect(await cardErrorOf(verify(service, alice.signingPin, { person }).result)).toMatchObject({ code });
      expect(await triesLeft(card)).toBe(5);
    },
  );

  it('closes the window when aborted (the page cancelled): CANCELLED, nothing signed', async () => {
    const backend = new InProcessReaderBackend(['Reader A']);
    let signed = false;
    backend.reader('Reader A').insert(
      hooked(new VirtualJpkiCard(alice), (apdu) => {
        if (apdu[1] === INS_SIGN) signed = true;
      }),
    );
    const service = new CardService(backend);
    const person = new ScriptedPerson();
    const window = person.leavesOpen();
    const controller = new AbortController();
    const { result } = verify(service, alice.signingPin, { person, signal: controller.signal });
    expect(await window.opened).toMatchObject({ secret: 'signing-password' });
    controller.abort(new CardError('CANCELLED', 'the page cancelled'));
    expect(await cardErrorOf(result)).toMatchObject({ code: 'CANCELLED' });
    expect(await window.closed).toBeInstanceOf(CardError);
    expect(signed).toBe(false);
  });
});

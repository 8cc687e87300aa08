/**
 * Integration through a REAL pcscd with the vsmartcard vpcd driver: the virtual card connects to
 * vpcd as a TCP client, the helper reaches it through PC/SC. Fails (never skips) without them.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ReaderInfo } from '../../protocol/helper-protocol.js';
import { CardService } from '../../reader-helper/card/card-service.js';
import { PcscReaderBackend } from '../../reader-helper/pcsc/pcsc-backend.js';
import { VirtualJpkiCard } from '../../reader-helper/virtual-card/virtual-jpki-card.js';
import { VpcdConnector } from '../../reader-helper/virtual-card/vpcd-connector.js';
import { aliceCard, cardErrorOf, verifyAnswer } from '../support/card.js';
import { newNonce, ORIGIN } from '../support/dev-pki.js';
import { ensurePcscd, type PcscdHandle, VPCD_READER } from '../support/pcscd.js';
import { expectSignedIdentity } from './identity-answer.js';
import { ScriptedPerson } from './scripted-person.js';

let pcscd: PcscdHandle;
let service: CardService;

/** Resolves when the service's reader list satisfies `predicate` (event-driven, no fixed sleeps). */
function readersWhere(predicate: (readers: ReaderInfo[]) => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = (readers: ReaderInfo[]) => {
      if (!predicate(readers)) return;
      stop();
      resolve();
    };
    const stop = service.onChange(check);
    void service.readers().then(check);
  });
}

/** Resolves when the service reports `state` for the vpcd reader. */
function cardState(state: ReaderInfo['card']): Promise<void> {
  return readersWhere((readers) => readers.find((reader) => reader.name === VPCD_READER)?.card === state);
}

/** One login; the person types `pin` into the helper's PIN window (or does what `person` says). */
function login(pin: string, person = new ScriptedPerson(pin)) {
  const nonce = newNonce();
  return {
    nonce,
    person,
    result: service.authenticate({
      origin: ORIGIN,
      nonce,
      language: 'ja',
      pinEntry: person.pinEntry,
      signal: new AbortController().signal,
    }),
  };
}

/** One identity verification; the person types `password` into the helper's window (or does what `person` says). */
function verifyIdentity(password: string, person = new ScriptedPerson('1234', password)) {
  const nonce = newNonce();
  return {
    nonce,
    person,
    result: service.verifyIdentity({
      origin: ORIGIN,
      nonce,
      language: 'ja',
      pinEntry: person.pinEntry,
      signal: new AbortController().signal,
    }),
  };
}

/** Inserts a fresh virtual card into vpcd; `beforeApdu` sees every command first. */
async function insertedCard(beforeApdu: (apdu: Uint8Array) => void = () => {}): Promise<VpcdConnector> {
  const { identity } = await aliceCard();
  const card = new VirtualJpkiCard(identity);
  const connector = new VpcdConnector({
    atr: card.atr,
    reset: () => card.reset(),
    transmit: (apdu) => {
      beforeApdu(apdu);
      return card.transmit(apdu);
    },
  });
  connector.start();
  await cardState('jpki');
  return connector;
}

/** Runs `test` with a fresh card in vpcd and removes it afterwards. */
async function withCard(
  test: (connector: VpcdConnector) => Promise<void>,
  beforeApdu?: (apdu: Uint8Array) => void,
) {
  const connector = await insertedCard(beforeApdu);
  try {
    await test(connector);
  } finally {
    connector.stop();
    await cardState('absent');
  }
}

beforeAll(async () => {
  pcscd = await ensurePcscd();
  service = new CardService(new PcscReaderBackend({ retryMs: 200 }));
}, 20_000);

afterAll(async () => {
  await service?.close();
  if (pcscd?.owned) await pcscd.stop();
});

describe('through pcscd + vpcd', () => {
  it('reads the certificate and signs; the OP verifier accepts the signature', async () => {
    const { pki } = await aliceCard();
    await withCard(async () => {
      const { nonce, result } = login('1234');
      const verified = await verifyAnswer(pki, await result, nonce);
      expect(verified.kind).toBe('user-auth');
    });
  }, 20_000);

  it('reports the tries left after wrong PINs; a declined last try is kept, a confirmed one signs', async () => {
    await withCard(async () => {
      expect(await cardErrorOf(login('0000').result)).toMatchObject({ code: 'PIN_INCORRECT', triesLeft: 2 });
      expect(await cardErrorOf(login('0001').result)).toMatchObject({ code: 'PIN_INCORRECT', triesLeft: 1 });
      const declined = login('1234', new ScriptedPerson().cancels());
      expect(await cardErrorOf(declined.result)).toMatchObject({ code: 'USER_CANCELLED' });
      expect(declined.person.requests[0]?.triesLeft).toBe(1);
      const confirmed = login('1234');
      await confirmed.result;
      expect(confirmed.person.requests[0]?.triesLeft).toBe(1);
    });
  }, 20_000);

  it('reports a blocked card', async () => {
    await withCard(async () => {
      await cardErrorOf(login('0000').result);
      await cardErrorOf(login('0000').result);
      expect(await cardErrorOf(login('0000').result)).toMatchObject({
        code: 'PIN_BLOCKED',
        triesLeft: 0,
      });
      const blocked = login('1234');
      expect(await cardErrorOf(blocked.result)).toMatchObject({ code: 'PIN_BLOCKED', triesLeft: 0 });
      expect(blocked.person.requests).toHaveLength(0);
    });
  }, 20_000);

  it('verifies an identity with the signing password: signature over identitySignedData, tries left, last try, blocking', async () => {
    const { pki, identity } = await aliceCard();
    await withCard(async () => {
      const first = verifyIdentity(identity.signingPin);
      expectSignedIdentity(await first.result, { card: identity, origin: ORIGIN, nonce: first.nonce });
      expect(first.person.requests[0]).toMatchObject({ secret: 'signing-password', triesLeft: 5 });
      for (const left of [4, 3, 2, 1]) {
        expect(await cardErrorOf(verifyIdentity('WRONG1').result)).toMatchObject({
          code: 'PIN_INCORRECT',
          triesLeft: left,
        });
      }
      const declined = verifyIdentity(identity.signingPin, new ScriptedPerson().cancels());
      expect(await cardErrorOf(declined.result)).toMatchObject({ code: 'USER_CANCELLED' });
      expect(declined.person.requests[0]?.triesLeft).toBe(1);
      expect(await cardErrorOf(verifyIdentity('WRONG1').result)).toMatchObject({
        code: 'PIN_BLOCKED',
        triesLeft: 0,
      });
      const blocked = verifyIdentity(identity.signingPin);
      expect(await cardErrorOf(blocked.result)).toMatchObject({ code: 'PIN_BLOCKED', triesLeft: 0 });
      expect(blocked.person.requests).toHaveLength(0);
      // The user-auth PIN is another counter: sign-in still works.
      const { nonce, result } = login('1234');
      await verifyAnswer(pki, await result, nonce);
    });
  }, 30_000);

  it('answers CARD_REMOVED when the card leaves during the operation', async () => {
    let connector: VpcdConnector | undefined;
    await withCard(
      async (inserted) => {
        connector = inserted;
        expect(await cardErrorOf(login('1234').result)).toMatchObject({ code: 'CARD_REMOVED' });
      },
      (apdu) => {
        if (apdu[1] === 0x2a) connector?.stop(); // pull the card as the signature is requested
      },
    );
  }, 20_000);

  it('recovers when pcscd is restarted; the next login works', async () => {
    expect(pcscd.owned).toBe(true);
    await withCard(async () => {
      await login('1234').result;
      await pcscd.stop();
      await readersWhere((readers) => readers.length === 0);
      await pcscd.start();
      await cardState('jpki');
      const { pki } = await aliceCard();
      const { nonce, result } = login('1234');
      await verifyAnswer(pki, await result, nonce);
    });
  }, 30_000);
});

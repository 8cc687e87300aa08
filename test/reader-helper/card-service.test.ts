/** CardService + JpkiCard against the in-process backend with virtual cards (real crypto). */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { ScriptedPinEntry } from '../../dev-card/virtual-card-tools.js';
import type { DevPki } from '../../dev-pki/hierarchy.js';
import type { ReaderInfo } from '../../protocol/helper-protocol.js';
import { CardError } from '../../reader-helper/card/card-error.js';
import { CardService } from '../../reader-helper/card/card-service.js';
import type { ReaderBackend } from '../../reader-helper/card/reader-backend.js';
import {
  FEATURE_VERIFY_PIN_DIRECT,
  GET_FEATURE_REQUEST_FUNCTION,
  scardCtlCode,
} from '../../reader-helper/pcsc/pin-pad.js';
import { type PinEntry, PinEntryError } from '../../reader-helper/pin-entry/pin-entry.js';
import { type CardIdentity, cardIdentityOf } from '../../reader-helper/virtual-card/identity.js';
import { InProcessReaderBackend } from '../../reader-helper/virtual-card/in-process-backend.js';
import { VirtualJpkiCard } from '../../reader-helper/virtual-card/virtual-jpki-card.js';
import { aliceCard, cardErrorOf, verifyAnswer } from '../support/card.js';
import { newNonce, ORIGIN } from '../support/dev-pki.js';
import { hooked, INS_SIGN, INS_VERIFY, otherCard } from '../support/virtual-readers.js';
import { ScriptedPerson } from './scripted-person.js';

let pki: DevPki;
let alice: CardIdentity;
beforeAll(async () => {
  ({ pki, identity: alice } = await aliceCard());
});

const SELECT_AP = Buffer.from('00A4040C0AD392F000260100000001', 'hex');
const SELECT_PIN = Buffer.from('00A4020C020018', 'hex');
const EMPTY_VERIFY = Uint8Array.of(0x00, 0x20, 0x00, 0x80);
const SIGN_SHA256_DIGEST_INFO = Buffer.from(
  `802A008033${'3031300d060960864801650304020105000420'}${'11'.repeat(32)}00`,
  'hex',
);

/** A service over one reader holding a fresh virtual card of alice. */
function setup(options: { extendedLength?: boolean } = {}) {
  const backend = new InProcessReaderBackend(['Reader A']);
  const card = new VirtualJpkiCard(alice, options);
  backend.reader('Reader A').insert(card);
  return { backend, card, service: new CardService(backend) };
}

/** One login; the person types `pin` into the PIN window (or does what `person` was scripted to do). */
function login(
  service: CardService,
  pin = '1234',
  extra: { person?: ScriptedPerson; pinEntry?: PinEntry; signal?: AbortSignal; progress?: string[] } = {},
) {
  const nonce = newNonce();
  const person = extra.person ?? new ScriptedPerson(pin);
  const result = service.authenticate({
    origin: ORIGIN,
    nonce,
    language: 'en',
    pinEntry: extra.pinEntry ?? person.pinEntry,
    signal: extra.signal ?? new AbortController().signal,
    onProgress: (step, triesLeft) =>
      extra.progress?.push(triesLeft === undefined ? step : `${step}:${triesLeft}`),
  });
  return { nonce, result, person };
}

/** The tries-left status word the card reports now (selects the application and the PIN EF first). */
function cardTriesSw(card: VirtualJpkiCard): string {
  card.transmit(SELECT_AP);
  card.transmit(SELECT_PIN);
  return Buffer.from(card.transmit(EMPTY_VERIFY)).toString('hex').toUpperCase();
}

describe('login', () => {
  it('returns the certificate and a signature the OP verifier accepts', async () => {
    const { service } = setup();
    const { nonce, result } = login(service);
    const answer = await result;
    expect(Buffer.from(answer.certificate).equals(Buffer.from(alice.userAuthCertificate))).toBe(true);
    const verified = await verifyAnswer(pki, answer, nonce);
    expect(verified.kind).toBe('user-auth');
  });

  it('costs 9 APDUs on a fresh card and 6 when the same card logs in again', async () => {
    const { service, card } = setup();
    await login(service).result;
    expect(card.apduCount).toBe(9);
    card.resetStats();
    const { nonce, result } = login(service);
    await verifyAnswer(pki, await result, nonce);
    expect(card.apduCount).toBe(6);
  });

  it('leaves no verified PIN behind: after a login the card refuses to sign without the PIN', async () => {
    const { service, card } = setup();
    await login(service).result;
    // Exactly what another program sharing the reader could send next: SIGN with the key still selected.
    const answer = Buffer.from(card.transmit(SIGN_SHA256_DIGEST_INFO));
    expect(answer.length).toBe(2);
    expect(answer.toString('hex')).not.toBe('9000');
  });

  it('falls back to 256-byte reads when the card refuses extended length', async () => {
    const { service, card } = setup({ extendedLength: false });
    const { nonce, result } = login(service);
    const answer = await result;
    expect(Buffer.from(answer.certificate).equals(Buffer.from(alice.userAuthCertificate))).toBe(true);
    await verifyAnswer(pki, answer, nonce);
    const shortReads = Math.ceil(alice.userAuthCertificate.length / 256) - 1;
    expect(card.apduCount).toBe(9 + shortReads);
  });

  it('reads the new card after a swap (cache invalidated)', async () => {
    const { service, backend, card } = setup();
    await login(service).result;
    const bob = cardIdentityOf(pki.identities[1] as DevPki['identities'][number]);
    const bobCard = new VirtualJpkiCard(bob);
    backend.reader('Reader A').remove();
    backend.reader('Reader A').insert(bobCard);
    const { nonce, result } = login(service);
    const answer = await result;
    expect(Buffer.from(answer.certificate).equals(Buffer.from(bob.userAuthCertificate))).toBe(true);
    await verifyAnswer(pki, answer, nonce);
    expect(bobCard.apduCount).toBe(9);
    expect(card.apduCount).toBe(9);
  });
});

describe('PIN handling', () => {
  it('reports the tries left after wrong PINs', async () => {
    const { service } = setup();
    expect(await cardErrorOf(login(service, '0000').result)).toMatchObject({
      code: 'PIN_INCORRECT',
      triesLeft: 2,
    });
    expect(await cardErrorOf(login(service, '0001').result)).toMatchObject({
      code: 'PIN_INCORRECT',
      triesLeft: 1,
    });
  });

  it('tells the PIN window it is the last try; declined, it sends no VERIFY and the try stays', async () => {
    const { service, card } = setup();
    await cardErrorOf(login(service, '0000').result);
    await cardErrorOf(login(service, '0000').result);
    const person = new ScriptedPerson().cancels();
    const error = await cardErrorOf(login(service, '1234', { person }).result);
    expect(error).toMatchObject({ code: 'USER_CANCELLED' });
    expect(person.requests[0]?.triesLeft).toBe(1);
    expect(cardTriesSw(card)).toBe('63C1');
  });

  it('spends the last try when the person confirms it in the window (types the PIN)', async () => {
    const { service } = setup();
    await cardErrorOf(login(service, '0000').result);
    await cardErrorOf(login(service, '0000').result);
    const { nonce, result, person } = login(service, '1234');
    await verifyAnswer(pki, await result, nonce);
    expect(person.requests[0]?.triesLeft).toBe(1);
  });

  it('reports PIN_BLOCKED when the last try fails, and later without opening the PIN window', async () => {
    const { service, card } = setup();
    await cardErrorOf(login(service, '0000').result);
    await cardErrorOf(login(service, '0000').result);
    expect(await cardErrorOf(login(service, '0000').result)).toMatchObject({
      code: 'PIN_BLOCKED',
      triesLeft: 0,
    });
    const later = login(service, '1234');
    expect(await cardErrorOf(later.result)).toMatchObject({ code: 'PIN_BLOCKED', triesLeft: 0 });
    expect(later.person.requests).toHaveLength(0);
    expect(cardTriesSw(card)).toBe('6984');
  });

  it('asks the PIN window for the origin, the purpose, the secret, the tries left and the language, and reports progress', async () => {
    const { service } = setup();
    const progress: string[] = [];
    const { result, person } = login(service, '1234', { progress });
    await result;
    expect(person.requests).toHaveLength(1);
    expect(person.requests[0]).toMatchObject({
      origin: ORIGIN,
      purpose: 'sign-in',
      secret: 'user-auth-pin',
      triesLeft: 3,
      language: 'en',
    });
    expect(progress).toEqual(['pin-entry:3', 'signing']);
  });

  it.each(['USER_CANCELLED', 'PIN_ENTRY_UNAVAILABLE', 'TIMEOUT', 'CANCELLED'] as const)(
    'answers %s from the PIN window with the same code, sends no VERIFY and keeps the card',
    async (code) => {
      const { service, card } = setup();
      const person = new ScriptedPerson().fails(code);
      expect(await cardErrorOf(login(service, '1234', { person }).result)).toMatchObject({ code });
      expect(cardTriesSw(card)).toBe('63C3');
      card.resetStats();
      await login(service).result;
      expect(card.apduCount).toBe(6);
    },
  );

  it('answers PIN_ENTRY_UNAVAILABLE when the PIN window fails unexpectedly', async () => {
    const { service } = setup();
    const failing = new ScriptedPinEntry(async () => {
      throw new Error('spawn zenity ENOENT');
    });
    const error = await cardErrorOf(login(service, '1234', { pinEntry: failing }).result);
    expect(error.code).toBe('PIN_ENTRY_UNAVAILABLE');
  });

  it.each(['123', '12345', 'abcd', '12a4', '', ' 1234'])(
    'never sends a PIN of the wrong format (%j) from the PIN window to the card',
    async (pin) => {
      const { service, card } = setup();
      await service.readers();
      card.resetStats();
      const error = await cardErrorOf(login(service, pin).result);
      expect(error.code).toBe('PIN_ENTRY_UNAVAILABLE');
      expect(error.message).not.toContain(pin || '\u0000');
      expect(cardTriesSw(card)).toBe('63C3');
    },
  );

  it('never puts the PIN in an error message', async () => {
    const { service } = setup();
    const error = await cardErrorOf(login(service, '9876').result);
    expect(error.code).toBe('PIN_INCORRECT');
    expect(`${error.message} ${String(error.stack)}`).not.toContain('9876');
  });
});

describe.each(['authenticate', 'verifyIdentity'] as const)('request checks of %s', (operation) => {
  it.each(['short', `${'a'.repeat(42)}`, `${'a'.repeat(129)}`, `${'a'.repeat(42)}=`])(
    'refuses nonce %j with BAD_REQUEST before any APDU',
    async (nonce) => {
      const { service, card } = setup();
      const person = new ScriptedPerson();
      const error = await cardErrorOf(
        service[operation]({
          origin: ORIGIN,
          nonce,
          language: 'ja',
          pinEntry: person.pinEntry,
          signal: new AbortController().signal,
        }),
      );
      expect(error.code).toBe('BAD_REQUEST');
      expect(card.apduCount).toBe(0);
      expect(person.requests).toHaveLength(0);
    },
  );

  it('refuses an origin that is not a web origin with BAD_REQUEST', async () => {
    const { service, card } = setup();
    const error = await cardErrorOf(
      service[operation]({
        origin: 'https://login.example.jp/path',
        nonce: newNonce(),
        language: 'ja',
        pinEntry: new ScriptedPerson().pinEntry,
        signal: new AbortController().signal,
      }),
    );
    expect(error.code).toBe('BAD_REQUEST');
    expect(card.apduCount).toBe(0);
  });
});

describe('concurrent operations', () => {
  it('answers BUSY to a second concurrent login; the first succeeds', async () => {
    const { service } = setup();
    const first = login(service);
    const second = login(service);
    expect(await cardErrorOf(second.result)).toMatchObject({ code: 'BUSY' });
    await verifyAnswer(pki, await first.result, first.nonce);
  });
});

describe('readers and cards', () => {
  it('answers NO_READER without readers', async () => {
    const service = new CardService(new InProcessReaderBackend([]));
    expect(await cardErrorOf(login(service).result)).toMatchObject({ code: 'NO_READER' });
  });

  it('answers NO_CARD when no reader holds a card', async () => {
    const service = new CardService(new InProcessReaderBackend(['Reader A', 'Reader B']));
    expect(await cardErrorOf(login(service).result)).toMatchObject({ code: 'NO_CARD' });
  });

  it('answers NOT_JPKI when the only card is another kind of card', async () => {
    const backend = new InProcessReaderBackend(['Reader A']);
    backend.reader('Reader A').insert(otherCard());
    expect(await cardErrorOf(login(new CardService(backend)).result)).toMatchObject({ code: 'NOT_JPKI' });
  });

  it('finds the JPKI card among several readers with other cards', async () => {
    const backend = new InProcessReaderBackend(['Contact', 'Empty', 'Contactless']);
    const other = otherCard();
    backend.reader('Contact').insert(other);
    const card = new VirtualJpkiCard(alice);
    backend.reader('Contactless').insert(card);
    const service = new CardService(backend);
    expect(await service.readers()).toEqual([
      { name: 'Contact', card: 'not-jpki' },
      { name: 'Empty', card: 'absent' },
      { name: 'Contactless', card: 'jpki' },
    ]);
    const { nonce, result } = login(service);
    await verifyAnswer(pki, await result, nonce);
    expect(other.apdus).toBe(1);
    expect(card.apduCount).toBe(9);
  });

  it('probes each inserted card once', async () => {
    const { service, card } = setup();
    await service.readers();
    await service.readers();
    expect(card.apduCount).toBe(1);
  });

  it('tells listeners when cards come and go', async () => {
    const { service, backend } = setup();
    const seen: ReaderInfo[][] = [];
    service.onChange((readers) => seen.push(readers));
    const next = () =>
      new Promise<ReaderInfo[]>((resolve) => {
        const stop = service.onChange((readers) => {
          stop();
          resolve(readers);
        });
      });
    let change = next();
    backend.reader('Reader A').remove();
    expect(await change).toEqual([{ name: 'Reader A', card: 'absent' }]);
    change = next();
    backend.reader('Reader A').insert(otherCard());
    expect(await change).toEqual([{ name: 'Reader A', card: 'not-jpki' }]);
    change = next();
    backend.addReader('Reader B');
    expect(await change).toEqual([
      { name: 'Reader A', card: 'not-jpki' },
      { name: 'Reader B', card: 'absent' },
    ]);
    expect(seen).toHaveLength(3);
  });
});

describe('interruptions', () => {
  it('answers CARD_REMOVED when the card is pulled mid-operation', async () => {
    const backend = new InProcessReaderBackend(['Reader A']);
    const card = new VirtualJpkiCard(alice);
    backend.reader('Reader A').insert(
      hooked(card, (apdu) => {
        if (apdu[1] === INS_SIGN) backend.reader('Reader A').remove();
      }),
    );
    const service = new CardService(backend);
    expect(await cardErrorOf(login(service).result)).toMatchObject({ code: 'CARD_REMOVED' });
    expect(await cardErrorOf(login(service).result)).toMatchObject({ code: 'NO_CARD' });
  });

  it('answers CARD_REMOVED when the reader is unplugged mid-operation, then NO_READER', async () => {
    const backend = new InProcessReaderBackend(['Reader A']);
    backend.reader('Reader A').insert(
      hooked(new VirtualJpkiCard(alice), (apdu) => {
        if (apdu[1] === INS_VERIFY && apdu.length > 5) backend.removeReader('Reader A');
      }),
    );
    const service = new CardService(backend);
    expect(await cardErrorOf(login(service).result)).toMatchObject({ code: 'CARD_REMOVED' });
    expect(await cardErrorOf(login(service).result)).toMatchObject({ code: 'NO_READER' });
  });

  it('forgets a removed card: the next login answers NO_CARD', async () => {
    const { service, backend } = setup();
    await login(service).result;
    const removed = new Promise<void>((resolve) => service.onChange(() => resolve()));
    backend.reader('Reader A').remove();
    await removed;
    expect(await cardErrorOf(login(service).result)).toMatchObject({ code: 'NO_CARD' });
  });

  it('stops between APDUs when aborted with a TIMEOUT reason, before signing', async () => {
    const backend = new InProcessReaderBackend(['Reader A']);
    const controller = new AbortController();
    const card = new VirtualJpkiCard(alice);
    let signed = false;
    backend.reader('Reader A').insert(
      hooked(card, (apdu) => {
        if (apdu[1] === INS_VERIFY && apdu.length > 5)
          controller.abort(new CardError('TIMEOUT', 'took too long'));
        if (apdu[1] === INS_SIGN) signed = true;
      }),
    );
    const service = new CardService(backend);
    expect(await cardErrorOf(login(service, '1234', { signal: controller.signal }).result)).toMatchObject({
      code: 'TIMEOUT',
    });
    expect(signed).toBe(false);
    const { nonce, result } = login(service);
    await verifyAnswer(pki, await result, nonce);
  });

  it('answers CANCELLED for an abort without a CardError reason', async () => {
    const { service, card } = setup();
    const controller = new AbortController();
    controller.abort();
    expect(await cardErrorOf(login(service, '1234', { signal: controller.signal }).result)).toMatchObject({
      code: 'CANCELLED',
    });
    expect(card.apduCount).toBe(0);
  });
});

/** The keypad of a PIN-pad reader: what the person does there (type a PIN, or press its Cancel key). */
type Keypad = () => Promise<string | 'cancel-key'>;

const VERIFY_PIN_DIRECT_CODE = 0x4233_0001;

/**
 * One in-process reader with a PIN pad (PC/SC part 10): it announces FEATURE_VERIFY_PIN_DIRECT and,
 * for that control code, puts what the person types on `keypad` into the VERIFY of the
 * PIN_VERIFY_STRUCTURE and sends it to the card — the PIN never passes through the helper.
 */
function padSetup(keypad: Keypad, options: { featureRequestFailures?: number } = {}) {
  let featureRequestFailures = options.featureRequestFailures ?? 0;
  const inner = new InProcessReaderBackend(['Pad Reader']);
  const card = new VirtualJpkiCard(alice);
  inner.reader('Pad Reader').insert(card);
  const controls: number[] = [];
  /** The reader's side, in order: each VERIFY_PIN_DIRECT (with its bTimerOut) and its answer, each reset. */
  const readerLog: string[] = [];
  const backend: ReaderBackend = {
    virtual: true,
    listReaders: () => inner.listReaders(),
    onChange: (listener) => inner.onChange(listener),
    close: () => inner.close(),
    async connect(reader) {
      const connection = await inner.connect(reader);
      return {
        atr: connection.atr,
        transmit: (apdu) => connection.transmit(apdu),
        reset: () => {
          readerLog.push('reset');
          return connection.reset();
        },
        disconnect: () => connection.disconnect(),
        async control(code, data) {
          controls.push(code);
          if (code === scardCtlCode(GET_FEATURE_REQUEST_FUNCTION)) {
            // The card left and came back while the reader was asked (pcsc-lite: SCARD_W_REMOVED_CARD).
            if (featureRequestFailures-- > 0) throw new CardError('CARD_REMOVED', 'the card was removed');
            return Uint8Array.of(FEATURE_VERIFY_PIN_DIRECT, 4, 0x42, 0x33, 0x00, 0x01);
          }
          if (code !== VERIFY_PIN_DIRECT_CODE) throw new Error('unknown control code');
          readerLog.push(`keypad waits ${data[0]} s`);
          const typed = await keypad();
          readerLog.push(`keypad: ${typed === 'cancel-key' ? typed : 'digits'}`);
          if (typed === 'cancel-key') return Uint8Array.of(0x64, 0x01);
          const apdu = data.slice(19);
          apdu.set(Buffer.from(typed, 'ascii'), 5);
          return connection.transmit(apdu);
        },
      };
    },
  };
  return { card, controls, readerLog, service: new CardService(backend) };
}

describe('PIN-pad readers', () => {
  it('use the keypad instead of the PIN window: the notice names the site and the tries left; asked once per card; same APDU economy', async () => {
    const { service, card, controls } = padSetup(async () => '1234');
    const progress: string[] = [];
    const first = login(service, '1234', { progress });
    await verifyAnswer(pki, await first.result, first.nonce);
    expect(first.person.requests).toHaveLength(0);
    expect(first.person.pinEntry.lastTryConfirmations).toHaveLength(0);
    expect(first.person.pinEntry.padNotices).toHaveLength(1);
    expect(first.person.pinEntry.padNotices[0]).toMatchObject({
      origin: ORIGIN,
      triesLeft: 3,
      language: 'en',
    });
    expect(progress).toEqual(['pin-pad:3', 'signing']);
    expect(card.apduCount).toBe(9);
    card.resetStats();
    const second = login(service);
    await verifyAnswer(pki, await second.result, second.nonce);
    expect(card.apduCount).toBe(6);
    expect(controls.filter((code) => code === scardCtlCode(GET_FEATURE_REQUEST_FUNCTION))).toHaveLength(1);
  });

  it('report a wrong PIN typed on the keypad with the tries left', async () => {
    const { service } = padSetup(async () => '0000');
    expect(await cardErrorOf(login(service).result)).toMatchObject({ code: 'PIN_INCORRECT', triesLeft: 2 });
  });

  it('answer the keypad’s Cancel key with USER_CANCELLED and keep the try', async () => {
    const { service, card } = padSetup(async () => 'cancel-key');
    expect(await cardErrorOf(login(service).result)).toMatchObject({ code: 'USER_CANCELLED' });
    expect(cardTriesSw(card)).toBe('63C3');
  });

  it('answer Cancel in the helper’s notice with USER_CANCELLED once the reader gives up its wait; the notice asks for the keypad’s Cancel key meanwhile', async () => {
    const keypad = typingLater();
    const { service, card, readerLog } = padSetup(keypad.next);
    const notices = noticeRecorder();
    notices.pressCancel();
    const { result } = login(service, '1234', { pinEntry: notices.pinEntry });
    let settled = false;
    void result.catch(() => (settled = true));
    await until(() => notices.shown.length === 2);
    // Cancelled in the notice: the reader's keypad still waits, so the login does too.
    expect(notices.shown.map((notice) => notice.cancelling)).toEqual([false, true]);
    expect(notices.shown[0]?.closed).toBe(true);
    expect(notices.shown[1]?.closed).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled).toBe(false);
    expect(readerLog).toEqual(['keypad waits 120 s']);
    keypad.type('cancel-key');
    expect(await cardErrorOf(result)).toMatchObject({ code: 'USER_CANCELLED' });
    expect(notices.shown[1]?.closed).toBe(true);
    // The card is reset after the reader answered, not queued behind a wait still running.
    expect(readerLog).toEqual(['keypad waits 120 s', 'keypad: cancel-key', 'reset']);
    expect(cardTriesSw(card)).toBe('63C3');
  });

  it('aborted while the keypad waits: no answer before the reader’s; a PIN typed meanwhile is reported as the card saw it, a right one is not used', async () => {
    const keypad = typingLater();
    const { service, card, readerLog } = padSetup(keypad.next);
    const notices = noticeRecorder();
    const cancel = new AbortController();
    const wrong = login(service, '1234', { pinEntry: notices.pinEntry, signal: cancel.signal });
    await until(() => readerLog.length === 1);
    cancel.abort(new CardError('CANCELLED', 'the page cancelled'));
    await until(() => notices.shown.length === 2);
    expect(notices.shown[1]?.cancelling).toBe(true);
    keypad.type('0000');
    // The try the typed PIN cost is what the page must hear of, not a bare CANCELLED.
    expect(await cardErrorOf(wrong.result)).toMatchObject({ code: 'PIN_INCORRECT', triesLeft: 2 });
    const timedOut = new AbortController();
    const right = login(service, '1234', { pinEntry: notices.pinEntry, signal: timedOut.signal });
    await until(() => readerLog.filter((line) => line.startsWith('keypad waits')).length === 2);
    timedOut.abort(new CardError('TIMEOUT', 'the sign-in took too long'));
    keypad.type('1234');
    expect(await cardErrorOf(right.result)).toMatchObject({ code: 'TIMEOUT' });
    expect(readerLog.at(-1)).toBe('reset');
    expect(cardTriesSw(card)).toBe('63C3');
  });

  it('give the reader what is left of the person’s time after the last-try confirmation (bTimerOut)', async () => {
    const { service, readerLog } = padSetup(async () => '0000');
    await cardErrorOf(login(service).result);
    await cardErrorOf(login(service).result);
    const slowConfirmation: PinEntry = {
      ...recordingPadPerson([], 'goes on'),
      confirmLastTry: () => new Promise((resolve) => setTimeout(resolve, 1200)),
    };
    const result = service.authenticate({
      origin: ORIGIN,
      nonce: newNonce(),
      language: 'en',
      pinEntry: slowConfirmation,
      signal: new AbortController().signal,
      personTimeMs: 10_000,
    });
    expect(await cardErrorOf(result)).toMatchObject({ code: 'PIN_BLOCKED' });
    expect(readerLog.filter((line) => line.startsWith('keypad waits'))).toEqual([
      'keypad waits 120 s',
      'keypad waits 120 s',
      'keypad waits 9 s',
    ]);
  });

  it('ask in the helper’s own window before the last try on the keypad; accepted, the keypad verifies', async () => {
    const typed = ['0000', '0000', '1234'];
    const events: string[] = [];
    const { service, controls } = padSetup(async () => {
      events.push('keypad');
      return typed.shift() as string;
    });
    await cardErrorOf(login(service).result);
    await cardErrorOf(login(service).result);
    const person = recordingPadPerson(events, 'goes on');
    const progress: string[] = [];
    const { nonce, result } = login(service, '1234', { pinEntry: person, progress });
    await verifyAnswer(pki, await result, nonce);
    // The first two logins had no last try to confirm; the third asks before the notice and the keypad.
    expect(events).toEqual(['keypad', 'keypad', 'confirm:1', 'notice', 'keypad']);
    expect(progress).toEqual(['pin-pad:1', 'signing']);
    expect(controls.filter((code) => code === VERIFY_PIN_DIRECT_CODE)).toHaveLength(3);
  });

  it('declined in the helper’s window, the last try is never sent to the keypad: USER_CANCELLED, the try stays', async () => {
    const { service, card, controls } = padSetup(async () => '0000');
    await cardErrorOf(login(service).result);
    await cardErrorOf(login(service).result);
    const events: string[] = [];
    const person = recordingPadPerson(events, 'declines');
    expect(await cardErrorOf(login(service, '1234', { pinEntry: person }).result)).toMatchObject({
      code: 'USER_CANCELLED',
    });
    expect(events).toEqual(['confirm:1']);
    expect(controls.filter((code) => code === VERIFY_PIN_DIRECT_CODE)).toHaveLength(2);
    expect(cardTriesSw(card)).toBe('63C1');
  });

  it('take the signing password in the helper’s window, never on the keypad (it has letters): last-try confirmation there too', async () => {
    const { service, controls } = padSetup(async () => {
      throw new Error('the keypad must not be asked for the signing password');
    });
    const verify = (person: ScriptedPerson) =>
      service.verifyIdentity({
        origin: ORIGIN,
        nonce: newNonce(),
        language: 'en',
        pinEntry: person.pinEntry,
        signal: new AbortController().signal,
      });
    for (let spent = 0; spent < 4; spent += 1) {
      expect(await cardErrorOf(verify(new ScriptedPerson('1234', 'WRONG1')))).toMatchObject({
        code: 'PIN_INCORRECT',
      });
    }
    const person = new ScriptedPerson('1234', alice.signingPin);
    const answer = await verify(person);
    expect(Buffer.from(answer.signingCertificate).equals(Buffer.from(alice.signingCertificate))).toBe(true);
    expect(person.requests).toEqual([expect.objectContaining({ secret: 'signing-password', triesLeft: 1 })]);
    expect(person.pinEntry.padNotices).toHaveLength(0);
    expect(controls.filter((code) => code === VERIFY_PIN_DIRECT_CODE)).toHaveLength(0);
  });

  it('ask the reader again after a detection that failed with CARD_REMOVED (the failure is not kept)', async () => {
    const { service, controls } = padSetup(async () => '1234', { featureRequestFailures: 1 });
    expect(await cardErrorOf(login(service).result)).toMatchObject({ code: 'CARD_REMOVED' });
    const { nonce, result, person } = login(service);
    await verifyAnswer(pki, await result, nonce);
    expect(person.pinEntry.padNotices).toHaveLength(1);
    expect(person.requests).toHaveLength(0);
    expect(controls.filter((code) => code === scardCtlCode(GET_FEATURE_REQUEST_FUNCTION))).toHaveLength(2);
  });
});

/** The person at a PIN-pad reader: answers the last-try question as scripted, records each window. */
function recordingPadPerson(events: string[], atLastTry: 'goes on' | 'declines'): PinEntry {
  return {
    kind: 'scripted',
    requestPin: () => Promise.reject(new Error('a PIN-pad login must not open the PIN window')),
    async confirmLastTry(request) {
      events.push(`confirm:${request.triesLeft}`);
      if (atLastTry === 'declines') throw new PinEntryError('USER_CANCELLED', 'the person declined');
    },
    showPinPadNotice() {
      events.push('notice');
      return { cancelled: new Promise<void>(() => {}), close: () => {} };
    },
  };
}

/** A keypad the test types on when it wants: each VERIFY waits for the next `type`. */
function typingLater() {
  const waiting: ((typed: string | 'cancel-key') => void)[] = [];
  return {
    next: () => new Promise<string | 'cancel-key'>((resolve) => waiting.push(resolve)),
    type(typed: string | 'cancel-key') {
      const press = waiting.shift();
      if (!press) throw new Error('the keypad is not waiting');
      press(typed);
    },
  };
}

/** The helper's PIN-pad notices as the person sees them; `pressCancel` cancels the next one shown. */
function noticeRecorder() {
  const shown: { cancelling: boolean; closed: boolean }[] = [];
  let cancelNext = false;
  const pinEntry: PinEntry = {
    kind: 'scripted',
    requestPin: () => Promise.reject(new Error('a PIN-pad login must not open the PIN window')),
    confirmLastTry: async () => {},
    showPinPadNotice(_request, options) {
      const notice = { cancelling: options?.cancelling === true, closed: false };
      shown.push(notice);
      const cancelled = cancelNext ? Promise.resolve() : new Promise<void>(() => {});
      cancelNext = false;
      return { cancelled, close: () => (notice.closed = true) };
    },
  };
  return { shown, pinEntry, pressCancel: () => (cancelNext = true) };
}

/** Resolves once `condition` holds (checked every 5 ms, for up to 2 s). */
async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 5) {
    if (waited > 2000) throw new Error('the condition never held');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * PIN-pad readers (PC/SC part 10): the feature request, its TLV answer, the PIN_VERIFY_STRUCTURE
 * for the JPKI VERIFY and how the pad's answers become CardErrors — against a scripted reader
 * (vpcd cannot emulate a keypad) — and, through a real pcscd + vpcd, that an ordinary reader is
 * detected as no PIN pad and the card still works (the helper then falls back to its window).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CardError } from '../../reader-helper/card/card-error.js';
import { JpkiCard } from '../../reader-helper/card/jpki-card.js';
import type { CardConnection } from '../../reader-helper/card/reader-backend.js';
import { PcscReaderBackend } from '../../reader-helper/pcsc/pcsc-backend.js';
import {
  detectPinPad,
  FEATURE_VERIFY_PIN_DIRECT,
  parseFeatureList,
  pinVerifyStructure,
  scardCtlCode,
} from '../../reader-helper/pcsc/pin-pad.js';
import { VirtualJpkiCard } from '../../reader-helper/virtual-card/virtual-jpki-card.js';
import { VpcdConnector } from '../../reader-helper/virtual-card/vpcd-connector.js';
import { aliceCard, cardErrorOf } from '../support/card.js';
import { ensurePcscd, type PcscdHandle, VPCD_READER } from '../support/pcscd.js';

const VERIFY_DIRECT_CODE = 0x42330006;
/** A feature list as a real CCID pinpad reader (pcsc-lite ccid driver) answers it. */
const FEATURES_WITH_VERIFY = Buffer.from(
  `06044233000607044233000712044233001213044233001301044233000a`.replace(/\s/g, ''),
  'hex',
);
const FEATURES_WITHOUT_VERIFY = Buffer.from('120442330012', 'hex');

/** A reader whose control() answers are scripted; records every control call. */
class ScriptedReader implements CardConnection {
  readonly atr = new Uint8Array(0);
  readonly calls: { code: number; data: Uint8Array }[] = [];
  constructor(private readonly answer: (code: number, data: Uint8Array) => Promise<Uint8Array>) {}
  transmit(): Promise<Uint8Array> {
    return Promise.reject(new Error('a PIN-pad VERIFY must not go through transmit'));
  }
  reset(): Promise<void> {
    return Promise.resolve();
  }
  disconnect(): Promise<void> {
    return Promise.resolve();
  }
  control(code: number, data: Uint8Array): Promise<Uint8Array> {
    this.calls.push({ code, data: Uint8Array.from(data) });
    return this.answer(code, data);
  }
}

/** A pinpad reader: the feature list, then `sw` for VERIFY_PIN_DIRECT (`undefined`: the keypad waits forever). */
function pinPadReader(sw: string | undefined): ScriptedReader {
  return new ScriptedReader(async (code) => {
    if (code === scardCtlCode(3400, 'linux')) return FEATURES_WITH_VERIFY;
    if (code !== VERIFY_DIRECT_CODE) throw new Error(`unexpected control code ${code.toString(16)}`);
    return sw === undefined ? new Promise<Uint8Array>(() => {}) : Buffer.from(sw, 'hex');
  });
}

describe('PC/SC part 10 building blocks', () => {
  it('computes SCARD_CTL_CODE(3400) for pcsc-lite and WinSCard', () => {
    expect(scardCtlCode(3400, 'linux')).toBe(0x42000d48);
    expect(scardCtlCode(3400, 'darwin')).toBe(0x42000d48);
    expect(scardCtlCode(3400, 'win32')).toBe(0x00313520);
  });

  it('parses the feature TLV list and refuses anything else', () => {
    expect(parseFeatureList(FEATURES_WITH_VERIFY)?.get(FEATURE_VERIFY_PIN_DIRECT)).toBe(VERIFY_DIRECT_CODE);
    expect(parseFeatureList(FEATURES_WITH_VERIFY)?.size).toBe(5);
    expect(parseFeatureList(new Uint8Array(0))?.size).toBe(0);
    expect(parseFeatureList(Buffer.from('0604423300', 'hex'))).toBeUndefined();
    expect(parseFeatureList(Buffer.from('060242330006', 'hex'))).toBeUndefined();
  });

  it('builds the PIN_VERIFY_STRUCTURE of the JPKI VERIFY (00 20 00 80, 4 ASCII digits)', () => {
    const apdu = Buffer.from('002000800400000000', 'hex');
    expect(
      Buffer.from(pinVerifyStructure(apdu, { digits: 4, language: 'ja', timeoutSeconds: 120 })).toString(
        'hex',
      ),
    ).toBe(
      [
        '78', // bTimerOut 120 s
        '78', // bTimerOut2
        '82', // bmFormatString: bytes, offset 0, left, ASCII
        '04', // bmPINBlockString: 4-byte block, no length field
        '00', // bmPINLengthFormat
        '0404', // wPINMaxExtraDigit: min 4, max 4
        '02', // bEntryValidationCondition: OK key
        '01', // bNumberMessage
        '1104', // wLangId 0x0411 (Japanese), little endian
        '00', // bMsgIndex
        '000000', // bTeoPrologue
        '09000000', // ulDataLength 9, little endian
        '002000800400000000', // abData: VERIFY, P2 80 (selected PIN), Lc 4, the PIN block
      ].join(''),
    );
    expect(
      pinVerifyStructure(apdu, { digits: 4, language: 'en', timeoutSeconds: 30 }).subarray(9, 11),
    ).toEqual(Uint8Array.of(0x09, 0x04));
  });
});

describe('detectPinPad and PinPad.verify against a scripted reader', () => {
  it('finds FEATURE_VERIFY_PIN_DIRECT and verifies with one control call carrying the JPKI VERIFY', async () => {
    const reader = pinPadReader('9000');
    const pad = await detectPinPad(reader, { platform: 'linux' });
    expect(pad?.verifyPinDirectCode).toBe(VERIFY_DIRECT_CODE);
    await pad?.verify({ language: 'en' });
    expect(reader.calls.map((call) => call.code)).toEqual([0x42000d48, VERIFY_DIRECT_CODE]);
    expect(
      Buffer.from(reader.calls[1]?.data ?? [])
        .subarray(19)
        .toString('hex'),
    ).toBe('002000800400000000');
  });

  it('uses the WinSCard control code on Windows', async () => {
    const reader = new ScriptedReader(async () => FEATURES_WITHOUT_VERIFY);
    await detectPinPad(reader, { platform: 'win32' });
    expect(reader.calls[0]?.code).toBe(0x00313520);
  });

  it('is undefined for a reader without VERIFY_PIN_DIRECT, one refusing the request, and a backend without controls', async () => {
    expect(await detectPinPad(new ScriptedReader(async () => FEATURES_WITHOUT_VERIFY))).toBeUndefined();
    expect(await detectPinPad(new ScriptedReader(async () => Buffer.from('6a', 'hex')))).toBeUndefined();
    const refusing = new ScriptedReader(() =>
      Promise.reject(new CardError('CARD_ERROR', 'unsupported feature')),
    );
    expect(await detectPinPad(refusing)).toBeUndefined();
    const inProcess: CardConnection = {
      atr: new Uint8Array(0),
      transmit: () => Promise.reject(new Error('unused')),
      reset: () => Promise.resolve(),
      disconnect: () => Promise.resolve(),
    };
    expect(await detectPinPad(inProcess)).toBeUndefined();
  });

  it('reports a removed card during detection instead of hiding it', async () => {
    const removed = new ScriptedReader(() =>
      Promise.reject(new CardError('CARD_REMOVED', 'the card was removed')),
    );
    expect((await cardErrorOf(detectPinPad(removed))).code).toBe('CARD_REMOVED');
  });

  it('maps the card and pad answers like JpkiCard.verifyPin', async () => {
    const verifyWith = async (sw: string) => {
      const pad = await detectPinPad(pinPadReader(sw), { platform: 'linux' });
      return cardErrorOf(pad?.verify() ?? Promise.resolve());
    };
    const wrong = await verifyWith('63c2');
    expect([wrong.code, wrong.triesLeft]).toEqual(['PIN_INCORRECT', 2]);
    expect((await verifyWith('63c0')).code).toBe('PIN_BLOCKED');
    expect((await verifyWith('6983')).code).toBe('PIN_BLOCKED');
    expect((await verifyWith('6401')).code).toBe('USER_CANCELLED');
    expect((await verifyWith('6400')).code).toBe('TIMEOUT');
    expect((await verifyWith('6b80')).code).toBe('CARD_ERROR');
    expect((await verifyWith('90')).code).toBe('CARD_ERROR');
  });

  it('gives the reader the time asked for (bTimerOut), within 1..120 s', async () => {
    const timerOut = async (timeoutSeconds?: number) => {
      const reader = pinPadReader('9000');
      await (await detectPinPad(reader, { platform: 'linux' }))?.verify({ timeoutSeconds });
      return [reader.calls[1]?.data[0], reader.calls[1]?.data[1]];
    };
    expect(await timerOut()).toEqual([120, 120]);
    expect(await timerOut(47.9)).toEqual([47, 47]);
    expect(await timerOut(600)).toEqual([120, 120]);
    expect(await timerOut(0)).toEqual([1, 1]);
  });
});

describe('an ordinary reader through real pcscd + vpcd', () => {
  let backend: PcscReaderBackend;
  let connector: VpcdConnector;
  let pcscd: PcscdHandle;
  beforeAll(async () => {
    pcscd = await ensurePcscd();
    const { identity } = await aliceCard();
    const card = new VirtualJpkiCard(identity);
    connector = new VpcdConnector({
      atr: card.atr,
      reset: () => card.reset(),
      transmit: (apdu) => card.transmit(apdu),
    });
    connector.start();
    backend = new PcscReaderBackend();
    for (let i = 0; ; i++) {
      const readers = await backend.listReaders();
      if (readers.some((reader) => reader.name === VPCD_READER && reader.cardPresent)) break;
      if (i > 200)
        throw new Error(`no card in ${VPCD_READER} after 10 s (another test holding vpcd's slot?)`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  afterAll(async () => {
    connector?.stop();
    await backend?.close();
    if (pcscd?.owned) await pcscd.stop();
  });

  it('has reader controls, is no PIN pad, and the card still answers afterwards', async () => {
    const connection = await backend.connect(VPCD_READER);
    try {
      expect(typeof connection.control).toBe('function');
      expect(await detectPinPad(connection)).toBeUndefined();
      await new JpkiCard(connection).selectApplication();
    } finally {
      await connection.disconnect();
    }
  });
});

/** JpkiCard status-word mapping and certificate reading, over scripted and virtual transports. */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { JpkiFile } from '../../protocol/jpki-profile.js';
import { buildApdu, parseCommand, splitResponse } from '../../reader-helper/card/apdu.js';
import { JpkiCard } from '../../reader-helper/card/jpki-card.js';
import type { CardIdentity } from '../../reader-helper/virtual-card/identity.js';
import { VirtualJpkiCard } from '../../reader-helper/virtual-card/virtual-jpki-card.js';
import { aliceCard, cardErrorOf } from '../support/card.js';

let alice: CardIdentity;
beforeAll(async () => {
  ({ identity: alice } = await aliceCard());
});

/** A transport that answers SELECT of a file with 90 00 and everything else with `response` (hex). */
const answering = (response: string) =>
  new JpkiCard({
    transmit: async (apdu) => Buffer.from(apdu[1] === 0xa4 && apdu[2] === 0x02 ? '9000' : response, 'hex'),
  });

/** A transport to a virtual card whose extended-length answers are replaced by `answer`. */
function refusingExtended(answer: string) {
  const card = new VirtualJpkiCard(alice);
  const sent: Uint8Array[] = [];
  const jpki = new JpkiCard({
    transmit: async (apdu) => {
      sent.push(apdu);
      return parseCommand(apdu).extended ? Buffer.from(answer, 'hex') : card.transmit(apdu);
    },
  });
  return { jpki, sent };
}

describe('SELECT of the application', () => {
  it.each(['6A82', '6A86', '6D00', '6E00'])('maps %s to NOT_JPKI', async (sw) => {
    expect((await cardErrorOf(answering(sw).selectApplication())).code).toBe('NOT_JPKI');
  });
  it('maps an unexpected status word to CARD_ERROR', async () => {
    expect((await cardErrorOf(answering('6F00').selectApplication())).code).toBe('CARD_ERROR');
  });
  it('maps an answer without a status word to CARD_ERROR', async () => {
    expect((await cardErrorOf(answering('90').selectApplication())).code).toBe('CARD_ERROR');
  });
});

describe('readCertificate', () => {
  it.each(['6700', '6C00', '6F00'])('falls back to short reads when extended length gets %s', async (sw) => {
    const { jpki, sent } = refusingExtended(sw);
    await jpki.selectApplication();
    const der = await jpki.readCertificate(JpkiFile.USER_AUTH_CERTIFICATE);
    expect(Buffer.from(der).equals(Buffer.from(alice.userAuthCertificate))).toBe(true);
    const extended = sent.filter((apdu) => parseCommand(apdu).extended);
    expect(extended).toHaveLength(1);
  });
  it('refuses a file that does not start with a DER SEQUENCE', async () => {
    const card = new VirtualJpkiCard(alice);
    const jpki = new JpkiCard({ transmit: async (apdu) => card.transmit(apdu) });
    await jpki.selectApplication();
    expect((await cardErrorOf(jpki.readCertificate(JpkiFile.TOKEN_INFO))).code).toBe('CARD_ERROR');
  });
  it('reports CARD_ERROR for a missing file', async () => {
    const card = new VirtualJpkiCard(alice);
    const jpki = new JpkiCard({ transmit: async (apdu) => card.transmit(apdu) });
    expect((await cardErrorOf(jpki.readCertificate(JpkiFile.USER_AUTH_CERTIFICATE))).code).toBe('CARD_ERROR');
  });
});

describe('PIN status words', () => {
  it('reads tries left from 63 Cx and null from 90 00 (already verified)', async () => {
    expect(await answering('63C2').pinTriesLeft(JpkiFile.USER_AUTH_PIN)).toBe(2);
    expect(await answering('9000').pinTriesLeft(JpkiFile.USER_AUTH_PIN)).toBeNull();
  });
  it.each(['63C0', '6983', '6984'])('treats %s as blocked, for tries left and for VERIFY', async (sw) => {
    expect(await cardErrorOf(answering(sw).pinTriesLeft(JpkiFile.USER_AUTH_PIN))).toMatchObject({
      code: 'PIN_BLOCKED',
      triesLeft: 0,
    });
    expect(await cardErrorOf(answering(sw).verifyPin('1234'))).toMatchObject({
      code: 'PIN_BLOCKED',
      triesLeft: 0,
    });
  });
  it('maps 63 C1 after VERIFY to PIN_INCORRECT with one try left', async () => {
    expect(await cardErrorOf(answering('63C1').verifyPin('1234'))).toMatchObject({
      code: 'PIN_INCORRECT',
      triesLeft: 1,
    });
  });
  it('maps other VERIFY answers to CARD_ERROR', async () => {
    expect((await cardErrorOf(answering('6700').verifyPin('1234'))).code).toBe('CARD_ERROR');
  });
});

describe('sign', () => {
  it('maps 69 82 (PIN not verified) to CARD_ERROR', async () => {
    const card = new VirtualJpkiCard(alice);
    const jpki = new JpkiCard({ transmit: async (apdu) => card.transmit(apdu) });
    await jpki.selectApplication();
    const error = await cardErrorOf(jpki.sign(JpkiFile.USER_AUTH_KEY, Uint8Array.of(1, 2, 3)));
    expect(error).toMatchObject({ code: 'CARD_ERROR', message: 'COMPUTE DIGITAL SIGNATURE failed: 6982' });
  });
});

describe('APDU encoding', () => {
  const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex').toUpperCase();
  it('builds the four short cases', () => {
    expect(hex(buildApdu({ cla: 0, ins: 0x20, p1: 0, p2: 0x80 }))).toBe('00200080');
    expect(hex(buildApdu({ cla: 0, ins: 0xb0, p1: 0, p2: 0, ne: 256 }))).toBe('00B0000000');
    expect(hex(buildApdu({ cla: 0, ins: 0xa4, p1: 2, p2: 12, data: Uint8Array.of(0, 10) }))).toBe(
      '00A4020C02000A',
    );
    expect(hex(buildApdu({ cla: 0x80, ins: 0x2a, p1: 0, p2: 0x80, data: Uint8Array.of(1), ne: 256 }))).toBe(
      '802A00800101' + '00',
    );
  });
  it('builds extended Le and extended Lc', () => {
    expect(hex(buildApdu({ cla: 0, ins: 0xb0, p1: 1, p2: 0, ne: 1300 }))).toBe('00B00100000514');
    expect(hex(buildApdu({ cla: 0, ins: 0xb0, p1: 0, p2: 0, ne: 65_536 }))).toBe('00B00000000000');
    const long = buildApdu({ cla: 0, ins: 0x2a, p1: 0, p2: 0, data: new Uint8Array(300), ne: 512 });
    expect(hex(long.subarray(0, 7))).toBe('002A000000012C');
    expect(hex(long.subarray(-2))).toBe('0200');
  });
  it('parses what it builds', () => {
    for (const command of [
      { cla: 0, ins: 0xb0, p1: 0, p2: 0, ne: 256 },
      { cla: 0, ins: 0xb0, p1: 1, p2: 0, ne: 1300 },
      { cla: 0x80, ins: 0x2a, p1: 0, p2: 0x80, data: Uint8Array.of(1, 2), ne: 256 },
      { cla: 0, ins: 0x2a, p1: 0, p2: 0, data: new Uint8Array(300).fill(7), ne: 65_536 },
      { cla: 0, ins: 0xa4, p1: 4, p2: 12, data: Uint8Array.of(9, 9) },
    ]) {
      const parsed = parseCommand(buildApdu(command));
      expect({ ...parsed, data: hex(parsed.data) }).toMatchObject({
        ...command,
        data: hex(command.data ?? new Uint8Array(0)),
      });
    }
  });
  it('splits a response and refuses one without status word', () => {
    const { data, sw } = splitResponse(Uint8Array.of(1, 2, 0x90, 0x00));
    expect([hex(data), sw]).toEqual(['0102', 0x9000]);
    expect(() => splitResponse(Uint8Array.of(0x90))).toThrow('response without status word');
  });
});

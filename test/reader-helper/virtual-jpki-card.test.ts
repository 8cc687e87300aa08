/** The virtual JPKI card at APDU level: every status word of shared/jpki-card.md §2 and the PIN rules. */
import { createPublicKey, verify } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { challengeSignedData, sha256DigestInfo } from '../../protocol/signed-data.js';
import type { CardIdentity } from '../../reader-helper/virtual-card/identity.js';
import { TOKEN_LABEL, VirtualJpkiCard } from '../../reader-helper/virtual-card/virtual-jpki-card.js';
import { aliceCard } from '../support/card.js';
import { newNonce, ORIGIN } from '../support/dev-pki.js';

const SELECT_AP = '00A4040C0AD392F000260100000001';
const selectEf = (id: string) => `00A4020C02${id}`;
const verifyPin = (pin: string) =>
  `00200080${pin.length.toString(16).padStart(2, '0')}${Buffer.from(pin).toString('hex')}`;
const EMPTY_VERIFY = '00200080';

let identity: CardIdentity;
beforeAll(async () => {
  ({ identity } = await aliceCard());
});

/** Sends hex APDUs; returns the last response as hex (upper case). */
function send(card: VirtualJpkiCard, ...apdus: string[]): string {
  let last = '';
  for (const apdu of apdus)
    last = Buffer.from(card.transmit(Buffer.from(apdu, 'hex')))
      .toString('hex')
      .toUpperCase();
  return last;
}
const sw = (card: VirtualJpkiCard, ...apdus: string[]) => send(card, ...apdus).slice(-4);
const data = (card: VirtualJpkiCard, ...apdus: string[]) =>
  Buffer.from(send(card, ...apdus).slice(0, -4), 'hex');
const fresh = (options?: { extendedLength?: boolean }) => new VirtualJpkiCard(identity, options);
const readAt = (offset: number, le: string) => `00B0${offset.toString(16).padStart(4, '0')}${le}`;

describe('ATR', () => {
  it('is the JPKI ATR with a correct TCK (XOR of T0..TCK is 0)', () => {
    const atr = fresh().atr;
    expect(Buffer.from(atr).toString('hex').toUpperCase()).toBe('3BE000FF8131FE4514');
    expect(atr.subarray(1).reduce((x, b) => x ^ b, 0)).toBe(0);
  });
});

describe('SELECT', () => {
  it('selects the JPKI application and its files', () => {
    const card = fresh();
    expect(sw(card, SELECT_AP)).toBe('9000');
    expect(sw(card, selectEf('000A'))).toBe('9000');
  });
  it('answers 6A 82 for a file before the application is selected', () => {
    expect(sw(fresh(), selectEf('000A'))).toBe('6A82');
  });
  it('answers 6A 82 for an unknown file', () => {
    expect(sw(fresh(), SELECT_AP, selectEf('0042'))).toBe('6A82');
  });
  it('answers 6A 82 for other applications (middleware probes)', () => {
    expect(sw(fresh(), '00A4040C07A0000002471001')).toBe('6A82');
  });
  it('selects the MF by 3F00 or with no data', () => {
    expect(sw(fresh(), '00A4000C023F00')).toBe('9000');
    expect(sw(fresh(), '00A40000')).toBe('9000');
  });
  it('accepts P2 00 (FCI requested) and selects EFs with P1 00 as well', () => {
    expect(sw(fresh(), '00A404000AD392F000260100000001', '00A4000C02000A')).toBe('9000');
  });
  it('answers 6A 86 for unsupported P1 or P2', () => {
    expect(sw(fresh(), '00A4080C02000A')).toBe('6A86');
    expect(sw(fresh(), '00A404080AD392F000260100000001')).toBe('6A86');
  });
  it('answers 67 00 for a file id that is not 2 bytes', () => {
    expect(sw(fresh(), SELECT_AP, '00A4020C03000A00')).toBe('6700');
  });
});

describe('READ BINARY', () => {
  it('reads the user-auth certificate with short reads at 15-bit offsets', () => {
    const card = fresh();
    send(card, SELECT_AP, selectEf('000A'));
    const chunks: Buffer[] = [];
    for (let offset = 0; offset < identity.userAuthCertificate.length; offset += 256) {
      chunks.push(data(card, readAt(offset, '00')));
    }
    expect(Buffer.concat(chunks).equals(Buffer.from(identity.userAuthCertificate))).toBe(true);
  });
  it('reads the rest of a file with one extended-length READ BINARY', () => {
    const card = fresh();
    send(card, SELECT_AP, selectEf('000A'));
    const rest = data(card, `${readAt(256, '')}00FFFF`);
    expect(rest.equals(Buffer.from(identity.userAuthCertificate.subarray(256)))).toBe(true);
  });
  it('answers 67 00 to extended length when built without it', () => {
    expect(sw(fresh({ extendedLength: false }), SELECT_AP, selectEf('000A'), `${readAt(0, '')}000400`)).toBe(
      '6700',
    );
  });
  it('answers 6B 00 past the end of the file', () => {
    const end = identity.userAuthCertificate.length;
    expect(sw(fresh(), SELECT_AP, selectEf('000A'), readAt(end, '00'))).toBe('6B00');
  });
  it('answers 67 00 without Le', () => {
    expect(sw(fresh(), SELECT_AP, selectEf('000A'), '00B00000')).toBe('6700');
  });
  it('answers 6A 86 to short-EF addressing in P1', () => {
    expect(sw(fresh(), SELECT_AP, selectEf('000A'), '00B0810000')).toBe('6A86');
  });
  it('answers 69 86 with no file selected and 69 81 on a key or PIN file', () => {
    expect(sw(fresh(), SELECT_AP, readAt(0, '00'))).toBe('6986');
    expect(sw(fresh(), SELECT_AP, selectEf('0017'), readAt(0, '00'))).toBe('6981');
  });
  it('serves the CA certificates and the 160-byte token info without a PIN', () => {
    const card = fresh();
    expect(
      data(card, SELECT_AP, selectEf('000B'), readAt(0, '00')).equals(
        Buffer.from(identity.userAuthCaCertificate.subarray(0, 256)),
      ),
    ).toBe(true);
    expect(
      data(card, selectEf('0002'), readAt(0, '00')).equals(
        Buffer.from(identity.signingCaCertificate.subarray(0, 256)),
      ),
    ).toBe(true);
    const token = data(card, selectEf('0006'), readAt(0, '00'));
    expect(token.length).toBe(160);
    expect(token.subarray(0, TOKEN_LABEL.length).toString('latin1')).toBe('JPKIAPICCTOKEN2');
  });
  it('serves the signing certificate only after the signing PIN (69 82 before)', () => {
    const card = fresh();
    expect(sw(card, SELECT_AP, selectEf('0001'), readAt(0, '00'))).toBe('6982');
    expect(sw(card, selectEf('001B'), verifyPin(identity.signingPin))).toBe('9000');
    expect(
      data(card, selectEf('0001'), readAt(0, '00')).equals(
        Buffer.from(identity.signingCertificate.subarray(0, 256)),
      ),
    ).toBe(true);
  });
  it('does not open the signing certificate with the user-auth PIN', () => {
    expect(
      sw(fresh(), SELECT_AP, selectEf('0018'), verifyPin('1234'), selectEf('0001'), readAt(0, '00')),
    ).toBe('6982');
  });
});

describe('class, instruction and format errors', () => {
  it('answers 6E 00 to an unknown class and to a known instruction in the wrong class', () => {
    expect(sw(fresh(), '10A4040C0AD392F000260100000001')).toBe('6E00');
    expect(sw(fresh(), '80A4040C0AD392F000260100000001')).toBe('6E00');
    expect(sw(fresh(), SELECT_AP, selectEf('0017'), '002A00800330313200')).toBe('6E00');
    expect(sw(fresh(), 'FFCA000000')).toBe('6E00');
  });
  it('answers 6D 00 to an unknown instruction', () => {
    expect(sw(fresh(), '0084000008')).toBe('6D00');
    expect(sw(fresh(), '8050000000')).toBe('6D00');
  });
  it('answers 6A 88 to GET DATA probes', () => {
    expect(sw(fresh(), '00CA9F7F00')).toBe('6A88');
  });
  it('answers 67 00 to malformed APDUs', () => {
    expect(sw(fresh(), '00A404')).toBe('6700');
    expect(sw(fresh(), '00A4040C0AD392')).toBe('6700');
  });
});

describe('VERIFY', () => {
  it('reports the tries left with an empty VERIFY and counts wrong PINs down', () => {
    const card = fresh();
    expect(sw(card, SELECT_AP, selectEf('0018'), EMPTY_VERIFY)).toBe('63C3');
    expect(sw(card, verifyPin('0000'))).toBe('63C2');
    expect(sw(card, EMPTY_VERIFY)).toBe('63C2');
  });
  it('accepts the right PIN, resets the counter and then answers 90 00 to an empty VERIFY', () => {
    const card = fresh();
    send(card, SELECT_AP, selectEf('0018'), verifyPin('0000'));
    expect(sw(card, verifyPin('1234'))).toBe('9000');
    expect(sw(card, EMPTY_VERIFY)).toBe('9000');
    expect(sw(card, verifyPin('0000'))).toBe('63C2');
  });
  it('blocks after three wrong PINs: 63 C0 for the last, 69 84 afterwards (even for the right PIN)', () => {
    const card = fresh();
    send(card, SELECT_AP, selectEf('0018'));
    expect([verifyPin('0000'), verifyPin('0001'), verifyPin('0002')].map((apdu) => sw(card, apdu))).toEqual([
      '63C2',
      '63C1',
      '63C0',
    ]);
    expect(sw(card, verifyPin('1234'))).toBe('6984');
    expect(sw(card, EMPTY_VERIFY)).toBe('6984');
  });
  it('keeps a separate counter of 5 tries for the signing PIN', () => {
    const card = fresh();
    expect(sw(card, SELECT_AP, selectEf('001B'), EMPTY_VERIFY)).toBe('63C5');
    expect(sw(card, verifyPin('WRONG1'))).toBe('63C4');
    expect(sw(card, selectEf('0018'), EMPTY_VERIFY)).toBe('63C3');
  });
  it('blocks the signing PIN after five wrong ones (69 84 afterwards, even for the right one); the user-auth PIN stays usable', () => {
    const card = fresh();
    send(card, SELECT_AP, selectEf('001B'));
    const wrong = ['WRONG1', 'WRONG2', 'WRONG3', 'WRONG4', 'WRONG5'].map((pin) => sw(card, verifyPin(pin)));
    expect(wrong).toEqual(['63C4', '63C3', '63C2', '63C1', '63C0']);
    expect(sw(card, verifyPin('ABC123'))).toBe('6984');
    expect(sw(card, EMPTY_VERIFY)).toBe('6984');
    expect(sw(card, selectEf('0001'), readAt(0, '04'))).toBe('6982');
    expect(sw(card, selectEf('0018'), verifyPin('1234'))).toBe('9000');
  });
  it('refuses a PIN of the wrong format with 67 00 without spending a try', () => {
    const card = fresh();
    expect(sw(card, SELECT_AP, selectEf('0018'), verifyPin('123'))).toBe('6700');
    expect(sw(card, selectEf('001B'), verifyPin('abc123'))).toBe('6700');
    expect(sw(card, EMPTY_VERIFY)).toBe('63C5');
  });
  it('answers 6A 86 to other P1/P2 and 69 86 when no PIN file is selected', () => {
    expect(sw(fresh(), SELECT_AP, selectEf('0018'), '0020008104'.concat('31323334'))).toBe('6A86');
    expect(sw(fresh(), SELECT_AP, selectEf('000A'), EMPTY_VERIFY)).toBe('6986');
  });
});

describe('COMPUTE DIGITAL SIGNATURE', () => {
  const digestInfo = sha256DigestInfo(challengeSignedData(ORIGIN, newNonce()));
  const signApdu = (bytes: Uint8Array) =>
    `802A0080${bytes.length.toString(16).padStart(2, '0')}${Buffer.from(bytes).toString('hex')}00`;

  it('signs exactly the DigestInfo sent (PKCS#1 v1.5) after the user-auth PIN', () => {
    const nonce = newNonce();
    const signed = challengeSignedData(ORIGIN, nonce);
    const card = fresh();
    const signature = data(
      card,
      SELECT_AP,
      selectEf('0018'),
      verifyPin('1234'),
      selectEf('0017'),
      signApdu(sha256DigestInfo(signed)),
    );
    expect(signature.length).toBe(256);
    expect(verify('sha256', signed, createPublicKey(identity.userAuthKeyPem), signature)).toBe(true);
  });
  it('answers 69 82 without the PIN of that key', () => {
    expect(sw(fresh(), SELECT_AP, selectEf('0017'), signApdu(digestInfo))).toBe('6982');
    expect(
      sw(fresh(), SELECT_AP, selectEf('0018'), verifyPin('1234'), selectEf('001A'), signApdu(digestInfo)),
    ).toBe('6982');
  });
  it('signs with the signing key after the signing PIN', () => {
    const signature = data(
      fresh(),
      SELECT_AP,
      selectEf('001B'),
      verifyPin(identity.signingPin),
      selectEf('001A'),
      signApdu(digestInfo),
    );
    expect(signature.length).toBe(256);
  });
  it('answers 67 00 to an input too long for PKCS#1 padding', () => {
    const apdu = `802A0080F6${'00'.repeat(246)}00`;
    expect(sw(fresh(), SELECT_AP, selectEf('0018'), verifyPin('1234'), selectEf('0017'), apdu)).toBe('6700');
  });
  it('answers 6A 86 to other P1/P2 and 69 86 when no key file is selected', () => {
    expect(
      sw(fresh(), SELECT_AP, selectEf('0018'), verifyPin('1234'), selectEf('0017'), '802A00810130'),
    ).toBe('6A86');
    expect(sw(fresh(), SELECT_AP, selectEf('0018'), verifyPin('1234'), signApdu(digestInfo))).toBe('6986');
  });
});

describe('reset and counters', () => {
  it('forgets verified PINs and the selection on reset, but keeps the try counters', () => {
    const card = fresh();
    send(card, SELECT_AP, selectEf('0018'), verifyPin('0000'));
    card.reset();
    expect(sw(card, selectEf('0018'))).toBe('6A82');
    expect(sw(card, SELECT_AP, selectEf('0018'), EMPTY_VERIFY)).toBe('63C2');
    send(card, verifyPin('1234'));
    card.reset();
    expect(sw(card, SELECT_AP, selectEf('0018'), EMPTY_VERIFY)).toBe('63C3');
  });
  it('re-selecting the application clears the security state', () => {
    expect(
      sw(fresh(), SELECT_AP, selectEf('0018'), verifyPin('1234'), SELECT_AP, selectEf('0018'), EMPTY_VERIFY),
    ).toBe('63C3');
  });
  it('counts APDUs and the time spent inside the card', () => {
    const card = fresh();
    send(card, SELECT_AP, selectEf('0018'), EMPTY_VERIFY);
    expect(card.apduCount).toBe(3);
    expect(card.busyNanos).toBeGreaterThan(0n);
    card.resetStats();
    expect([card.apduCount, card.busyNanos]).toEqual([0, 0n]);
  });
});

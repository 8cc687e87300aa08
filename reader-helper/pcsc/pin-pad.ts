/**
 * PIN-pad readers (PC/SC part 10, "IFDs with secure PIN entry"): the person types the PIN on the
 * reader's keypad and the reader builds the VERIFY itself, so the PIN never reaches this computer.
 * Detection asks the reader for its features (CM_IOCTL_GET_FEATURE_REQUEST, a TLV list of
 * control codes); FEATURE_VERIFY_PIN_DIRECT takes a PIN_VERIFY_STRUCTURE wrapping the JPKI VERIFY
 * (card protocol: reader-helper/card/jpki-card.ts). This module is the reader protocol only.
 * Reference: PC/SC Part 10 v2.02.09 §2.2 (features), §2.5.2 (PIN_VERIFY_STRUCTURE); OpenSC
 * reader-pcsc.c does the same.
 */
import { CardError } from '../card/card-error.js';
import { checkVerifyStatus, verifyCommandTemplate } from '../card/jpki-card.js';
import type { CardConnection } from '../card/reader-backend.js';

/** The function number of CM_IOCTL_GET_FEATURE_REQUEST. */
export const GET_FEATURE_REQUEST_FUNCTION = 3400;
/** Feature tag of "verify a PIN, the reader builds and sends the APDU". */
export const FEATURE_VERIFY_PIN_DIRECT = 0x06;
/** The JPKI user-authentication PIN: 4 ASCII digits (protocol/jpki-profile.ts USER_AUTH_PIN). */
export const USER_AUTH_PIN_DIGITS = 4;
/** The longest the reader waits for the keypad, in seconds (the byte bTimerOut; the PIN window's 120 s). */
export const PIN_PAD_TIMEOUT_SECONDS = 120;

/** Reader status words of a PIN-pad VERIFY (PC/SC part 10 §2.5.2; CCID): timeout and Cancel key. */
const SW_PAD_TIMEOUT = 0x6400;
const SW_PAD_CANCELLED = 0x6401;

/**
 * SCARD_CTL_CODE(code) as the platform's PC/SC defines it: pcsc-lite (Linux, BSD, macOS)
 * 0x42000000 + code; WinSCard CTL_CODE(FILE_DEVICE_SMARTCARD, code, METHOD_BUFFERED, FILE_ANY_ACCESS).
 */
export function scardCtlCode(code: number, platform: NodeJS.Platform = process.platform): number {
  return platform === 'win32' ? (0x31 << 16) | (code << 2) : 0x42000000 + code;
}

/**
 * The feature list of CM_IOCTL_GET_FEATURE_REQUEST: tag, length 4, control code (big endian),
 * repeated. Undefined when the answer is not such a list.
 */
export function parseFeatureList(tlv: Uint8Array): Map<number, number> | undefined {
  const features = new Map<number, number>();
  let offset = 0;
  while (offset < tlv.length) {
    if (offset + 6 > tlv.length || tlv[offset + 1] !== 4) return undefined;
    const view = new DataView(tlv.buffer, tlv.byteOffset + offset + 2, 4);
    features.set(tlv[offset] as number, view.getUint32(0, false));
    offset += 6;
  }
  return features;
}

/** PIN_VERIFY_STRUCTURE (little-endian fields) for a fixed-length ASCII PIN placed at the start of `apdu`'s data. */
export function pinVerifyStructure(
  apdu: Uint8Array,
  options: { readonly digits: number; readonly language: 'ja' | 'en'; readonly timeoutSeconds: number },
): Uint8Array {
  const header = new Uint8Array(19);
  const view = new DataView(header.buffer);
  header[0] = options.timeoutSeconds; // bTimerOut
  header[1] = options.timeoutSeconds; // bTimerOut2
  header[2] = 0x82; // bmFormatString: units of bytes, PIN at offset 0 of the data, left justified, ASCII
  header[3] = options.digits; // bmPINBlockString: no length field, PIN block of `digits` bytes
  header[4] = 0x00; // bmPINLengthFormat: no PIN length written
  view.setUint16(5, (options.digits << 8) | options.digits, true); // wPINMaxExtraDigit: min XX, max YY
  header[7] = 0x02; // bEntryValidationCondition: the keypad's OK key
  header[8] = 0x01; // bNumberMessage: one message ("enter PIN")
  view.setUint16(9, options.language === 'ja' ? 0x0411 : 0x0409, true); // wLangId
  header[11] = 0x00; // bMsgIndex
  // bTeoPrologue[3] (12..14) stays 0: T=1 prologue is the reader's business
  view.setUint32(15, apdu.length, true); // ulDataLength
  const structure = new Uint8Array(header.length + apdu.length);
  structure.set(header);
  structure.set(apdu, header.length);
  return structure;
}

/** A reader with a keypad that verifies the JPKI user-authentication PIN itself. */
export interface PinPad {
  /** The control code of FEATURE_VERIFY_PIN_DIRECT this reader announced. */
  readonly verifyPinDirectCode: number;
  /**
   * Has the person type the PIN on the keypad and the reader VERIFY it against the currently
   * selected PIN file. Throws CardError like JpkiCard.verifyPin (PIN_INCORRECT with triesLeft,
   * PIN_BLOCKED), USER_CANCELLED on the keypad's Cancel key, TIMEOUT when nobody typed within
   * `timeoutSeconds` (the reader's own timer, bTimerOut; at most {@link PIN_PAD_TIMEOUT_SECONDS}).
   * Nothing on this computer can end the reader's wait: the call returns only when the reader
   * answers (the keypad stays live until then, and a PIN typed meanwhile is VERIFYed).
   */
  verify(options?: { readonly language?: 'ja' | 'en'; readonly timeoutSeconds?: number }): Promise<void>;
}

/**
 * The PIN pad of `connection`'s reader, or undefined when the backend has no reader controls (the
 * in-process virtual reader), the reader does not answer the feature request (an ordinary reader,
 * vpcd) or it lacks FEATURE_VERIFY_PIN_DIRECT.
 */
export async function detectPinPad(
  connection: CardConnection,
  options: { readonly platform?: NodeJS.Platform } = {},
): Promise<PinPad | undefined> {
  const control = connection.control?.bind(connection);
  if (control === undefined) return undefined;
  let answer: Uint8Array;
  try {
    answer = await control(scardCtlCode(GET_FEATURE_REQUEST_FUNCTION, options.platform), new Uint8Array(0));
  } catch (error) {
    if (error instanceof CardError && error.code === 'CARD_REMOVED') throw error;
    return undefined;
  }
  const verifyPinDirectCode = parseFeatureList(answer)?.get(FEATURE_VERIFY_PIN_DIRECT);
  if (verifyPinDirectCode === undefined) return undefined;
  return {
    verifyPinDirectCode,
    async verify(verifyOptions = {}) {
      const seconds = Math.floor(verifyOptions.timeoutSeconds ?? PIN_PAD_TIMEOUT_SECONDS);
      const structure = pinVerifyStructure(verifyCommandTemplate(USER_AUTH_PIN_DIGITS), {
        digits: USER_AUTH_PIN_DIGITS,
        language: verifyOptions.language ?? 'ja',
        timeoutSeconds: Math.min(Math.max(seconds, 1), PIN_PAD_TIMEOUT_SECONDS),
      });
      const response = await control(verifyPinDirectCode, structure);
      if (response.length < 2)
        throw new CardError('CARD_ERROR', 'the PIN pad answered without a status word');
      const sw = ((response[response.length - 2] as number) << 8) | (response[response.length - 1] as number);
      if (sw === SW_PAD_CANCELLED)
        throw new CardError('USER_CANCELLED', 'the Cancel key of the PIN pad was pressed');
      if (sw === SW_PAD_TIMEOUT)
        throw new CardError('TIMEOUT', 'nobody typed the PIN on the PIN pad in time');
      checkVerifyStatus(sw);
    },
  };
}

/**
 * The JPKI card protocol (shared/jpki-card.md §2), written once over an APDU transport: select
 * the JPKI application and its files, read a certificate sized from its DER header, query PIN
 * tries, verify a PIN and compute a signature. Status words become CardErrors with stable codes.
 */
import { DerError, readHeader, Tag } from '../../protocol/der.js';
import { JPKI_AID } from '../../protocol/jpki-profile.js';
import {
  buildApdu,
  type CommandApdu,
  EXTENDED_MAX_NE,
  type ResponseApdu,
  SHORT_MAX_NE,
  SW,
  SW1_WARNING_COUNTER,
  splitResponse,
  swHex,
} from './apdu.js';
import { CardError } from './card-error.js';

/** Instruction bytes the protocol uses. */
export const Ins = {
  SELECT: 0xa4,
  READ_BINARY: 0xb0,
  VERIFY: 0x20,
  COMPUTE_DIGITAL_SIGNATURE: 0x2a,
} as const;

/** SELECT P1: by DF name (AID), by EF identifier under the current DF. P2 0C: no FCI returned. */
export const SelectP1 = { BY_FILE_ID: 0x00, EF_UNDER_DF: 0x02, BY_NAME: 0x04 } as const;
export const SELECT_P2_NO_FCI = 0x0c;
/** P2 of VERIFY and P2 of COMPUTE DIGITAL SIGNATURE: the key/PIN of the selected EF. */
export const P2_SELECTED_REFERENCE = 0x80;
/** The class byte of the proprietary COMPUTE DIGITAL SIGNATURE. */
export const CLA_PROPRIETARY = 0x80;
/** READ BINARY offsets are 15 bits. */
export const MAX_FILE_OFFSET = 0x7fff;

/** Status words with which a card says "no such application": the card is not a JPKI card. */
const NOT_JPKI_STATUS: ReadonlySet<number> = new Set([
  SW.FILE_NOT_FOUND,
  SW.WRONG_P1P2,
  SW.INS_NOT_SUPPORTED,
  SW.CLA_NOT_SUPPORTED,
  SW.REFERENCE_NOT_FOUND,
]);
const BLOCKED_STATUS: ReadonlySet<number> = new Set([SW.AUTH_METHOD_BLOCKED, SW.REFERENCE_DATA_UNUSABLE]);

/** Anything that sends one APDU and returns the response bytes (a CardConnection qualifies). */
export interface ApduTransport {
  transmit(apdu: Uint8Array): Promise<Uint8Array>;
}

/** The JPKI application on one card, reached through `transport`. */
export class JpkiCard {
  constructor(private readonly transport: ApduTransport) {}

  /** Selects the JPKI application; NOT_JPKI when the card has none. */
  async selectApplication(): Promise<void> {
    const { sw } = await this.send({
      cla: 0x00,
      ins: Ins.SELECT,
      p1: SelectP1.BY_NAME,
      p2: SELECT_P2_NO_FCI,
      data: JPKI_AID,
    });
    if (sw === SW.OK) return;
    if (NOT_JPKI_STATUS.has(sw)) throw new CardError('NOT_JPKI', 'the card has no JPKI application');
    throw unexpected('SELECT AP', sw);
  }

  /** Selects an elementary file of the JPKI application. */
  async selectFile(file: number): Promise<void> {
    const { sw } = await this.send({
      cla: 0x00,
      ins: Ins.SELECT,
      p1: SelectP1.EF_UNDER_DF,
      p2: SELECT_P2_NO_FCI,
      data: Uint8Array.of(file >> 8, file & 0xff),
    });
    if (sw !== SW.OK) throw unexpected(`SELECT EF ${file.toString(16).padStart(4, '0')}`, sw);
  }

  /**
   * Selects `file` and reads the DER certificate in it: one short READ BINARY for the header,
   * then the rest with one extended-length READ BINARY, falling back to 256-byte reads when the
   * card or reader refuses extended length.
   */
  async readCertificate(file: number): Promise<Uint8Array> {
    await this.selectFile(file);
    const first = await this.readBinary(0, SHORT_MAX_NE);
    if (first.sw !== SW.OK) throw unexpected('READ BINARY', first.sw);
    const total = certificateLength(first.data);
    const out = new Uint8Array(total);
    let have = Math.min(first.data.length, total);
    out.set(first.data.subarray(0, have));
    if (have < total) {
      const rest = await this.readBinary(have, Math.min(total - have, EXTENDED_MAX_NE));
      if (rest.sw === SW.OK && rest.data.length > 0) {
        const take = Math.min(rest.data.length, total - have);
        out.set(rest.data.subarray(0, take), have);
        have += take;
      }
    }
    while (have < total) {
      const chunk = await this.readBinary(have, Math.min(total - have, SHORT_MAX_NE));
      if ((chunk.sw !== SW.OK && chunk.sw !== SW.END_OF_FILE) || chunk.data.length === 0) {
        throw unexpected('READ BINARY', chunk.sw);
      }
      const take = Math.min(chunk.data.length, total - have);
      out.set(chunk.data.subarray(0, take), have);
      have += take;
    }
    return out;
  }

  /**
   * Selects the PIN file and asks how many tries are left (empty VERIFY). Returns null when the
   * card answers 90 00 (PIN already verified in this session; the counter is then full).
   */
  async pinTriesLeft(pinFile: number): Promise<number | null> {
    await this.selectFile(pinFile);
    const { sw } = await this.send(verifyCommand(new Uint8Array(0)));
    if (sw === SW.OK) return null;
    if (BLOCKED_STATUS.has(sw)) throw blocked();
    const tries = triesFrom(sw);
    if (tries === undefined) throw unexpected('VERIFY (tries left)', sw);
    if (tries === 0) throw blocked();
    return tries;
  }

  /**
   * Verifies `pin` against the currently selected PIN file. PIN_INCORRECT with the tries left,
   * PIN_BLOCKED when none are left. The PIN never appears in an error.
   */
  async verifyPin(pin: string): Promise<void> {
    const { sw } = await this.send(verifyCommand(Buffer.from(pin, 'ascii')));
    checkVerifyStatus(sw);
  }

  /** Selects `keyFile` and has the card sign `digestInfo` (PKCS#1 v1.5 type 1 applied by the card). */
  async sign(keyFile: number, digestInfo: Uint8Array): Promise<Uint8Array> {
    await this.selectFile(keyFile);
    const { data, sw } = await this.send({
      cla: CLA_PROPRIETARY,
      ins: Ins.COMPUTE_DIGITAL_SIGNATURE,
      p1: 0x00,
      p2: P2_SELECTED_REFERENCE,
      data: digestInfo,
      ne: SHORT_MAX_NE,
    });
    if (sw !== SW.OK || data.length === 0) throw unexpected('COMPUTE DIGITAL SIGNATURE', sw);
    return Uint8Array.from(data);
  }

  private readBinary(offset: number, ne: number): Promise<ResponseApdu> {
    return this.send({ cla: 0x00, ins: Ins.READ_BINARY, p1: offset >> 8, p2: offset & 0xff, ne });
  }

  private async send(command: CommandApdu): Promise<ResponseApdu> {
    const response = await this.transport.transmit(buildApdu(command));
    if (response.length < 2) throw new CardError('CARD_ERROR', 'the card answered without a status word');
    return splitResponse(response);
  }
}

/** The total size of the DER element starting at the beginning of `head` (a certificate). */
function certificateLength(head: Uint8Array): number {
  try {
    const { tag, headerLength, length } = readHeader(head, 0);
    const total = headerLength + length;
    if (tag !== Tag.SEQUENCE || total > MAX_FILE_OFFSET + 1) throw new DerError('not a certificate');
    return total;
  } catch (error) {
    if (error instanceof DerError) {
      throw new CardError('CARD_ERROR', 'the certificate file does not hold a certificate', { cause: error });
    }
    throw error;
  }
}

/**
 * The VERIFY command for the selected PIN file with `pinLength` placeholder bytes, for a PIN-pad
 * reader that writes the PIN typed on its keypad over them (reader-helper/pcsc/pin-pad.ts).
 */
export function verifyCommandTemplate(pinLength: number): Uint8Array {
  return buildApdu(verifyCommand(new Uint8Array(pinLength)));
}

/**
 * The card's answer to VERIFY: returns on 90 00; PIN_INCORRECT with the tries left, PIN_BLOCKED
 * when none are left, CARD_ERROR otherwise. The PIN never appears in an error.
 */
export function checkVerifyStatus(sw: number): void {
  if (sw === SW.OK) return;
  if (BLOCKED_STATUS.has(sw)) throw blocked();
  const tries = triesFrom(sw);
  if (tries === 0) throw blocked();
  if (tries !== undefined) {
    throw new CardError('PIN_INCORRECT', `wrong PIN, ${tries} tries left`, { triesLeft: tries });
  }
  throw unexpected('VERIFY', sw);
}

function verifyCommand(data: Uint8Array): CommandApdu {
  return { cla: 0x00, ins: Ins.VERIFY, p1: 0x00, p2: P2_SELECTED_REFERENCE, data };
}

/** x of 63 Cx, or undefined for any other status word. */
function triesFrom(sw: number): number | undefined {
  return sw >> 8 === SW1_WARNING_COUNTER && (sw & 0xf0) === 0xc0 ? sw & 0x0f : undefined;
}

function blocked(): CardError {
  return new CardError('PIN_BLOCKED', 'the PIN is blocked', { triesLeft: 0 });
}

function unexpected(command: string, sw: number): CardError {
  return new CardError('CARD_ERROR', `${command} failed: ${swHex(sw)}`);
}

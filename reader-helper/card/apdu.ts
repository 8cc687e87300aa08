/**
 * ISO 7816-4 command and response APDUs: building commands (short and extended length), parsing
 * them back (for the virtual card) and splitting responses into data and status word.
 */

/** Status words (SW1 SW2 as one number) used by the JPKI protocol and the virtual card. */
export const SW = {
  OK: 0x9000,
  END_OF_FILE: 0x6282,
  WRONG_LENGTH: 0x6700,
  INCOMPATIBLE_FILE: 0x6981,
  SECURITY_NOT_SATISFIED: 0x6982,
  AUTH_METHOD_BLOCKED: 0x6983,
  REFERENCE_DATA_UNUSABLE: 0x6984,
  NO_CURRENT_EF: 0x6986,
  FILE_NOT_FOUND: 0x6a82,
  WRONG_P1P2: 0x6a86,
  REFERENCE_NOT_FOUND: 0x6a88,
  WRONG_OFFSET: 0x6b00,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
} as const;

/** SW1 of "wrong Le; SW2 gives the exact length". */
export const SW1_WRONG_LE = 0x6c;
/** SW1 of "verification failed; low nibble of SW2 = tries left" (63 Cx). */
export const SW1_WARNING_COUNTER = 0x63;

/** Largest Ne of a short APDU (Le = 00) and of an extended one (Le = 00 00). */
export const SHORT_MAX_NE = 256;
export const EXTENDED_MAX_NE = 65_536;

/** A command APDU. `ne` is the number of response bytes expected (absent: no Le field). */
export interface CommandApdu {
  readonly cla: number;
  readonly ins: number;
  readonly p1: number;
  readonly p2: number;
  readonly data?: Uint8Array;
  readonly ne?: number;
}

/** A parsed command APDU as a card sees it. */
export interface ParsedCommand extends CommandApdu {
  readonly data: Uint8Array;
  readonly extended: boolean;
}

/** A response APDU: data and status word. */
export interface ResponseApdu {
  readonly data: Uint8Array;
  readonly sw: number;
}

/** Raised for bytes that are not a well-formed APDU. */
export class ApduError extends Error {
  override name = 'ApduError';
}

/**
 * Encodes a command; uses extended length (ISO 7816-4 §5.1) only when the data exceeds 255 bytes
 * or more than 256 response bytes are expected.
 */
export function buildApdu(command: CommandApdu): Uint8Array {
  const data = command.data ?? new Uint8Array(0);
  const ne = command.ne;
  if (data.length > 65_535) throw new ApduError('command data too long');
  if (ne !== undefined && (ne < 1 || ne > EXTENDED_MAX_NE)) throw new ApduError('Ne out of range');
  const extended = data.length > 255 || (ne !== undefined && ne > SHORT_MAX_NE);
  const bytes: number[] = [command.cla, command.ins, command.p1, command.p2];
  if (data.length > 0) {
    if (extended) bytes.push(0, data.length >> 8, data.length & 0xff);
    else bytes.push(data.length);
    bytes.push(...data);
  }
  if (ne !== undefined) {
    if (!extended) bytes.push(ne & 0xff);
    else {
      if (data.length === 0) bytes.push(0);
      bytes.push((ne >> 8) & 0xff, ne & 0xff);
    }
  }
  return Uint8Array.from(bytes);
}

/** Decodes a command APDU (cases 1–4, short or extended); throws ApduError when malformed. */
export function parseCommand(apdu: Uint8Array): ParsedCommand {
  if (apdu.length < 4) throw new ApduError('APDU shorter than its header');
  const [cla, ins, p1, p2] = apdu as unknown as [number, number, number, number];
  const body = apdu.subarray(4);
  const header = { cla, ins, p1, p2 };
  if (body.length === 0) return { ...header, data: new Uint8Array(0), extended: false };
  const first = body[0] as number;
  if (body.length === 1)
    return { ...header, data: new Uint8Array(0), ne: first || SHORT_MAX_NE, extended: false };
  if (first !== 0 || body.length === 2) {
    // Short: Lc data [Le]
    const end = 1 + first;
    if (first === 0 || (body.length !== end && body.length !== end + 1)) throw new ApduError('bad short Lc');
    const data = body.subarray(1, end);
    if (body.length === end) return { ...header, data, extended: false };
    return { ...header, data, ne: (body[end] as number) || SHORT_MAX_NE, extended: false };
  }
  const word = (at: number) => ((body[at] as number) << 8) | (body[at + 1] as number) || EXTENDED_MAX_NE;
  if (body.length === 3) return { ...header, data: new Uint8Array(0), ne: word(1), extended: true };
  const lc = ((body[1] as number) << 8) | (body[2] as number);
  const end = 3 + lc;
  if (lc === 0 || (body.length !== end && body.length !== end + 2)) throw new ApduError('bad extended Lc');
  const data = body.subarray(3, end);
  if (body.length === end) return { ...header, data, extended: true };
  return { ...header, data, ne: word(end), extended: true };
}

/** Splits a response into data and SW1 SW2; throws ApduError when it has no status word. */
export function splitResponse(response: Uint8Array): ResponseApdu {
  if (response.length < 2) throw new ApduError('response without status word');
  const end = response.length - 2;
  return {
    data: response.subarray(0, end),
    sw: ((response[end] as number) << 8) | (response[end + 1] as number),
  };
}

/** Encodes a response: data followed by the status word. */
export function encodeResponse(sw: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(data.length + 2);
  out.set(data);
  out[data.length] = sw >> 8;
  out[data.length + 1] = sw & 0xff;
  return out;
}

/** The status word as four hex digits, for messages and logs. */
export function swHex(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}

/**
 * A software JPKI card that answers APDU bytes as a physical MyNumber card does (shared/jpki-card.md
 * §2): the JPKI application with its certificate, key, PIN and token-info files, per-PIN try
 * counters, PIN-gated signing and signing-certificate reads, and ISO status words for everything
 * else. DEVELOPMENT ONLY: keys and PINs are held in memory in clear.
 */
import { constants, createPrivateKey, type KeyObject, privateEncrypt } from 'node:crypto';
import {
  JPKI_AID,
  JpkiFile,
  type JpkiKeyRef,
  type JpkiPinRule,
  SIGNING_KEY,
  USER_AUTH_KEY,
} from '../../protocol/jpki-profile.js';
import {
  ApduError,
  encodeResponse,
  type ParsedCommand,
  parseCommand,
  SW,
  SW1_WARNING_COUNTER,
} from '../card/apdu.js';
import {
  CLA_PROPRIETARY,
  Ins,
  MAX_FILE_OFFSET,
  P2_SELECTED_REFERENCE,
  SELECT_P2_NO_FCI,
  SelectP1,
} from '../card/jpki-card.js';
import type { CardIdentity } from './identity.js';

/** ATR OpenSC matches for JPKI cards; its last byte (14) is the correct TCK. */
export const VIRTUAL_CARD_ATR = Uint8Array.from([0x3b, 0xe0, 0x00, 0xff, 0x81, 0x31, 0xfe, 0x45, 0x14]);
/** Label at the start of the token-info EF of physical cards. */
export const TOKEN_LABEL = 'JPKIAPICCTOKEN2';
const TOKEN_INFO_BYTES = 160;
const INS_GET_DATA = 0xca;
const MASTER_FILE_ID = Uint8Array.of(0x3f, 0x00);
/** PKCS#1 v1.5 type-1 padding needs 11 bytes of a 256-byte block. */
const MAX_SIGN_INPUT = 256 - 11;

/** One PIN with its retry counter (the counter survives resets; the verified flag does not). */
class Pin {
  private triesLeft: number;
  verified = false;

  constructor(
    private readonly value: Buffer,
    private readonly rule: JpkiPinRule,
  ) {
    this.triesLeft = rule.maxTries;
  }

  /** The answer to an empty VERIFY. */
  status(): number {
    if (this.triesLeft === 0) return SW.REFERENCE_DATA_UNUSABLE;
    return this.verified ? SW.OK : counterSw(this.triesLeft);
  }

  /** Checks `candidate`; wrong lengths/characters are refused without spending a try. */
  verify(candidate: Uint8Array): number {
    if (this.triesLeft === 0) return SW.REFERENCE_DATA_UNUSABLE;
    if (!this.rule.pattern.test(Buffer.from(candidate).toString('latin1'))) return SW.WRONG_LENGTH;
    if (Buffer.from(candidate).equals(this.value)) {
      this.triesLeft = this.rule.maxTries;
      this.verified = true;
      return SW.OK;
    }
    this.verified = false;
    this.triesLeft -= 1;
    return counterSw(this.triesLeft);
  }
}

type CardFile =
  | { readonly kind: 'binary'; readonly data: Uint8Array; readonly readPin?: Pin }
  | { readonly kind: 'pin'; readonly pin: Pin }
  | { readonly kind: 'key'; readonly key: KeyObject; readonly pin: Pin };

/** Options of a virtual card. */
export interface VirtualCardOptions {
  /** Accept extended-length APDUs (default true); false answers them 67 00 like some cards. */
  readonly extendedLength?: boolean;
}

/** A virtual JPKI card. Call `transmit` with command APDU bytes; it returns the response bytes. */
export class VirtualJpkiCard {
  /** The answer-to-reset. */
  readonly atr: Uint8Array = VIRTUAL_CARD_ATR;
  /** APDUs processed since construction or `resetStats()`. */
  apduCount = 0;
  /** Nanoseconds spent inside `transmit` since construction or `resetStats()`. */
  busyNanos = 0n;
  private readonly files: ReadonlyMap<number, CardFile>;
  private readonly pins: readonly Pin[];
  private readonly extendedLength: boolean;
  private applicationSelected = false;
  private currentFile: CardFile | undefined;

  constructor(identity: CardIdentity, options: VirtualCardOptions = {}) {
    this.extendedLength = options.extendedLength ?? true;
    const userAuthPin = new Pin(Buffer.from(identity.userAuthPin, 'latin1'), USER_AUTH_KEY.pin);
    const signingPin = new Pin(Buffer.from(identity.signingPin, 'latin1'), SIGNING_KEY.pin);
    this.pins = [userAuthPin, signingPin];
    const tokenInfo = new Uint8Array(TOKEN_INFO_BYTES);
    tokenInfo.fill(0x20, 0, 32).set(Buffer.from(TOKEN_LABEL, 'latin1'));
    this.files = new Map<number, CardFile>([
      ...keyFiles(USER_AUTH_KEY, userAuthPin, {
        certificate: identity.userAuthCertificate,
        caCertificate: identity.userAuthCaCertificate,
        keyPem: identity.userAuthKeyPem,
      }),
      ...keyFiles(SIGNING_KEY, signingPin, {
        certificate: identity.signingCertificate,
        caCertificate: identity.signingCaCertificate,
        keyPem: identity.signingKeyPem,
      }),
      [JpkiFile.TOKEN_INFO, { kind: 'binary', data: tokenInfo }],
    ]);
  }

  /** Power-on or reset: forgets verified PINs and the selection; try counters persist. */
  reset(): void {
    this.applicationSelected = false;
    this.currentFile = undefined;
    this.clearSecurityState();
  }

  /** Zeroes `apduCount` and `busyNanos`. */
  resetStats(): void {
    this.apduCount = 0;
    this.busyNanos = 0n;
  }

  /** Executes one command APDU and returns the response (data + SW1 SW2). */
  transmit(apdu: Uint8Array): Uint8Array {
    const start = process.hrtime.bigint();
    this.apduCount += 1;
    try {
      return this.execute(apdu);
    } finally {
      this.busyNanos += process.hrtime.bigint() - start;
    }
  }

  private execute(apdu: Uint8Array): Uint8Array {
    let command: ParsedCommand;
    try {
      command = parseCommand(apdu);
    } catch (error) {
      if (error instanceof ApduError) return encodeResponse(SW.WRONG_LENGTH);
      throw error;
    }
    if (command.extended && !this.extendedLength) return encodeResponse(SW.WRONG_LENGTH);
    if (command.cla === 0x00) {
      switch (command.ins) {
        case Ins.SELECT:
          return encodeResponse(this.select(command));
        case Ins.READ_BINARY:
          return this.readBinary(command);
        case Ins.VERIFY:
          return encodeResponse(this.verify(command));
        case INS_GET_DATA:
          return encodeResponse(SW.REFERENCE_NOT_FOUND);
        case Ins.COMPUTE_DIGITAL_SIGNATURE:
          return encodeResponse(SW.CLA_NOT_SUPPORTED);
      }
      return encodeResponse(SW.INS_NOT_SUPPORTED);
    }
    if (command.cla === CLA_PROPRIETARY) {
      if (command.ins === Ins.COMPUTE_DIGITAL_SIGNATURE) return this.sign(command);
      const known: readonly number[] = [Ins.SELECT, Ins.READ_BINARY, Ins.VERIFY, INS_GET_DATA];
      return encodeResponse(known.includes(command.ins) ? SW.CLA_NOT_SUPPORTED : SW.INS_NOT_SUPPORTED);
    }
    return encodeResponse(SW.CLA_NOT_SUPPORTED);
  }

  private select(command: ParsedCommand): number {
    if (command.p2 !== SELECT_P2_NO_FCI && command.p2 !== 0x00 && command.p2 !== 0x04) return SW.WRONG_P1P2;
    const { data } = command;
    if (command.p1 === SelectP1.BY_NAME) {
      if (!Buffer.from(data).equals(JPKI_AID)) return SW.FILE_NOT_FOUND;
      this.enterDf(true);
      return SW.OK;
    }
    if (
      command.p1 === SelectP1.BY_FILE_ID &&
      (data.length === 0 || Buffer.from(data).equals(MASTER_FILE_ID))
    ) {
      this.enterDf(false);
      return SW.OK;
    }
    if (command.p1 !== SelectP1.BY_FILE_ID && command.p1 !== SelectP1.EF_UNDER_DF) return SW.WRONG_P1P2;
    if (data.length !== 2) return SW.WRONG_LENGTH;
    const file = this.applicationSelected
      ? this.files.get(((data[0] as number) << 8) | (data[1] as number))
      : undefined;
    if (!file) return SW.FILE_NOT_FOUND;
    this.currentFile = file;
    return SW.OK;
  }

  private readBinary(command: ParsedCommand): Uint8Array {
    if (command.p1 & 0x80) return encodeResponse(SW.WRONG_P1P2);
    if (command.ne === undefined || command.data.length > 0) return encodeResponse(SW.WRONG_LENGTH);
    const file = this.currentFile;
    if (!file) return encodeResponse(SW.NO_CURRENT_EF);
    if (file.kind !== 'binary') return encodeResponse(SW.INCOMPATIBLE_FILE);
    if (file.readPin && !file.readPin.verified) return encodeResponse(SW.SECURITY_NOT_SATISFIED);
    const offset = ((command.p1 << 8) | command.p2) & MAX_FILE_OFFSET;
    if (offset >= file.data.length) return encodeResponse(SW.WRONG_OFFSET);
    return encodeResponse(SW.OK, file.data.subarray(offset, offset + command.ne));
  }

  private verify(command: ParsedCommand): number {
    if (command.p1 !== 0x00 || command.p2 !== P2_SELECTED_REFERENCE) return SW.WRONG_P1P2;
    const file = this.currentFile;
    if (file?.kind !== 'pin') return SW.NO_CURRENT_EF;
    return command.data.length === 0 ? file.pin.status() : file.pin.verify(command.data);
  }

  private sign(command: ParsedCommand): Uint8Array {
    if (command.p1 !== 0x00 || command.p2 !== P2_SELECTED_REFERENCE) return encodeResponse(SW.WRONG_P1P2);
    const file = this.currentFile;
    if (file?.kind !== 'key') return encodeResponse(SW.NO_CURRENT_EF);
    if (command.data.length === 0 || command.data.length > MAX_SIGN_INPUT)
      return encodeResponse(SW.WRONG_LENGTH);
    if (!file.pin.verified) return encodeResponse(SW.SECURITY_NOT_SATISFIED);
    const signature = privateEncrypt({ key: file.key, padding: constants.RSA_PKCS1_PADDING }, command.data);
    return encodeResponse(SW.OK, signature);
  }

  /** Selecting a DF (the JPKI AP or the MF) clears the selected EF and the security state. */
  private enterDf(application: boolean): void {
    this.applicationSelected = application;
    this.currentFile = undefined;
    this.clearSecurityState();
  }

  private clearSecurityState(): void {
    for (const pin of this.pins) pin.verified = false;
  }
}

/** The four files of one key pair as the profile lays them out: certificate, CA certificate, key, PIN. */
function keyFiles(
  ref: JpkiKeyRef,
  pin: Pin,
  contents: { readonly certificate: Uint8Array; readonly caCertificate: Uint8Array; readonly keyPem: string },
): [number, CardFile][] {
  return [
    [
      ref.certificateFile,
      { kind: 'binary', data: contents.certificate, ...(ref.certificateNeedsPin ? { readPin: pin } : {}) },
    ],
    [ref.caCertificateFile, { kind: 'binary', data: contents.caCertificate }],
    [ref.keyFile, { kind: 'key', key: createPrivateKey(contents.keyPem), pin }],
    [ref.pin.file, { kind: 'pin', pin }],
  ];
}

function counterSw(triesLeft: number): number {
  return (SW1_WARNING_COUNTER << 8) | 0xc0 | triesLeft;
}

/**
 * The JPKI card profile in one place (on the model of OpenSC's `pkcs15-jpki.c` beside the
 * protocol in `card-jpki.c`; shared/jpki-card.md §2): the application identifier, the elementary
 * files, the two PINs with their formats and try counters, and which key each PIN guards. The
 * helper's card protocol, the virtual card and the helper's message types all read it from here.
 */

/** The JPKI application identifier (DF name). */
export const JPKI_AID = Uint8Array.from([0xd3, 0x92, 0xf0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01]);

/** Elementary files of the JPKI application (selected with SELECT P1=02 under the AP). */
export const JpkiFile = {
  SIGNING_CERTIFICATE: 0x0001,
  SIGNING_CA_CERTIFICATE: 0x0002,
  TOKEN_INFO: 0x0006,
  USER_AUTH_CERTIFICATE: 0x000a,
  USER_AUTH_CA_CERTIFICATE: 0x000b,
  USER_AUTH_KEY: 0x0017,
  USER_AUTH_PIN: 0x0018,
  SIGNING_KEY: 0x001a,
  SIGNING_PIN: 0x001b,
} as const;

/** One PIN of the card: its file, its format and how many wrong tries block it. */
export interface JpkiPinRule {
  /** The PIN's EF (select it, then VERIFY with P2 = 80). */
  readonly file: number;
  /** The whole PIN as the card accepts it (ASCII). */
  readonly pattern: RegExp;
  /** Wrong tries before the card blocks the PIN (unblocking needs the municipal office). */
  readonly maxTries: number;
  /** The format in words, for error messages. */
  readonly description: string;
}

/** The user-authentication PIN: 4 digits, 3 tries. */
export const USER_AUTH_PIN: JpkiPinRule = {
  file: JpkiFile.USER_AUTH_PIN,
  pattern: /^[0-9]{4}$/,
  maxTries: 3,
  description: '4 digits',
};

/** The signing PIN: 6 to 16 uppercase letters and digits, 5 tries. */
export const SIGNING_PIN: JpkiPinRule = {
  file: JpkiFile.SIGNING_PIN,
  pattern: /^[A-Z0-9]{6,16}$/,
  maxTries: 5,
  description: '6 to 16 uppercase letters and digits',
};

/** A key pair of the card: the key EF (COMPUTE DIGITAL SIGNATURE after selecting it), its certificates, its PIN. */
export interface JpkiKeyRef {
  readonly keyFile: number;
  readonly certificateFile: number;
  readonly caCertificateFile: number;
  readonly pin: JpkiPinRule;
  /** Whether reading the certificate needs the PIN verified first. */
  readonly certificateNeedsPin: boolean;
}

/** The user-authentication key: what a login signs with. */
export const USER_AUTH_KEY: JpkiKeyRef = {
  keyFile: JpkiFile.USER_AUTH_KEY,
  certificateFile: JpkiFile.USER_AUTH_CERTIFICATE,
  caCertificateFile: JpkiFile.USER_AUTH_CA_CERTIFICATE,
  pin: USER_AUTH_PIN,
  certificateNeedsPin: false,
};

/** The signing key (electronic signatures; never used by a login). */
export const SIGNING_KEY: JpkiKeyRef = {
  keyFile: JpkiFile.SIGNING_KEY,
  certificateFile: JpkiFile.SIGNING_CERTIFICATE,
  caCertificateFile: JpkiFile.SIGNING_CA_CERTIFICATE,
  pin: SIGNING_PIN,
  certificateNeedsPin: true,
};

/**
 * The card operations the daemon offers, over any ReaderBackend: which readers hold which kind of
 * card, and two operations of one card session each, run by the same steps (read the user-auth
 * certificate, check the tries left, have the person enter the PIN in the helper's own window — a
 * {@link PinEntry} — or on the reader's keypad, verify it, sign):
 *
 * - a login ({@link CardService.authenticate}): the user-auth PIN, the user-auth key signs
 *   challengeSignedData;
 * - an identity verification ({@link CardService.verifyIdentity}): the signing password, then the
 *   signing certificate (readable only after it) is read and the signing key signs
 *   identitySignedData. The password is always typed into the helper's window, also on a PIN-pad
 *   reader: it holds letters, which a reader's numeric keypad cannot type.
 *
 * One operation at a time. While the same card stays inserted its connection, its user-auth
 * certificate and whether its reader has a PIN pad are kept (a repeat login costs 6 APDUs); the
 * signing certificate, which holds personal data, is never kept. After every operation the card is
 * reset, so the PIN it verified cannot be used by any other program sharing the reader.
 * A PIN only passes from the PIN window to VERIFY: never stored, logged or put in a message.
 */
import type { CardState, HelperLanguage, ProgressStep, ReaderInfo } from '../../protocol/helper-protocol.js';
import { type JpkiKeyRef, SIGNING_KEY, USER_AUTH_KEY } from '../../protocol/jpki-profile.js';
import {
  challengeSignedData,
  identitySignedData,
  isValidNonce,
  sha256DigestInfo,
} from '../../protocol/signed-data.js';
import { detectPinPad, type PinPad } from '../pcsc/pin-pad.js';
import {
  PIN_ENTRY_TIMEOUT_MS,
  type PinEntry,
  PinEntryError,
  type PinRequest,
  type PinSecret,
} from '../pin-entry/pin-entry.js';
import { CardError } from './card-error.js';
import { type ApduTransport, JpkiCard } from './jpki-card.js';
import type { BackendReader, CardConnection, ReaderBackend } from './reader-backend.js';

/** What a login or an identity verification needs besides the card. */
export interface AuthenticateInput {
  /** The origin the signature is for (the page's), bound into the signed data and shown in the PIN window. */
  readonly origin: string;
  /** The OP's challenge nonce (base64url, 43–128 chars). */
  readonly nonce: string;
  /** The language of the PIN window. */
  readonly language: HelperLanguage;
  /** Where the person enters the PIN (and sees the PIN-pad notice). */
  readonly pinEntry: PinEntry;
  /**
   * Aborts the PIN window and the operation between APDUs; a CardError reason (TIMEOUT, CANCELLED)
   * gives the error code.
   */
  readonly signal: AbortSignal;
  /**
   * Told when the person's turn starts (`pin-entry`: the PIN window opens; `pin-pad`: the keypad
   * waits; with the tries left) and when the card's turn starts again (`signing`: the PIN was right).
   */
  readonly onProgress?: (step: ProgressStep, triesLeft?: number) => void;
  /** The person's time on a PIN-pad reader: the last-try confirmation and the keypad (default PIN_ENTRY_TIMEOUT_MS). */
  readonly personTimeMs?: number;
}

/** A login answer: the user-auth certificate (DER) and the signature over the challenge. */
export interface AuthenticateResult {
  readonly certificate: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * An identity verification's answer, read in one card session: both certificates (DER) and the
 * signing key's signature over identitySignedData(origin, nonce).
 */
export interface VerifyIdentityResult {
  readonly userAuthCertificate: Uint8Array;
  readonly signingCertificate: Uint8Array;
  readonly signature: Uint8Array;
}

/** What distinguishes the two card operations; everything else they share. */
interface KeyOperation {
  readonly purpose: PinRequest['purpose'];
  readonly secret: PinSecret;
  /** The key that signs, its PIN and its certificate. */
  readonly key: JpkiKeyRef;
  readonly signedData: (origin: string, nonce: string) => Uint8Array;
  /** Whether a reader's keypad may take the PIN (digits only: not the signing password). */
  readonly pinPadAllowed: boolean;
}

const SIGN_IN: KeyOperation = {
  purpose: 'sign-in',
  secret: 'user-auth-pin',
  key: USER_AUTH_KEY,
  signedData: challengeSignedData,
  pinPadAllowed: true,
};

const VERIFY_IDENTITY: KeyOperation = {
  purpose: 'verify-identity',
  secret: 'signing-password',
  key: SIGNING_KEY,
  signedData: identitySignedData,
  pinPadAllowed: false,
};

/** What one operation read and signed. */
interface KeyOperationResult {
  readonly userAuthCertificate: Uint8Array;
  /** The certificate of the key that signed (the user-auth one for a login). */
  readonly keyCertificate: Uint8Array;
  readonly signature: Uint8Array;
}

/** What the service remembers about the card in one reader, for as long as it stays inserted. */
interface Slot {
  readonly generation: number;
  readonly connection: CardConnection;
  state: CardState;
  applicationSelected: boolean;
  certificate: Uint8Array | undefined;
  /** Whether the card's reader has a PIN pad, asked once per insertion (no APDU); only a settled answer is kept. */
  pinPad: Promise<PinPad | undefined> | undefined;
}

/** Errors after which the card is still in a known state (the cached slot stays valid). */
const KEEP_SLOT: ReadonlySet<string> = new Set([
  'PIN_INCORRECT',
  'PIN_BLOCKED',
  'USER_CANCELLED',
  'PIN_ENTRY_UNAVAILABLE',
  'TIMEOUT',
  'CANCELLED',
]);

/** How long a failed command waits for the reader to report the card's removal. */
const REMOVAL_GRACE_MS = 1000;

/** Card access for the daemon. Takes ownership of the backend (close() closes it). */
export class CardService {
  private readonly slots = new Map<string, Slot>();
  private readonly listeners = new Set<(readers: ReaderInfo[]) => void>();
  private readonly unsubscribe: () => void;
  private queue: Promise<unknown> = Promise.resolve();
  private busy = false;
  private updateQueued = false;
  private lastReported = '';
  private closed = false;

  constructor(private readonly backend: ReaderBackend) {
    this.unsubscribe = backend.onChange(() => this.backendChanged());
  }

  /** True when the readers can hold only a virtual card (see {@link ReaderBackend.virtual}). */
  get virtual(): boolean {
    return this.backend.virtual;
  }

  /**
   * The readers and the kind of card in each. A newly inserted card is probed once (SELECT of the
   * JPKI application); during a login the last known states are returned without touching cards.
   */
  async readers(): Promise<ReaderInfo[]> {
    if (this.busy) return this.describe(await this.backend.listReaders());
    return this.exclusive(() => this.refresh());
  }

  /** Calls `listener` with the new reader list whenever it changes; returns an unsubscribe function. */
  onChange(listener: (readers: ReaderInfo[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Signs SHA-256(origin) ‖ SHA-256(nonce) with the card's user-authentication key and returns
   * it with the certificate. Checks the nonce and origin before touching any card, refuses a
   * second concurrent call (BUSY), queries the tries left first (none: PIN_BLOCKED, and no PIN
   * window), then asks the person for the PIN once — before the last try the helper's own window
   * asks for confirmation first, on a PIN-pad reader too — and never retries a PIN.
   */
  async authenticate(input: AuthenticateInput): Promise<AuthenticateResult> {
    const { userAuthCertificate, signature } = await this.operate(input, SIGN_IN);
    return { certificate: userAuthCertificate, signature };
  }

  /**
   * Reads the user-auth certificate, then — after the signing password in the helper's own window
   * (purpose `verify-identity`: it says the site's sign-in service reads name, address, date of
   * birth and gender from the signing certificate) — reads the signing certificate and signs
   * identitySignedData(origin, nonce) with the signing key. Checks, tries left, the last-try
   * confirmation and BUSY as {@link authenticate}; nothing is retried.
   */
  async verifyIdentity(input: AuthenticateInput): Promise<VerifyIdentityResult> {
    const { userAuthCertificate, keyCertificate, signature } = await this.operate(input, VERIFY_IDENTITY);
    return { userAuthCertificate, signingCertificate: keyCertificate, signature };
  }

  /** One operation: checks the input before touching any card, then runs it alone (else BUSY). */
  private async operate(input: AuthenticateInput, operation: KeyOperation): Promise<KeyOperationResult> {
    if (!isValidNonce(input.nonce))
      throw new CardError('BAD_REQUEST', 'the nonce must be base64url, 43-128 chars');
    let digestInfo: Uint8Array;
    try {
      digestInfo = sha256DigestInfo(operation.signedData(input.origin, input.nonce));
    } catch (error) {
      throw new CardError('BAD_REQUEST', 'the origin is not a web origin', { cause: error });
    }
    if (this.busy) throw new CardError('BUSY', 'another card operation is in progress');
    if (this.closed) throw new CardError('CANCELLED', 'the card service is closed');
    this.busy = true;
    try {
      return await this.exclusive(() => this.session(input, operation, digestInfo));
    } finally {
      this.busy = false;
    }
  }

  /** Stops watching, disconnects from every card and closes the backend. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.listeners.clear();
    await this.exclusive(async () => {
      for (const name of [...this.slots.keys()]) await this.drop(name);
    });
    await this.backend.close();
  }

  private async session(
    input: AuthenticateInput,
    operation: KeyOperation,
    digestInfo: Uint8Array,
  ): Promise<KeyOperationResult> {
    const { signal } = input;
    checkAborted(signal);
    const name = this.pickReader(await this.refreshSlots());
    const slot = this.slots.get(name) as Slot;
    const transport: ApduTransport = {
      transmit: (apdu) => {
        checkAborted(signal);
        return slot.connection.transmit(apdu);
      },
    };
    const card = new JpkiCard(transport);
    try {
      if (!slot.applicationSelected) {
        await card.selectApplication();
        slot.applicationSelected = true;
      }
      slot.certificate ??= await card.readCertificate(USER_AUTH_KEY.certificateFile);
      const userAuthCertificate = slot.certificate;
      const { key } = operation;
      // null: the card says the PIN is verified already (its counter is then full).
      const triesLeft = (await card.pinTriesLeft(key.pin.file)) ?? key.pin.maxTries;
      await this.enterPin(card, name, slot, input, operation, triesLeft);
      input.onProgress?.('signing');
      // Read after the PIN (the signing certificate's file needs it), and never kept.
      const keyCertificate =
        key === USER_AUTH_KEY ? userAuthCertificate : await card.readCertificate(key.certificateFile);
      const signature = await card.sign(key.keyFile, digestInfo);
      await this.forgetPin(slot);
      return { userAuthCertificate, keyCertificate, signature };
    } catch (error) {
      await this.forgetPin(slot).catch(() => undefined);
      throw await this.failure(name, slot, error);
    }
  }

  /**
   * The person's turn, for `input.origin`: on a PIN-pad reader the keypad (with the helper's
   * notice window) when the operation's PIN can be typed there, else the helper's PIN window and
   * then VERIFY (the PIN file is selected). Either closes when `input.signal` aborts or the card
   * leaves the reader (CARD_REMOVED).
   */
  private async enterPin(
    card: JpkiCard,
    name: string,
    slot: Slot,
    input: AuthenticateInput,
    operation: KeyOperation,
    triesLeft: number,
  ): Promise<void> {
    const pad = operation.pinPadAllowed ? await pinPadOf(slot) : undefined;
    const watch = this.watchRemoval(name, slot.generation, input.signal);
    const request: PinRequest = {
      origin: input.origin,
      purpose: operation.purpose,
      secret: operation.secret,
      triesLeft,
      language: input.language,
      signal: watch.signal,
    };
    try {
      if (pad) return await this.verifyOnPad(pad, request, input);
      input.onProgress?.('pin-entry', triesLeft);
      const pin = await input.pinEntry.requestPin(request).catch((error: unknown) => {
        throw pinEntryFailure(error, watch.signal);
      });
      checkAborted(watch.signal);
      if (!operation.key.pin.pattern.test(pin)) {
        throw new CardError('PIN_ENTRY_UNAVAILABLE', 'the PIN window returned a PIN of the wrong format');
      }
      await card.verifyPin(pin);
    } finally {
      watch.stop();
    }
  }

  /**
   * The PIN pad VERIFYs against the selected PIN file while the helper's notice says where to type.
   * Before the last try the helper's own window asks first (the keypad cannot say it is the last
   * try); declined, no VERIFY is sent. The confirmation and the keypad share one time budget
   * (`input.personTimeMs`): the reader's timer (bTimerOut) gets what is left of it.
   * Nothing here can end the reader's wait, so the operation never stops before the reader answers:
   * cancelled meanwhile (the notice's Cancel — USER_CANCELLED —, the page, a timeout), the notice
   * stays open and asks for the keypad's Cancel key; once the reader answers, a wrong PIN typed
   * meanwhile is still reported (PIN_INCORRECT, PIN_BLOCKED), anything else as the cancel, and
   * a verified PIN is not used (the caller resets the card).
   */
  private async verifyOnPad(pad: PinPad, request: PinRequest, input: AuthenticateInput): Promise<void> {
    const deadline = performance.now() + (input.personTimeMs ?? PIN_ENTRY_TIMEOUT_MS);
    input.onProgress?.('pin-pad', request.triesLeft);
    if (request.triesLeft === 1) {
      await input.pinEntry.confirmLastTry(request).catch((error: unknown) => {
        throw pinEntryFailure(error, request.signal);
      });
      checkAborted(request.signal);
    }
    const timeoutSeconds = Math.round((deadline - performance.now()) / 1000);
    if (timeoutSeconds < 1) throw new CardError('TIMEOUT', 'no time was left for the PIN pad');
    // The notices live as long as the reader waits: not closed by the operation's signal.
    const shown = new AbortController();
    const noticeRequest: PinRequest = { ...request, signal: shown.signal };
    const dismissed = new AbortController();
    let notice = input.pinEntry.showPinPadNotice(noticeRequest);
    void notice.cancelled.then(() =>
      dismissed.abort(new CardError('USER_CANCELLED', 'the person cancelled the PIN-pad entry')),
    );
    const signal = AbortSignal.any([request.signal, dismissed.signal]);
    const askForCancelKey = (): void => {
      const removed = signal.reason instanceof CardError && signal.reason.code === 'CARD_REMOVED';
      if (shown.signal.aborted || removed) return;
      notice.close();
      notice = input.pinEntry.showPinPadNotice(noticeRequest, { cancelling: true });
    };
    signal.addEventListener('abort', askForCancelKey, { once: true });
    try {
      await pad.verify({ language: input.language, timeoutSeconds });
    } catch (error) {
      const cardSaid =
        error instanceof CardError && (error.code === 'PIN_INCORRECT' || error.code === 'PIN_BLOCKED');
      throw signal.aborted && !cardSaid ? abortError(signal) : error;
    } finally {
      signal.removeEventListener('abort', askForCancelKey);
      shown.abort();
      notice.close();
    }
    checkAborted(signal);
  }

  /**
   * A signal that aborts with `signal` or, with CARD_REMOVED, as soon as the backend reports that
   * the card of `generation` left `name` (the person pulled it while the PIN window was open).
   */
  private watchRemoval(
    name: string,
    generation: number,
    signal: AbortSignal,
  ): { readonly signal: AbortSignal; stop(): void } {
    const removed = new AbortController();
    const check = async () => {
      if (await this.cardGone(name, generation)) {
        removed.abort(new CardError('CARD_REMOVED', 'the card was removed'));
      }
    };
    const unsubscribe = this.backend.onChange(() => void check());
    return { signal: AbortSignal.any([signal, removed.signal]), stop: unsubscribe };
  }

  /** Resets the card so its security state (a verified PIN) does not outlive this operation. */
  private async forgetPin(slot: Slot): Promise<void> {
    slot.applicationSelected = false;
    await slot.connection.reset();
  }

  /** Turns a failure into a CardError and forgets the slot unless the card state is still known. */
  private async failure(name: string, slot: Slot, error: unknown): Promise<CardError> {
    if (error instanceof CardError && KEEP_SLOT.has(error.code)) return error;
    await this.drop(name);
    if (error instanceof CardError && error.code !== 'CARD_ERROR') return error;
    if (await this.cardLeaves(name, slot.generation)) {
      return new CardError('CARD_REMOVED', 'the card was removed', { cause: error });
    }
    return error instanceof CardError
      ? error
      : new CardError('CARD_ERROR', 'the card did not answer', { cause: error });
  }

  /**
   * True when the backend reports, within REMOVAL_GRACE_MS, that the card of `generation` left
   * `name`: a card pulled mid-command often fails the command before the reader reports removal.
   */
  private cardLeaves(name: string, generation: number): Promise<boolean> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (left: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        unsubscribe();
        resolve(left);
      };
      const check = async () => {
        if (await this.cardGone(name, generation)) finish(true);
      };
      const timer = setTimeout(() => finish(false), REMOVAL_GRACE_MS);
      const unsubscribe = this.backend.onChange(() => void check());
      void check();
    });
  }

  /** True when the backend no longer sees the card of `generation` in `name`. */
  private async cardGone(name: string, generation: number): Promise<boolean> {
    const readers = await this.backend.listReaders().catch(() => []);
    const reader = readers.find((candidate) => candidate.name === name);
    return !reader?.cardPresent || reader.cardGeneration !== generation;
  }

  private pickReader(readers: readonly BackendReader[]): string {
    if (readers.length === 0) throw new CardError('NO_READER', 'no card reader is connected');
    const withCard = readers.filter((reader) => this.slots.has(reader.name));
    if (withCard.length === 0) throw new CardError('NO_CARD', 'no card in the reader');
    const jpki = withCard.find((reader) => this.slots.get(reader.name)?.state === 'jpki');
    if (jpki) return jpki.name;
    if (withCard.some((reader) => this.slots.get(reader.name)?.state === 'unknown')) {
      throw new CardError('CARD_ERROR', 'the card could not be read');
    }
    throw new CardError('NOT_JPKI', 'the card is not a MyNumber card');
  }

  private async refresh(): Promise<ReaderInfo[]> {
    return this.describe(await this.refreshSlots());
  }

  /** Lists readers, forgets cards that left, connects to and probes cards that arrived. */
  private async refreshSlots(): Promise<BackendReader[]> {
    const readers = await this.backend.listReaders();
    for (const [name, slot] of this.slots) {
      const reader = readers.find((candidate) => candidate.name === name);
      if (!reader?.cardPresent || reader.cardGeneration !== slot.generation) await this.drop(name);
    }
    for (const reader of readers) {
      if (reader.cardPresent && !this.slots.has(reader.name)) await this.probe(reader);
    }
    return readers;
  }

  /** Connects to a new card and tries SELECT of the JPKI application (leaving it selected). */
  private async probe(reader: BackendReader): Promise<void> {
    let connection: CardConnection;
    try {
      connection = await this.backend.connect(reader.name);
    } catch {
      return; // 'unknown' until the next change: the card may be mute or held exclusively
    }
    const slot: Slot = {
      generation: reader.cardGeneration,
      connection,
      state: 'unknown',
      applicationSelected: false,
      certificate: undefined,
      pinPad: undefined,
    };
    this.slots.set(reader.name, slot);
    try {
      await new JpkiCard(connection).selectApplication();
      slot.state = 'jpki';
      slot.applicationSelected = true;
    } catch (error) {
      if (error instanceof CardError && error.code === 'NOT_JPKI') slot.state = 'not-jpki';
      else await this.drop(reader.name);
    }
  }

  private describe(readers: readonly BackendReader[]): ReaderInfo[] {
    return readers.map((reader) => {
      const slot = this.slots.get(reader.name);
      const fresh = slot !== undefined && slot.generation === reader.cardGeneration;
      const card: CardState = !reader.cardPresent ? 'absent' : fresh ? slot.state : 'unknown';
      return { name: reader.name, card };
    });
  }

  private async drop(name: string): Promise<void> {
    const slot = this.slots.get(name);
    if (!slot) return;
    this.slots.delete(name);
    await slot.connection.disconnect();
  }

  /** Coalesces change notifications into one refresh, then tells listeners if anything changed. */
  private backendChanged(): void {
    if (this.updateQueued || this.closed) return;
    this.updateQueued = true;
    void this.exclusive(async () => {
      this.updateQueued = false;
      if (this.closed) return;
      const readers = await this.refresh();
      const text = JSON.stringify(readers);
      if (text === this.lastReported) return;
      this.lastReported = text;
      for (const listener of this.listeners) listener(readers);
    }).catch(() => undefined);
  }

  /** Runs `task` after every earlier one: card I/O is strictly sequential. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/**
 * Whether the slot's reader has a PIN pad, asked once per insertion: a detection that failed
 * (CARD_REMOVED while asking) is not kept, so the next login asks again.
 */
function pinPadOf(slot: Slot): Promise<PinPad | undefined> {
  slot.pinPad ??= detectPinPad(slot.connection).catch((error: unknown) => {
    slot.pinPad = undefined;
    throw error;
  });
  return slot.pinPad;
}

/** A PinEntryError as a CardError: the abort's own reason when `signal` ended the window. */
function pinEntryFailure(error: unknown, signal: AbortSignal): CardError {
  if (signal.aborted) return abortError(signal);
  if (error instanceof PinEntryError) return new CardError(error.code, error.message, { cause: error });
  return new CardError('PIN_ENTRY_UNAVAILABLE', 'the PIN window failed', { cause: error });
}

/** Throws the abort reason as a CardError when `signal` has aborted. */
function checkAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortError(signal);
}

/** The abort reason as a CardError (TIMEOUT/CANCELLED from the daemon; CANCELLED otherwise). */
function abortError(signal: AbortSignal): CardError {
  const reason: unknown = signal.reason;
  if (reason instanceof CardError) return new CardError(reason.code, reason.message, { cause: reason });
  return new CardError('CANCELLED', 'the operation was cancelled', { cause: reason });
}

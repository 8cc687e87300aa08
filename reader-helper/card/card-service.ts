/**
 * The card operations the daemon offers, over any ReaderBackend: which readers hold which kind of
 * card, and one login (read certificate, check tries, verify the PIN, sign the challenge). One
 * operation at a time. While the same card stays inserted its connection and its certificate are
 * kept (a repeat login costs 6 APDUs); after every login the card is reset, so the PIN it verified
 * cannot be used by any other program sharing the reader.
 * The PIN is only ever passed along as an argument: never stored, logged or put in a message.
 */
import type { CardState, ReaderInfo } from '../../protocol/helper-protocol.js';
import { USER_AUTH_KEY, USER_AUTH_PIN } from '../../protocol/jpki-profile.js';
import { challengeSignedData, isValidNonce, sha256DigestInfo } from '../../protocol/signed-data.js';
import { CardError } from './card-error.js';
import { type ApduTransport, JpkiCard } from './jpki-card.js';
import type { BackendReader, CardConnection, ReaderBackend } from './reader-backend.js';

/** What a login needs besides the card. */
export interface AuthenticateInput {
  /** The origin of the page (from the WebSocket upgrade), bound into the signed data. */
  readonly origin: string;
  /** The OP's challenge nonce (base64url, 43–128 chars). */
  readonly nonce: string;
  /** The user-authentication PIN (4 digits). */
  readonly pin: string;
  /** Must be true to spend the last PIN try. */
  readonly confirmLastTry: boolean;
  /** Aborts between APDUs; a CardError reason (TIMEOUT, CANCELLED) gives the error code. */
  readonly signal: AbortSignal;
}

/** A login answer: the user-auth certificate (DER) and the signature over the challenge. */
export interface AuthenticateResult {
  readonly certificate: Uint8Array;
  readonly signature: Uint8Array;
}

/** What the service remembers about the card in one reader, for as long as it stays inserted. */
interface Slot {
  readonly generation: number;
  readonly connection: CardConnection;
  state: CardState;
  applicationSelected: boolean;
  certificate: Uint8Array | undefined;
}

/** Errors after which the card is still in a known state (the cached slot stays valid). */
const KEEP_SLOT: ReadonlySet<string> = new Set([
  'PIN_INCORRECT',
  'PIN_BLOCKED',
  'LAST_TRY',
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
   * it with the certificate. Checks the PIN format and the nonce before touching any card, refuses
   * a second concurrent call (BUSY), queries the tries left before VERIFY and refuses the last try
   * unless `confirmLastTry` (LAST_TRY). Never retries a PIN.
   */
  async authenticate(input: AuthenticateInput): Promise<AuthenticateResult> {
    if (!USER_AUTH_PIN.pattern.test(input.pin)) {
      throw new CardError('PIN_FORMAT', `the PIN must be ${USER_AUTH_PIN.description}`);
    }
    if (!isValidNonce(input.nonce))
      throw new CardError('BAD_REQUEST', 'the nonce must be base64url, 43-128 chars');
    let digestInfo: Uint8Array;
    try {
      digestInfo = sha256DigestInfo(challengeSignedData(input.origin, input.nonce));
    } catch (error) {
      throw new CardError('BAD_REQUEST', 'the origin is not a web origin', { cause: error });
    }
    if (this.busy) throw new CardError('BUSY', 'another card operation is in progress');
    if (this.closed) throw new CardError('CANCELLED', 'the card service is closed');
    this.busy = true;
    try {
      return await this.exclusive(() => this.login(input, digestInfo));
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

  private async login(input: AuthenticateInput, digestInfo: Uint8Array): Promise<AuthenticateResult> {
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
      const triesLeft = await card.pinTriesLeft(USER_AUTH_KEY.pin.file);
      if (triesLeft === 1 && !input.confirmLastTry) {
        throw new CardError('LAST_TRY', 'one PIN try left: confirm to use it', { triesLeft: 1 });
      }
      await card.verifyPin(input.pin);
      const signature = await card.sign(USER_AUTH_KEY.keyFile, digestInfo);
      await this.forgetPin(slot);
      return { certificate: slot.certificate, signature };
    } catch (error) {
      await this.forgetPin(slot).catch(() => undefined);
      throw await this.failure(name, slot, error);
    }
  }

  /** Resets the card so its security state (a verified PIN) does not outlive this login. */
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
        const readers = await this.backend.listReaders().catch(() => []);
        const reader = readers.find((candidate) => candidate.name === name);
        if (!reader?.cardPresent || reader.cardGeneration !== generation) finish(true);
      };
      const timer = setTimeout(() => finish(false), REMOVAL_GRACE_MS);
      const unsubscribe = this.backend.onChange(() => void check());
      void check();
    });
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

/** Throws the abort reason as a CardError (TIMEOUT/CANCELLED from the daemon; CANCELLED otherwise). */
function checkAborted(signal: AbortSignal): void {
  if (!signal.aborted) return;
  const reason: unknown = signal.reason;
  if (reason instanceof CardError) throw new CardError(reason.code, reason.message, { cause: reason });
  throw new CardError('CANCELLED', 'the operation was cancelled', { cause: reason });
}

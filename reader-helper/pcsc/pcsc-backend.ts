/**
 * Real readers through PC/SC (pcsc-lite, WinSCard) with the `smartcard` N-API binding's low-level
 * Context API. Two contexts: one only waits for reader/card changes, the other lists readers,
 * connects and transmits (pcsc-lite serialises calls per context, so a pending wait would stall
 * transmits). When pcscd stops, both contexts are dead for good: every card counts as removed and
 * new contexts are created once the service is back.
 */
import {
  type CardInterface,
  Context,
  type ContextInterface,
  type ReaderState,
  SCARD_LEAVE_CARD,
  SCARD_PROTOCOL_T0,
  SCARD_PROTOCOL_T1,
  SCARD_RESET_CARD,
  SCARD_SHARE_SHARED,
  SCARD_STATE_CHANGED,
  SCARD_STATE_PRESENT,
  SCARD_STATE_UNKNOWN,
  transmitWithAutoResponse,
} from 'smartcard';
import { CardError } from '../card/card-error.js';
import type { BackendReader, CardConnection, ReaderBackend } from '../card/reader-backend.js';
import { connectError, transmitError } from './pcsc-errors.js';

/** The pseudo-reader whose state changes when readers are attached or detached. */
const PNP_NOTIFICATION = '\\\\?PnP?\\Notification';
/** Room for an extended-length answer (65536 data bytes + SW); the default 258 is too small. */
const MAX_RECEIVE = 65_538;

/** Options of a PcscReaderBackend. */
export interface PcscBackendOptions {
  /** How often to try reaching pcscd while it is not running (ms, default 1000). */
  readonly retryMs?: number;
  /** Longest single wait for a change (ms, default 2000); each pending wait holds a libuv thread. */
  readonly waitMs?: number;
}

interface WatchedReader {
  state: number;
  generation: number;
}

/** PC/SC readers as a ReaderBackend. Starts watching at construction. */
export class PcscReaderBackend implements ReaderBackend {
  readonly virtual = false;
  private readonly readers = new Map<string, WatchedReader>();
  private readonly listeners = new Set<() => void>();
  private readonly retryMs: number;
  private readonly waitMs: number;
  private context: ContextInterface | undefined;
  private watchContext: ContextInterface | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private wakeRetry: (() => void) | undefined;
  private stopped = false;
  private generations = 0;
  private readonly running: Promise<void>;

  constructor(options: PcscBackendOptions = {}) {
    this.retryMs = options.retryMs ?? 1000;
    this.waitMs = options.waitMs ?? 2000;
    this.running = this.run();
  }

  async listReaders(): Promise<BackendReader[]> {
    return [...this.readers].map(([name, reader]) => ({
      name,
      cardPresent: (reader.state & SCARD_STATE_PRESENT) !== 0,
      cardGeneration: reader.generation,
    }));
  }

  async connect(name: string): Promise<CardConnection> {
    const context = this.context;
    if (!context) throw new CardError('NO_READER', 'the PC/SC service is not running');
    try {
      const reader = context.listReaders().find((candidate) => candidate.name === name);
      if (!reader) throw new Error('Unknown reader');
      return new PcscConnection(
        await reader.connect(SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1),
      );
    } catch (error) {
      throw connectError(error);
    }
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.listeners.clear();
    clearTimeout(this.retryTimer);
    this.wakeRetry?.();
    try {
      this.watchContext?.cancel();
    } catch {
      // the context is already dead
    }
    await this.running;
  }

  /** Connects to pcscd, watches until it goes away, and starts over until closed. */
  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        this.watchContext = new Context();
        this.context = new Context();
        await this.watch(this.watchContext, this.context);
      } catch {
        // pcscd not running or gone ('PC/SC service not running', 'Communication error', …): the
        // contexts never recover, so start over with new ones after the retry pause.
      } finally {
        this.forgetAll();
        for (const context of [this.context, this.watchContext]) closeQuietly(context);
        this.context = undefined;
        this.watchContext = undefined;
      }
      if (!this.stopped) await this.pause();
    }
  }

  private async watch(watchContext: ContextInterface, context: ContextInterface): Promise<void> {
    let pnp: ReaderState = { name: PNP_NOTIFICATION, state: 0, changed: false, atr: null };
    this.sync(context);
    while (!this.stopped) {
      const states: ReaderState[] = [...this.readers].map(([name, reader]) => ({
        name,
        state: reader.state,
        changed: false,
        atr: null,
      }));
      const changes = await watchContext.waitForChange([...states, pnp], this.waitMs);
      if (changes === null) return;
      let resync = false;
      for (const change of changes) {
        if (!change.changed) continue;
        const state = change.state & ~SCARD_STATE_CHANGED;
        if (change.name === PNP_NOTIFICATION) {
          pnp = { ...change, state };
          resync = true;
        } else if (state & SCARD_STATE_UNKNOWN) resync = true;
        else this.update(change.name, state);
      }
      if (resync) this.sync(context);
    }
  }

  /** Reconciles the reader list with pcscd's. */
  private sync(context: ContextInterface): void {
    const current = context.listReaders();
    const names = new Set(current.map((reader) => reader.name));
    let changed = false;
    for (const name of this.readers.keys()) {
      if (!names.has(name)) {
        this.readers.delete(name);
        changed = true;
      }
    }
    if (changed) this.notify();
    for (const reader of current) {
      if (!this.readers.has(reader.name)) {
        this.readers.set(reader.name, { state: 0, generation: 0 });
        this.update(reader.name, reader.state & ~SCARD_STATE_CHANGED, true);
      }
    }
  }

  /**
   * Records a reader's new state. A card counts as newly inserted when it became present or when
   * pcsc-lite's event counter (high 16 bits) moved while it stayed present (a quick swap).
   */
  private update(name: string, state: number, attached = false): void {
    const reader = this.readers.get(name);
    if (!reader) return;
    const wasPresent = (reader.state & SCARD_STATE_PRESENT) !== 0;
    const isPresent = (state & SCARD_STATE_PRESENT) !== 0;
    const swapped = wasPresent && isPresent && reader.state >>> 16 !== state >>> 16;
    const before = reader.generation;
    if (isPresent && (!wasPresent || swapped)) reader.generation = ++this.generations;
    const changed = attached || wasPresent !== isPresent || before !== reader.generation;
    reader.state = state;
    if (changed) this.notify();
  }

  private forgetAll(): void {
    if (this.readers.size === 0) return;
    this.readers.clear();
    this.notify();
  }

  private pause(): Promise<void> {
    return new Promise((resolve) => {
      this.wakeRetry = resolve;
      this.retryTimer = setTimeout(resolve, this.retryMs);
    });
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}

/** One card handle. T=0 cards get GET RESPONSE handling; T=1 answers pass through. */
class PcscConnection implements CardConnection {
  readonly atr: Uint8Array;

  constructor(private readonly card: CardInterface) {
    this.atr = new Uint8Array(card.atr ?? []);
  }

  async transmit(apdu: Uint8Array): Promise<Uint8Array> {
    try {
      return await transmitWithAutoResponse(this.card, Buffer.from(apdu), {
        maxRecvLength: MAX_RECEIVE,
        autoGetResponse: this.card.protocol === SCARD_PROTOCOL_T0,
      });
    } catch (error) {
      throw transmitError(error);
    }
  }

  async reset(): Promise<void> {
    try {
      await this.card.reconnect(SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, SCARD_RESET_CARD);
    } catch (error) {
      throw transmitError(error);
    }
  }

  async control(code: number, data: Uint8Array): Promise<Uint8Array> {
    try {
      return new Uint8Array(await this.card.control(code, Buffer.from(data)));
    } catch (error) {
      throw transmitError(error);
    }
  }

  async disconnect(): Promise<void> {
    try {
      this.card.disconnect(SCARD_LEAVE_CARD);
    } catch {
      // already disconnected, removed, or the service is gone
    }
  }
}

function closeQuietly(context: ContextInterface | undefined): void {
  try {
    context?.close();
  } catch {
    // a dead context cannot be closed
  }
}

/**
 * A ReaderBackend with virtual readers in the same process: each reader holds at most one card
 * (a VirtualJpkiCard or any other simulated card); tests and the local stack insert and remove
 * cards and the backend reports the change like a PC/SC reader would.
 */
import { CardError } from '../card/card-error.js';
import type { BackendReader, CardConnection, ReaderBackend } from '../card/reader-backend.js';

/** A card that can sit in a virtual reader. */
export interface SimulatedCard {
  readonly atr: Uint8Array;
  /** Executes one command APDU and returns data + SW1 SW2. */
  transmit(apdu: Uint8Array): Uint8Array;
  /** Power-on / reset. */
  reset(): void;
}

/** One virtual reader slot. */
export class VirtualReader {
  private current: SimulatedCard | undefined;
  private generation = 0;

  constructor(
    readonly name: string,
    private readonly changed: () => void,
  ) {}

  /** The inserted card, if any. */
  get card(): SimulatedCard | undefined {
    return this.current;
  }

  /** Insertion counter (see BackendReader.cardGeneration). */
  get cardGeneration(): number {
    return this.generation;
  }

  /** Inserts `card` (powering it on), replacing any card already there. */
  insert(card: SimulatedCard): void {
    this.current = card;
    this.generation += 1;
    card.reset();
    this.changed();
  }

  /** Removes the card: pending and later transmits on its connections reject with CARD_REMOVED. */
  remove(): void {
    if (!this.current) return;
    this.current = undefined;
    this.changed();
  }
}

/** Virtual readers as a ReaderBackend. */
export class InProcessReaderBackend implements ReaderBackend {
  readonly virtual = true;
  private readonly slots = new Map<string, VirtualReader>();
  private readonly listeners = new Set<() => void>();

  /** Creates readers with the given names (more can be added with `addReader`). */
  constructor(readerNames: readonly string[] = ['Virtual Reader 0']) {
    for (const name of readerNames) this.addReader(name);
  }

  /** Attaches a new empty reader and returns it. */
  addReader(name: string): VirtualReader {
    const reader = new VirtualReader(name, () => this.notify());
    this.slots.set(name, reader);
    this.notify();
    return reader;
  }

  /** Detaches a reader (its card counts as removed). */
  removeReader(name: string): void {
    const reader = this.slots.get(name);
    if (!reader) return;
    reader.remove();
    this.slots.delete(name);
    this.notify();
  }

  /** The reader called `name`; throws when there is none. */
  reader(name: string): VirtualReader {
    const reader = this.slots.get(name);
    if (!reader) throw new Error(`no virtual reader ${name}`);
    return reader;
  }

  async listReaders(): Promise<BackendReader[]> {
    return [...this.slots.values()].map((reader) => ({
      name: reader.name,
      cardPresent: reader.card !== undefined,
      cardGeneration: reader.cardGeneration,
    }));
  }

  async connect(name: string): Promise<CardConnection> {
    const reader = this.slots.get(name);
    if (!reader) throw new CardError('NO_READER', 'the reader is gone');
    const card = reader.card;
    if (!card) throw new CardError('NO_CARD', 'no card in the reader');
    return new InProcessConnection(reader, card, reader.cardGeneration);
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}

/** A connection to one insertion of a card; answers arrive on a later turn of the event loop. */
class InProcessConnection implements CardConnection {
  readonly atr: Uint8Array;
  private open = true;

  constructor(
    private readonly reader: VirtualReader,
    private readonly card: SimulatedCard,
    private readonly generation: number,
  ) {
    this.atr = card.atr;
  }

  transmit(apdu: Uint8Array): Promise<Uint8Array> {
    if (!this.open) return Promise.reject(new CardError('CARD_ERROR', 'the connection is closed'));
    if (!this.present()) return Promise.reject(removed());
    const response = this.card.transmit(apdu);
    return new Promise((resolve, reject) => {
      setImmediate(() => (this.present() ? resolve(response) : reject(removed())));
    });
  }

  async reset(): Promise<void> {
    if (!this.open) throw new CardError('CARD_ERROR', 'the connection is closed');
    if (!this.present()) throw removed();
    this.card.reset();
  }

  async disconnect(): Promise<void> {
    this.open = false;
  }

  private present(): boolean {
    return this.reader.card === this.card && this.reader.cardGeneration === this.generation;
  }
}

function removed(): CardError {
  return new CardError('CARD_REMOVED', 'the card was removed');
}

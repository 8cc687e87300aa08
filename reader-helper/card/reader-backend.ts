/**
 * How the helper reaches card readers: PC/SC for real readers (and the virtual card behind
 * pcscd + vpcd), or an in-process virtual reader for unit tests and the local stack.
 */

/** An open connection to the card in one reader. */
export interface CardConnection {
  /** The card's answer-to-reset. */
  readonly atr: Uint8Array;
  /** Sends one command APDU; resolves to the response data followed by SW1 SW2. */
  transmit(apdu: Uint8Array): Promise<Uint8Array>;
  /**
   * Warm-resets the card (PC/SC SCARD_RESET_CARD; no APDU): clears verified PINs and the selected
   * application, so no other program can use a PIN this helper verified.
   */
  reset(): Promise<void>;
  /**
   * Sends a control command to the reader (PC/SC SCardControl), e.g. the PC/SC part 10 feature
   * request and a PIN-pad VERIFY (reader-helper/pcsc/pin-pad.ts). Absent where the backend has
   * no reader controls (the in-process virtual reader).
   */
  control?(code: number, data: Uint8Array): Promise<Uint8Array>;
  /** Releases the connection (the card stays powered). Never throws. */
  disconnect(): Promise<void>;
}

/** A reader as the backend sees it. */
export interface BackendReader {
  readonly name: string;
  readonly cardPresent: boolean;
  /**
   * Changes whenever a card is inserted into this reader (an insertion counter), so that "the same
   * card is still inserted" can be told from "a card was swapped in between two looks".
   */
  readonly cardGeneration: number;
}

/** A source of readers and card connections. */
export interface ReaderBackend {
  /**
   * True only for readers inside this process that can hold nothing but a virtual card; PC/SC is
   * never virtual (a real card may be in any of its readers, even next to vpcd).
   */
  readonly virtual: boolean;
  /** Readers currently attached. */
  listReaders(): Promise<BackendReader[]>;
  /** Connects to the card in `reader` (shared mode, T=1 / T=CL as the card offers). */
  connect(reader: string): Promise<CardConnection>;
  /** Calls `listener` whenever a reader or card appears or disappears; returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
  /** Stops watching and releases every handle. */
  close(): Promise<void>;
}

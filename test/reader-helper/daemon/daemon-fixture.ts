/** A daemon on an ephemeral port over CardService + in-process virtual card, and a small ws client. */
import WebSocket from 'ws';
import type { HelperMessage } from '../../../protocol/helper-protocol.js';
import { CardService } from '../../../reader-helper/card/card-service.js';
import type { CardConnection, ReaderBackend } from '../../../reader-helper/card/reader-backend.js';
import { type HelperDaemon, startHelperDaemon } from '../../../reader-helper/daemon/server.js';
import { createLogger } from '../../../reader-helper/log.js';
import { cardIdentityOf } from '../../../reader-helper/virtual-card/identity.js';
import { InProcessReaderBackend } from '../../../reader-helper/virtual-card/in-process-backend.js';
import { VirtualJpkiCard } from '../../../reader-helper/virtual-card/virtual-jpki-card.js';
import { devPki, ORIGIN } from '../../support/dev-pki.js';

export const READER = 'Test Reader 0';

/**
 * Holds APDUs at a gate, to keep an operation open for exactly as long as a test needs: after
 * `hold()` every APDU waits until `release()`; `held()` resolves once one is waiting.
 */
class GatedBackend implements ReaderBackend {
  private gate: { readonly open: Promise<void>; readonly release: () => void } | undefined;
  private passing = 0;
  private waiting = 0;
  private readonly arrivals: (() => void)[] = [];

  constructor(readonly inner: InProcessReaderBackend) {}

  get virtual(): boolean {
    return this.inner.virtual;
  }

  /** Closes the gate: after `after` more APDUs, every APDU waits for `release()`. */
  hold(after = 0): void {
    this.passing = after;
    let release = () => {};
    const open = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.gate = { open, release };
  }

  /** Opens the gate: held APDUs go to the card, later ones pass straight through. */
  release(): void {
    this.gate?.release();
    this.gate = undefined;
  }

  /** Resolves when an APDU is waiting at the closed gate (the operation is under way). */
  held(): Promise<void> {
    if (this.waiting > 0) return Promise.resolve();
    return new Promise((resolve) => this.arrivals.push(resolve));
  }

  listReaders() {
    return this.inner.listReaders();
  }
  async connect(reader: string): Promise<CardConnection> {
    const connection = await this.inner.connect(reader);
    return {
      atr: connection.atr,
      transmit: async (apdu) => {
        const gate = this.gate;
        if (gate && this.passing > 0) this.passing -= 1;
        else if (gate) {
          this.waiting += 1;
          for (const arrived of this.arrivals.splice(0)) arrived();
          await gate.open;
          this.waiting -= 1;
        }
        return connection.transmit(apdu);
      },
      reset: () => connection.reset(),
      disconnect: () => connection.disconnect(),
    };
  }
  onChange(listener: () => void) {
    return this.inner.onChange(listener);
  }
  close() {
    return this.inner.close();
  }
}

export interface Fixture {
  readonly daemon: HelperDaemon;
  readonly port: number;
  readonly card: VirtualJpkiCard;
  readonly backend: GatedBackend;
  readonly logLines: string[];
  close(): Promise<void>;
}

/** Starts a daemon allowing ORIGIN, with Alice's card inserted. */
export async function startFixture(
  options: { dev?: boolean; operationTimeoutMs?: number } = {},
): Promise<Fixture> {
  const pki = await devPki();
  const inner = new InProcessReaderBackend([READER]);
  const card = new VirtualJpkiCard(cardIdentityOf(pki.identities[0] as (typeof pki.identities)[0]));
  inner.reader(READER).insert(card);
  const backend = new GatedBackend(inner);
  const cards = new CardService(backend);
  const logLines: string[] = [];
  const daemon = await startHelperDaemon({
    cards,
    port: 0,
    allowedOrigins: [ORIGIN],
    dev: options.dev ?? false,
    helperVersion: 'test',
    logger: createLogger({ level: 'debug', write: (line) => logLines.push(line), now: () => new Date(0) }),
    ...(options.operationTimeoutMs === undefined ? {} : { operationTimeoutMs: options.operationTimeoutMs }),
  });
  return {
    daemon,
    port: daemon.port,
    card,
    backend,
    logLines,
    async close() {
      await daemon.close();
      await cards.close();
    },
  };
}

/** A connected test client that queues incoming messages. */
export class Client {
  private readonly queue: HelperMessage[] = [];
  private readonly waiters: ((message: HelperMessage) => void)[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as HelperMessage;
      const waiter = this.waiters.shift();
      if (waiter) waiter(message);
      else this.queue.push(message);
    });
  }

  /** Opens a connection; rejects with the HTTP status when the upgrade is refused. */
  static open(
    port: number,
    options: { origin?: string; host?: string; address?: string } = {},
  ): Promise<Client> {
    const address = options.address ?? '127.0.0.1';
    const url = address.includes(':') ? `ws://[${address}]:${port}` : `ws://${address}:${port}`;
    const socket = new WebSocket(url, {
      ...(options.origin === undefined ? {} : { origin: options.origin }),
      headers: { host: options.host ?? `127.0.0.1:${port}` },
    });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new Client(socket)));
      socket.once('unexpected-response', (_request, response) => {
        reject(new RefusedError(response.statusCode ?? 0));
        socket.terminate();
      });
      socket.once('error', reject);
    });
  }

  /** The next message. */
  next(): Promise<HelperMessage> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The next message that is not a pushed `readers` event. */
  async nextAnswer(): Promise<HelperMessage> {
    for (;;) {
      const message = await this.next();
      if (message.type !== 'readers') return message;
    }
  }

  /** Sends `message` (JSON-encoded unless a string or Buffer) and returns the next message. */
  request(message: unknown): Promise<HelperMessage> {
    this.send(message);
    return this.next();
  }

  send(message: unknown): void {
    this.socket.send(
      typeof message === 'string' || Buffer.isBuffer(message) ? message : JSON.stringify(message),
    );
  }

  /** Resolves with the close code. */
  closed(): Promise<number> {
    return new Promise((resolve) => this.socket.once('close', (code) => resolve(code)));
  }

  close(): void {
    this.socket.close();
  }
}

/** An upgrade refused with an HTTP status. */
export class RefusedError extends Error {
  constructor(readonly status: number) {
    super(`upgrade refused: ${status}`);
  }
}

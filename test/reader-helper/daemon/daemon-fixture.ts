/**
 * A daemon on an ephemeral port over CardService + in-process virtual card, the person at the PC
 * (a ScriptedPerson answering the helper's PIN window), and a small ws client.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterEach } from '@jest/globals';
import WebSocket from 'ws';
import { verifyLogin } from '../../../functions/jpki/verify-login.js';
import {
  type CardAnswer,
  decodeCardAnswer,
  type HelperMessage,
  type ProgressEvent,
} from '../../../protocol/helper-protocol.js';
import { CardService } from '../../../reader-helper/card/card-service.js';
import type { CardConnection, ReaderBackend } from '../../../reader-helper/card/reader-backend.js';
import type { NavigationTimings } from '../../../reader-helper/daemon/navigation.js';
import { type HelperDaemon, startHelperDaemon } from '../../../reader-helper/daemon/server.js';
import { createLogger } from '../../../reader-helper/log.js';
import type { PinEntry } from '../../../reader-helper/pin-entry/pin-entry.js';
import { cardIdentityOf } from '../../../reader-helper/virtual-card/identity.js';
import { InProcessReaderBackend } from '../../../reader-helper/virtual-card/in-process-backend.js';
import { VirtualJpkiCard } from '../../../reader-helper/virtual-card/virtual-jpki-card.js';
import { devPki, ORIGIN, userAuthAnchors } from '../../support/dev-pki.js';
import { ScriptedPerson } from '../scripted-person.js';

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
  /** The person who answers the helper's PIN window (types 1234 unless scripted otherwise). */
  readonly person: ScriptedPerson;
  readonly logLines: string[];
  close(): Promise<void>;
}

/** Starts a daemon allowing ORIGIN, with Alice's card (or `options.card`) inserted. */
export async function startFixture(
  options: {
    dev?: boolean;
    cardTimeoutMs?: number;
    navigation?: Partial<NavigationTimings>;
    /** The PIN window instead of the scripted person (e.g. the real zenity window on an Xvfb). */
    pinEntry?: PinEntry;
    /** The card in the reader (default: a fresh one of Alice, the test PKI's first identity). */
    card?: VirtualJpkiCard;
  } = {},
): Promise<Fixture> {
  const pki = await devPki();
  const inner = new InProcessReaderBackend([READER]);
  const card =
    options.card ?? new VirtualJpkiCard(cardIdentityOf(pki.identities[0] as (typeof pki.identities)[0]));
  inner.reader(READER).insert(card);
  const backend = new GatedBackend(inner);
  const cards = new CardService(backend);
  const logLines: string[] = [];
  const person = new ScriptedPerson();
  const daemon = await startHelperDaemon({
    cards,
    port: 0,
    allowedOrigins: [ORIGIN],
    dev: options.dev ?? false,
    helperVersion: 'test',
    logger: createLogger({ level: 'debug', write: (line) => logLines.push(line), now: () => new Date(0) }),
    pinEntry: options.pinEntry ?? person.pinEntry,
    ...(options.cardTimeoutMs === undefined ? {} : { cardTimeoutMs: options.cardTimeoutMs }),
    ...(options.navigation === undefined ? {} : { navigation: options.navigation }),
  });
  return {
    daemon,
    port: daemon.port,
    card,
    backend,
    person,
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
  /** The `progress` events nextAnswer() passed over, in order. */
  readonly progress: ProgressEvent[] = [];

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

  /** The next message that is not a pushed `readers` or `progress` event (those go to `progress`). */
  async nextAnswer(): Promise<HelperMessage> {
    for (;;) {
      const message = await this.next();
      if (message.type === 'progress') this.progress.push(message);
      else if (message.type !== 'readers') return message;
    }
  }

  /** Sends `message` (JSON-encoded unless a string or Buffer) and returns the answer (see nextAnswer). */
  request(message: unknown): Promise<HelperMessage> {
    this.send(message);
    return this.nextAnswer();
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

/**
 * One daemon per test: `start()` starts it (stopping the previous one), `connect()` opens a
 * client that is closed after the test, `current` is the running fixture. Registers the cleanup.
 */
export function daemonPerTest() {
  let current: Fixture | undefined;
  const clients: Client[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await current?.close();
    current = undefined;
  });
  return {
    get current(): Fixture {
      if (!current) throw new Error('no daemon started in this test');
      return current;
    },
    async start(options: Parameters<typeof startFixture>[0] = {}): Promise<Fixture> {
      await current?.close();
      current = await startFixture(options);
      return current;
    },
    async connect(options: Parameters<typeof Client.open>[1] = { origin: ORIGIN }): Promise<Client> {
      const client = await Client.open(this.current.port, options);
      clients.push(client);
      return client;
    },
  };
}

/** Runs the OP's verifier over a base64url answer for (origin, nonce); revocation reported good. */
export async function verifySignedAnswer(
  answer: { readonly certificate: string; readonly signature: string },
  origin: string,
  nonce: string,
) {
  return verifyLogin(
    {
      certificate: Buffer.from(answer.certificate, 'base64url'),
      signature: Buffer.from(answer.signature, 'base64url'),
    },
    { origin, nonce },
    {
      trustAnchors: userAuthAnchors(await devPki()),
      now: new Date(),
      clockSkewSeconds: 60,
      revocation: { status: async () => ({ status: 'good' }) },
      certificateKeySecret: randomBytes(32),
    },
  );
}

/** A reply of the helper's HTTP side. */
export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** GET (or `method`) of `path` on the helper at `port`, as a program without browser headers sends it. */
export function helperGet(port: number, path: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path, method }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    request.on('error', reject);
    request.end();
  });
}

/**
 * GET `path` and follow the helper's redirects within itself (to the wait URL), as a browser
 * does; stops at a page or at a redirect that leaves the helper.
 */
export async function helperNavigate(port: number, path: string): Promise<Reply> {
  let reply = await helperGet(port, path);
  for (let hops = 0; reply.status === 303 && String(reply.headers.location).startsWith('/'); hops++) {
    if (hops > 10) throw new Error('too many redirects');
    reply = await helperGet(port, String(reply.headers.location));
  }
  return reply;
}

/** The answer a 303 carries to `returnUrl` (fails unless it redirects exactly there). */
export function redirectedAnswer(reply: Reply, returnUrl: string): CardAnswer {
  if (reply.status !== 303) throw new Error(`not a redirect: ${reply.status} ${reply.body.slice(0, 200)}`);
  const location = String(reply.headers.location);
  if (!location.startsWith(`${returnUrl}#myna-answer=`)) throw new Error(`redirected elsewhere: ${location}`);
  const answer = decodeCardAnswer(new URL(location).hash);
  if (!answer) throw new Error(`no answer in ${location}`);
  return answer;
}

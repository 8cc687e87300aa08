/**
 * The helper daemon: HTTP servers on 127.0.0.1 and ::1 (same port) that accept WebSocket
 * upgrades only after the Host and Origin checks, answer everything else with 403 without
 * upgrading, and serve a local `GET /status` for `myna-helper status`, the status page for
 * people at `GET /`, and the navigation path (`GET /authenticate…`, see navigation.ts) for
 * browsers that cannot open the WebSocket. Both paths share one card-operation slot and the
 * helper's PIN window. Reader changes are pushed to every connection. Oversize frames
 * (> MAX_MESSAGE_BYTES) close the connection with 1009. Refused upgrades and return addresses are
 * remembered (site and time) for the status page.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  MAX_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  type ReaderInfo,
  type ReadersEvent,
} from '../../protocol/helper-protocol.js';
import type { Logger } from '../log.js';
import { PIN_ENTRY_TIMEOUT_MS, type PinEntry } from '../pin-entry/pin-entry.js';
import type { DaemonContext } from './authentication.js';
import type { HelperCards } from './cards.js';
import { HELPER_PAGE_HEADERS, pageLanguage } from './helper-page.js';
import {
  NAVIGATION_ABANDON_MS,
  NAVIGATION_HOLD_MS,
  NAVIGATION_KEEP_RESULT_MS,
  NAVIGATION_PATHS,
  NavigationPath,
  type NavigationTimings,
} from './navigation.js';
import { OperationSlot } from './operation-slot.js';
import { OriginPolicy } from './origin-policy.js';
import { RefusalLog } from './refusals.js';
import { HelperSession } from './session.js';
import { renderStatusPage } from './status-page.js';
import {
  checkStatusPageRequest,
  checkStatusRequest,
  checkUpgrade,
  type RefusalReason,
  type RefusedRequest,
} from './upgrade-guard.js';

/** Default limit of the card's time in one `authenticate` (the clock stops while the person types). */
export const DEFAULT_CARD_TIMEOUT_MS = 30_000;
/** The path of the local status endpoint. */
export const STATUS_PATH = '/status';

/** How long the status page waits for PC/SC before it says the service does not answer. */
const STATUS_PAGE_READERS_MS = 3000;

/** Raised when the daemon cannot start. */
export class DaemonError extends Error {
  override name = 'DaemonError';
  constructor(
    readonly code: 'PORT_IN_USE' | 'LISTEN_FAILED' | 'DEV_NEEDS_VIRTUAL_CARD',
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

/** What `GET /status` answers. */
export interface HelperStatus {
  readonly protocolVersion: number;
  readonly helperVersion: string;
  readonly readers: readonly ReaderInfo[];
  readonly busy: boolean;
  /** The helper's PIN window: `PinEntry.kind` (zenity, kdialog, osascript, …). */
  readonly pinEntry: string;
}

export interface HelperDaemonOptions {
  readonly cards: HelperCards;
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly allowedOrigins: readonly string[];
  /** Also allow every http origin on a loopback host: only with virtual cards (else DEV_NEEDS_VIRTUAL_CARD). */
  readonly dev: boolean;
  readonly helperVersion: string;
  readonly logger: Logger;
  /** Where people enter the PIN: the helper's own window. */
  readonly pinEntry: PinEntry;
  /** Limit of the card's time in one operation (default DEFAULT_CARD_TIMEOUT_MS). */
  readonly cardTimeoutMs?: number;
  /** The navigation path's timing (default NAVIGATION_HOLD_MS, NAVIGATION_KEEP_RESULT_MS, NAVIGATION_ABANDON_MS). */
  readonly navigation?: Partial<NavigationTimings>;
}

/** A running daemon. */
export interface HelperDaemon {
  readonly port: number;
  /** ws:// URLs it listens on. */
  readonly addresses: readonly string[];
  readonly policy: OriginPolicy;
  /** The status page for people: http://127.0.0.1:PORT/. */
  readonly statusPageUrl: string;
  /** Stops listening, closes every connection (1001) and cancels the running operation. */
  close(): Promise<void>;
}

/** The loopback addresses the daemon listens on, in order; the first one fixes the port. */
const LOOPBACK_ADDRESSES = ['127.0.0.1', '::1'] as const;

/** Starts the daemon; resolves once it listens. */
export async function startHelperDaemon(options: HelperDaemonOptions): Promise<HelperDaemon> {
  const { cards, logger } = options;
  if (options.dev && !cards.virtual) {
    throw new DaemonError(
      'DEV_NEEDS_VIRTUAL_CARD',
      'development mode lets every http://localhost page use the card, so it needs the virtual card; ' +
        'with real readers, list each development origin in allowedOrigins instead',
    );
  }
  const policy = new OriginPolicy(options.allowedOrigins, options.dev);
  const slot = new OperationSlot({
    cardMs: options.cardTimeoutMs ?? DEFAULT_CARD_TIMEOUT_MS,
    personMs: PIN_ENTRY_TIMEOUT_MS,
  });
  const context: DaemonContext = {
    cards,
    slot,
    logger,
    pinEntry: options.pinEntry,
    helperVersion: options.helperVersion,
    protocolVersion: PROTOCOL_VERSION,
  };
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
  });
  const sessions = new Set<HelperSession>();
  const refusals = new RefusalLog();
  const navigation = new NavigationPath(context, policy, refusals, {
    holdMs: options.navigation?.holdMs ?? NAVIGATION_HOLD_MS,
    keepResultMs: options.navigation?.keepResultMs ?? NAVIGATION_KEEP_RESULT_MS,
    abandonMs: options.navigation?.abandonMs ?? NAVIGATION_ABANDON_MS,
  });
  let port = options.port;

  const refuse = (socket: Duplex, reason: RefusalReason, request: IncomingMessage) => {
    logger.log('warn', 'upgrade refused', {
      reason,
      host: request.headers.host?.slice(0, 100),
      origin: request.headers.origin?.slice(0, 200),
    });
    refusals.record(request.headers.origin, reason);
    socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  };

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const verdict = checkUpgrade(request.headers, port, policy);
    if (!verdict.ok) return refuse(socket, verdict.reason, request);
    wss.handleUpgrade(request, socket, head, (ws) => {
      const session = new HelperSession(ws, verdict.origin, context);
      sessions.add(session);
      ws.on('close', () => sessions.delete(session));
      logger.log('info', 'connection accepted', { origin: verdict.origin });
    });
  };

  const serveStatus = async (response: ServerResponse) => {
    const status: HelperStatus = {
      protocolVersion: PROTOCOL_VERSION,
      helperVersion: options.helperVersion,
      readers: await cards.readers(),
      busy: slot.busy,
      pinEntry: options.pinEntry.kind,
    };
    response.writeHead(200, {
      'content-type': 'application/json',
      'x-content-type-options': 'nosniff',
      'cross-origin-resource-policy': 'same-origin',
      'cache-control': 'no-store',
    });
    response.end(JSON.stringify(status));
  };

  const servePage = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', `http://127.0.0.1:${port}`);
    const lang = pageLanguage(url, request.headers['accept-language']);
    const html = renderStatusPage(
      {
        helperVersion: options.helperVersion,
        protocolVersion: PROTOCOL_VERSION,
        readers: await readersWithin(cards, STATUS_PAGE_READERS_MS),
        busy: slot.busy,
        pinEntry: options.pinEntry.kind,
        allowedSites: policy.describe(),
        refusals: refusals.recent(),
      },
      lang,
    );
    response.writeHead(200, {
      ...HELPER_PAGE_HEADERS,
      'content-type': 'text/html; charset=utf-8',
      'content-language': lang,
      vary: 'accept-language',
    });
    response.end(html);
  };

  const onRequest = (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if (NAVIGATION_PATHS.has(path)) {
      const url = new URL(request.url ?? '/', `http://127.0.0.1:${port}`);
      return void Promise.resolve(navigation.serve(request, response, url, port)).catch((error: Error) => {
        logger.log('error', 'navigation failed', { error: error.message });
        if (!response.headersSent) response.writeHead(500);
        response.end();
      });
    }
    const page = path === '/';
    const refused: RefusedRequest | undefined = page
      ? checkStatusPageRequest(request.headers, port)
      : checkStatusRequest(request.headers, port);
    if (refused) {
      logger.log('warn', 'status request refused', {
        reason: refused.reason,
        resource: page ? 'page' : 'status',
      });
      if (!page) return void response.writeHead(403).end();
      response.writeHead(403, { ...HELPER_PAGE_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
      return void response.end(
        `Open http://127.0.0.1:${port}/ by typing it in the address bar.\n` +
          `アドレスバーに http://127.0.0.1:${port}/ と入力して開いてください。\n`,
      );
    }
    if (request.method !== 'GET' || !(page || request.url === STATUS_PATH)) {
      return void response.writeHead(404).end();
    }
    (page ? servePage(request, response) : serveStatus(response)).catch((error: Error) => {
      logger.log('error', 'status failed', { error: error.message });
      response.writeHead(500).end();
    });
  };

  const servers: Server[] = [];
  for (const host of LOOPBACK_ADDRESSES) {
    const server = createServer(onRequest);
    server.on('upgrade', onUpgrade);
    try {
      port = await listen(server, host, port);
      servers.push(server);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (host === '::1' && (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT')) {
        logger.log('warn', 'IPv6 loopback unavailable; listening on 127.0.0.1 only', { code });
        continue;
      }
      await Promise.all(servers.map(closeServer));
      if (code === 'EADDRINUSE') {
        throw new DaemonError(
          'PORT_IN_USE',
          `port ${port} on ${host} is already in use (is the helper already running? try 'myna-helper status')`,
          { cause: error },
        );
      }
      throw new DaemonError(
        'LISTEN_FAILED',
        `cannot listen on ${host}:${port}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  const unsubscribe = cards.onChange((readers) => {
    const event: ReadersEvent = { type: 'readers', readers };
    logger.log('info', 'readers changed', { readers: readers.map((r) => `${r.name}=${r.card}`).join('; ') });
    for (const session of sessions) session.send(event);
  });

  const addresses = servers.map((server) => {
    const { address } = server.address() as AddressInfo;
    return address.includes(':') ? `ws://[${address}]:${port}` : `ws://${address}:${port}`;
  });
  logger.log('info', 'listening', { addresses: addresses.join(' '), dev: options.dev });

  return {
    port,
    addresses,
    policy,
    statusPageUrl: `http://127.0.0.1:${port}/`,
    async close() {
      unsubscribe();
      navigation.close();
      await Promise.all([...wss.clients].map(closeClient));
      await Promise.all(servers.map(closeServer));
      wss.close();
    },
  };
}

/** The readers, or undefined when PC/SC does not answer within `ms` (a hung pcscd must not hang the page). */
async function readersWithin(cards: HelperCards, ms: number): Promise<readonly ReaderInfo[] | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const silent = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([cards.readers(), silent]);
  } finally {
    clearTimeout(timer);
  }
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, ipv6Only: true }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeClient(client: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    client.once('close', () => resolve());
    client.close(1001, 'helper stopping');
    setTimeout(() => client.terminate(), 1000).unref();
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

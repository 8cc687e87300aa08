/**
 * Plugs a simulated card into a real pcscd through vsmartcard's vpcd reader driver: vpcd listens
 * on TCP (default port 35963) and the card connects to it as a client. Frames are a 2-byte
 * big-endian length and a payload; 1-byte payloads are control codes, longer ones are APDUs.
 * The connector reconnects while pcscd is not running or restarts; stop() is a card removal.
 */
import { connect, type Socket } from 'node:net';
import type { SimulatedCard } from './in-process-backend.js';

/** The vpcd port of the first virtual reader ("Virtual PCD 00 00"). */
export const DEFAULT_VPCD_PORT = 35_963;
const VPCD_HOST = '127.0.0.1';
const RECONNECT_MS = 500;

/** vpcd control codes. */
const Control = { POWER_OFF: 0, POWER_ON: 1, RESET: 2, GET_ATR: 4 } as const;

/** Options of a VpcdConnector. */
export interface VpcdConnectorOptions {
  /** vpcd's TCP port (35963 + reader index). */
  readonly port?: number;
  /** Called when the TCP connection to vpcd comes up (true) or goes down (false). */
  readonly onConnection?: (connected: boolean) => void;
}

/** Keeps `card` inserted in vpcd's reader until stop(). */
export class VpcdConnector {
  private readonly port: number;
  private socket: Socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly card: SimulatedCard,
    private readonly options: VpcdConnectorOptions = {},
  ) {
    this.port = options.port ?? DEFAULT_VPCD_PORT;
  }

  /** True while the TCP connection to vpcd is up (pcscd then sees the card as present). */
  get connected(): boolean {
    return this.socket?.readyState === 'open';
  }

  /** Starts connecting (and reconnecting) to vpcd. */
  start(): void {
    this.stopped = false;
    if (!this.socket && !this.timer) this.open();
  }

  /** Disconnects from vpcd (pcscd sees the card removed) and stops reconnecting. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.socket?.destroy();
    this.socket = undefined;
  }

  private open(): void {
    this.timer = undefined;
    const socket = connect({ host: VPCD_HOST, port: this.port });
    this.socket = socket;
    socket.setNoDelay(true);
    let buffer: Buffer = Buffer.alloc(0);
    let up = false;
    socket.on('connect', () => {
      up = true;
      this.options.onConnection?.(true);
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      while (buffer.length >= 2) {
        const length = buffer.readUInt16BE(0);
        if (buffer.length < 2 + length) break;
        const payload = buffer.subarray(2, 2 + length);
        buffer = buffer.subarray(2 + length);
        this.handle(socket, payload);
      }
    });
    socket.on('error', () => undefined); // 'close' follows and schedules the reconnect
    socket.on('close', () => {
      if (up) this.options.onConnection?.(false);
      if (this.socket === socket) this.socket = undefined;
      if (!this.stopped) this.timer = setTimeout(() => this.open(), RECONNECT_MS);
    });
  }

  private handle(socket: Socket, payload: Buffer): void {
    if (payload.length !== 1) {
      send(socket, this.card.transmit(payload));
      return;
    }
    switch (payload[0]) {
      case Control.POWER_ON:
      case Control.RESET:
      case Control.POWER_OFF:
        this.card.reset();
        return;
      case Control.GET_ATR:
        send(socket, this.card.atr);
        return;
    }
  }
}

function send(socket: Socket, payload: Uint8Array): void {
  const frame = Buffer.alloc(2 + payload.length);
  frame.writeUInt16BE(payload.length);
  frame.set(payload, 2);
  socket.write(frame);
}

/** The vpcd connector against a stand-in vpcd (a local TCP server speaking vpcd's framing). */
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { writeDevIdentity } from '../../dev-pki/hierarchy.js';
import {
  type CardIdentity,
  createVirtualCardIdentity,
  loadIdentity,
} from '../../reader-helper/virtual-card/identity.js';
import { VirtualJpkiCard } from '../../reader-helper/virtual-card/virtual-jpki-card.js';
import { VpcdConnector } from '../../reader-helper/virtual-card/vpcd-connector.js';
import { aliceCard } from '../support/card.js';
import { devPki } from '../support/dev-pki.js';

/** A fake vpcd: accepts one card connection at a time and exchanges frames with it. */
class FakeVpcd {
  private server: Server | undefined;
  private socket: Socket | undefined;
  private buffer = Buffer.alloc(0);
  private waiting: ((frame: Buffer) => void)[] = [];
  private connectedWaiters: (() => void)[] = [];

  constructor(readonly port = 0) {}

  async listen(port = this.port): Promise<number> {
    const server = createServer((socket) => {
      this.socket = socket;
      this.buffer = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        this.buffer = Buffer.concat([this.buffer, chunk]);
        while (this.buffer.length >= 2 && this.buffer.length >= 2 + this.buffer.readUInt16BE(0)) {
          const frame = this.buffer.subarray(2, 2 + this.buffer.readUInt16BE(0));
          this.buffer = this.buffer.subarray(2 + frame.length);
          this.waiting.shift()?.(frame);
        }
      });
      for (const resolve of this.connectedWaiters.splice(0)) resolve();
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const address = server.address();
    return typeof address === 'object' && address ? address.port : port;
  }

  connected(): Promise<void> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => this.connectedWaiters.push(resolve));
  }

  /** Sends a frame and resolves with the card's answer. */
  exchange(payload: Uint8Array): Promise<Buffer> {
    const frame = Buffer.alloc(2 + payload.length);
    frame.writeUInt16BE(payload.length);
    frame.set(payload, 2);
    const answer = new Promise<Buffer>((resolve) => this.waiting.push(resolve));
    this.socket?.write(frame);
    return answer;
  }

  /** Sends a control byte that has no answer. */
  control(code: number): void {
    this.socket?.write(Uint8Array.of(0, 1, code));
  }

  /** Resolves when the card closes its connection. */
  cardLeft(): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => socket.once('close', () => resolve()));
  }

  async close(): Promise<void> {
    this.socket?.destroy();
    this.socket = undefined;
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

let identity: CardIdentity;
const cleanups: (() => unknown)[] = [];
beforeAll(async () => {
  ({ identity } = await aliceCard());
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex').toUpperCase();
const SELECT_AP = Buffer.from('00A4040C0AD392F000260100000001', 'hex');

async function connectedPair(card = new VirtualJpkiCard(identity)) {
  const vpcd = new FakeVpcd();
  const port = await vpcd.listen();
  cleanups.push(() => vpcd.close());
  const connector = new VpcdConnector(card, { port });
  cleanups.push(() => connector.stop());
  connector.start();
  await vpcd.connected();
  return { vpcd, connector, card, port };
}

describe('VpcdConnector', () => {
  it('answers GET ATR with the ATR and APDUs with the card response', async () => {
    const { vpcd } = await connectedPair();
    expect(hex(await vpcd.exchange(Uint8Array.of(4)))).toBe('3BE000FF8131FE4514');
    expect(hex(await vpcd.exchange(SELECT_AP))).toBe('9000');
  });

  it('resets the card on power on, power off and reset', async () => {
    const { vpcd } = await connectedPair();
    await vpcd.exchange(SELECT_AP);
    for (const code of [0, 1, 2]) {
      await vpcd.exchange(SELECT_AP);
      vpcd.control(code);
      expect(hex(await vpcd.exchange(Buffer.from('00A4020C020018', 'hex')))).toBe('6A82');
    }
  });

  it('carries extended-length answers larger than one TCP segment', async () => {
    const { vpcd } = await connectedPair();
    await vpcd.exchange(SELECT_AP);
    await vpcd.exchange(Buffer.from('00A4020C02000A', 'hex'));
    const answer = await vpcd.exchange(Buffer.from('00B00000000000', 'hex'));
    expect(answer.subarray(0, -2).equals(Buffer.from(identity.userAuthCertificate))).toBe(true);
  });

  it('reconnects when vpcd restarts and disconnects on stop()', async () => {
    const { vpcd, connector, port } = await connectedPair();
    await vpcd.close();
    const again = new FakeVpcd(port);
    await again.listen();
    cleanups.push(() => again.close());
    await again.connected();
    expect(hex(await again.exchange(Uint8Array.of(4)))).toBe('3BE000FF8131FE4514');
    const left = again.cardLeft();
    connector.stop();
    await left;
    expect(connector.connected).toBe(false);
  });
});

describe('card identities', () => {
  it('loads an identity folder written by writeDevIdentity', async () => {
    const pki = await devPki();
    const dir = await mkdtemp(join(tmpdir(), 'myna-identity-'));
    await writeDevIdentity(dir, pki.identities[0] as (typeof pki.identities)[number]);
    const loaded = await loadIdentity(dir);
    expect(hex(loaded.userAuthCertificate)).toBe(hex(identity.userAuthCertificate));
    expect(loaded.userAuthPin).toBe('1234');
    expect(loaded.userAuthKeyPem).toBe(identity.userAuthKeyPem);
  });

  it('reports a folder without an identity', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'myna-identity-'));
    await expect(loadIdentity(dir)).rejects.toThrow(`cannot load the card identity in ${dir}`);
  });

  it('creates a fresh identity with trust anchors, loadable as a card on vpcd', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'myna-card-'));
    const created = await createVirtualCardIdentity(dir, { userAuthPin: '4321' });
    expect(created.trustAnchorFiles).toHaveLength(2);
    expect(await readFile(created.trustAnchorFiles[1] as string, 'utf8')).toContain('BEGIN CERTIFICATE');
    const vpcd = new FakeVpcd();
    const port = await vpcd.listen();
    cleanups.push(() => vpcd.close());
    const connector = new VpcdConnector(new VirtualJpkiCard(await loadIdentity(created.identityDir)), {
      port,
    });
    connector.start();
    await vpcd.connected();
    await vpcd.exchange(SELECT_AP);
    await vpcd.exchange(Buffer.from('00A4020C020018', 'hex'));
    const verify = Buffer.from(`0020008004${Buffer.from('4321').toString('hex')}`, 'hex');
    expect(hex(await vpcd.exchange(verify))).toBe('9000');
    const left = vpcd.cardLeft();
    connector.stop();
    await left;
  }, 20_000);
});

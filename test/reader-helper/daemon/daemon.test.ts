import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { verifyLogin } from '../../../functions/jpki/verify-login.js';
import {
  type AuthenticateResponse,
  type ErrorResponse,
  type HelperMessage,
  MAX_MESSAGE_BYTES,
  PROTOCOL_VERSION,
} from '../../../protocol/helper-protocol.js';
import { CardService } from '../../../reader-helper/card/card-service.js';
import { fetchStatus } from '../../../reader-helper/cli/status.js';
import { startHelperDaemon } from '../../../reader-helper/daemon/server.js';
import { createLogger } from '../../../reader-helper/log.js';
import { PcscReaderBackend } from '../../../reader-helper/pcsc/pcsc-backend.js';
import { devPki, newNonce, ORIGIN, userAuthAnchors } from '../../support/dev-pki.js';
import { Client, type Fixture, READER, RefusedError, startFixture } from './daemon-fixture.js';

const PIN = '1234';
const WRONG_PIN = '9876';

let fixture: Fixture | undefined;
const clients: Client[] = [];

beforeAll(async () => {
  await devPki();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await fixture?.close();
  fixture = undefined;
});

async function start(options: Parameters<typeof startFixture>[0] = {}): Promise<Fixture> {
  fixture = await startFixture(options);
  return fixture;
}

async function connect(options: Parameters<typeof Client.open>[1] = { origin: ORIGIN }): Promise<Client> {
  const client = await Client.open((fixture as Fixture).port, options);
  clients.push(client);
  return client;
}

function authenticate(id: string, overrides: Record<string, unknown> = {}) {
  return { type: 'authenticate', id, nonce: newNonce(), pin: PIN, ...overrides };
}

function expectError(message: HelperMessage, code: string, id?: string): ErrorResponse {
  expect(message).toMatchObject({ type: 'error', code, ...(id === undefined ? {} : { id }) });
  return message as ErrorResponse;
}

/** A good authenticate on `client` succeeds (the daemon still serves). */
async function expectServes(client: Client): Promise<void> {
  expect(await client.request(authenticate('good'))).toMatchObject({ type: 'authenticated', id: 'good' });
}

async function refusal(options: Parameters<typeof Client.open>[1]): Promise<number> {
  const error = await connect(options).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(RefusedError);
  return (error as RefusedError).status;
}

async function verify(answer: AuthenticateResponse, origin: string, nonce: string) {
  const pki = await devPki();
  return verifyLogin(
    {
      certificate: Buffer.from(answer.certificate, 'base64url'),
      signature: Buffer.from(answer.signature, 'base64url'),
    },
    { origin, nonce },
    {
      trustAnchors: userAuthAnchors(pki),
      now: new Date(),
      clockSkewSeconds: 60,
      revocation: { status: async () => ({ status: 'good' }) },
      certificateKeySecret: randomBytes(32),
    },
  );
}

describe('helper daemon: protocol', () => {
  it('answers hello with versions and readers', async () => {
    await start();
    const client = await connect();
    expect(await client.request({ type: 'hello', id: 'h1' })).toEqual({
      type: 'hello',
      id: 'h1',
      protocolVersion: PROTOCOL_VERSION,
      helperVersion: 'test',
      readers: [{ name: READER, card: 'jpki' }],
    });
  });

  it('signs (origin of the upgrade, nonce) with a certificate the login verifier accepts', async () => {
    await start();
    const client = await connect();
    const nonce = newNonce();
    const answer = await client.request({ type: 'authenticate', id: 'a1', nonce, pin: PIN });
    expect(answer).toMatchObject({ type: 'authenticated', id: 'a1' });
    const login = await verify(answer as AuthenticateResponse, ORIGIN, nonce);
    expect(login.kind).toBe('user-auth');
    // The same answer does not verify for another origin: the origin is bound into the signature.
    await expect(
      verify(answer as AuthenticateResponse, 'https://other.example', nonce),
    ).rejects.toMatchObject({
      code: 'CHALLENGE_SIGNATURE_INVALID',
    });
  });

  it('ignores an origin claimed inside the message', async () => {
    await start();
    const client = await connect();
    const nonce = newNonce();
    const answer = await client.request(authenticate('a1', { nonce, origin: 'https://evil.example' }));
    await expect(verify(answer as AuthenticateResponse, ORIGIN, nonce)).resolves.toBeDefined();
  });

  it('rejects bad nonces with BAD_REQUEST without touching the card, and keeps serving', async () => {
    const { card } = await start();
    const client = await connect();
    for (const nonce of ['short', 'x'.repeat(129), 'has space'.repeat(6), 42, undefined]) {
      expectError(await client.request(authenticate('n', { nonce })), 'BAD_REQUEST', 'n');
    }
    expect(card.apduCount).toBe(0);
    await expectServes(client);
  });

  it('rejects a badly formatted PIN with PIN_FORMAT (non-string: BAD_REQUEST) before any APDU, never echoing it', async () => {
    const { card, logLines } = await start();
    const client = await connect();
    for (const pin of ['12a4', '123', '12345', '']) {
      const error = expectError(await client.request(authenticate('p', { pin })), 'PIN_FORMAT', 'p');
      expect(error.message).not.toContain(pin || '\u0000');
    }
    expectError(await client.request(authenticate('p', { pin: 1234 })), 'BAD_REQUEST', 'p');
    expectError(await client.request(authenticate('p', { confirmLastTry: 'yes' })), 'BAD_REQUEST', 'p');
    expect(card.apduCount).toBe(0);
    expect(logLines.join('')).not.toContain('12a4');
    await expectServes(client);
  });

  it('answers malformed JSON, non-objects, unknown types, bad ids and binary frames with BAD_REQUEST and keeps serving', async () => {
    const { card } = await start();
    const client = await connect();
    expectError(await client.request('{not json'), 'BAD_REQUEST');
    expectError(await client.request('[1,2]'), 'BAD_REQUEST');
    expectError(await client.request('null'), 'BAD_REQUEST');
    expectError(await client.request({ type: 'format', id: 'u1' }), 'BAD_REQUEST', 'u1');
    expectError(await client.request({ type: 'hello' }), 'BAD_REQUEST');
    expectError(await client.request({ type: 'hello', id: 7 }), 'BAD_REQUEST');
    expectError(await client.request({ type: 'hello', id: 'x'.repeat(65) }), 'BAD_REQUEST');
    expectError(await client.request(Buffer.from('{"type":"hello","id":"b"}')), 'BAD_REQUEST');
    expect(card.apduCount).toBe(0);
    await expectServes(client);
  });

  it('closes the connection with 1009 on an oversize frame; a new connection is served', async () => {
    const { card } = await start();
    const client = await connect();
    const closed = client.closed();
    client.send(JSON.stringify(authenticate('big', { padding: 'x'.repeat(MAX_MESSAGE_BYTES) })));
    expect(await closed).toBe(1009);
    expect(card.apduCount).toBe(0);
    await expectServes(await connect());
  });

  it('reports a wrong PIN with PIN_INCORRECT and tries left, refuses the last try without confirmation', async () => {
    await start();
    const client = await connect();
    const first = expectError(
      await client.request(authenticate('w1', { pin: WRONG_PIN })),
      'PIN_INCORRECT',
      'w1',
    );
    expect(first.triesLeft).toBe(2);
    const second = expectError(
      await client.request(authenticate('w2', { pin: WRONG_PIN })),
      'PIN_INCORRECT',
      'w2',
    );
    expect(second.triesLeft).toBe(1);
    const last = expectError(await client.request(authenticate('w3')), 'LAST_TRY', 'w3');
    expect(last.triesLeft).toBe(1);
    expect(await client.request(authenticate('ok', { confirmLastTry: true }))).toMatchObject({
      type: 'authenticated',
    });
  });

  it('reports a blocked PIN', async () => {
    await start();
    const client = await connect();
    await client.request(authenticate('w1', { pin: WRONG_PIN }));
    await client.request(authenticate('w2', { pin: WRONG_PIN }));
    const third = await client.request(authenticate('w3', { pin: WRONG_PIN, confirmLastTry: true }));
    expect(third).toMatchObject({ type: 'error', triesLeft: 0 });
    expectError(await client.request(authenticate('w4', { confirmLastTry: true })), 'PIN_BLOCKED', 'w4');
  });

  it('answers BUSY to a concurrent authenticate from another connection, then serves it', async () => {
    const { backend } = await start();
    const first = await connect();
    const second = await connect();
    backend.hold();
    const firstAnswer = first.request(authenticate('a'));
    await backend.held();
    expectError(await second.request(authenticate('b')), 'BUSY', 'b');
    backend.release();
    expect(await firstAnswer).toMatchObject({ type: 'authenticated', id: 'a' });
    await expectServes(second);
  });

  it('answers TIMEOUT when the card is too slow, and serves the next request', async () => {
    const { backend, port } = await start({ operationTimeoutMs: 100 });
    const client = await connect();
    backend.hold();
    expectError(await client.request(authenticate('slow')), 'TIMEOUT', 'slow');
    backend.release();
    await waitIdle(port);
    await expectServes(client);
  });

  it('cancels the running authenticate with CANCELLED', async () => {
    const { backend, port } = await start();
    const client = await connect();
    backend.hold();
    client.send(authenticate('c1'));
    await backend.held();
    client.send({ type: 'cancel', id: 'c1' });
    const answers = [await client.next(), await client.next()];
    expect(answers).toEqual(
      expect.arrayContaining([
        { type: 'cancelled', id: 'c1' },
        expect.objectContaining({ type: 'error', id: 'c1', code: 'CANCELLED' }),
      ]),
    );
    backend.release();
    await waitIdle(port);
    await expectServes(client);
  });

  it('answers CARD_REMOVED when the card leaves mid-operation, and serves once it is back', async () => {
    const { backend, card } = await start();
    const client = await connect();
    backend.hold(2);
    client.send(authenticate('r'));
    await backend.held();
    backend.inner.reader(READER).remove();
    backend.release();
    expectError(await client.nextAnswer(), 'CARD_REMOVED', 'r');
    backend.inner.reader(READER).insert(card);
    client.send(authenticate('good'));
    expect(await client.nextAnswer()).toMatchObject({ type: 'authenticated', id: 'good' });
  });

  it('cancels the running operation when its connection closes', async () => {
    const { backend, port } = await start();
    const client = await connect();
    backend.hold();
    client.send(authenticate('gone'));
    await backend.held();
    const closed = client.closed();
    client.close();
    await closed;
    backend.release();
    await waitIdle(port);
    await expectServes(await connect());
  });

  it('closes open connections with 1001 when stopped', async () => {
    const { daemon } = await start();
    const client = await connect();
    const closed = client.closed();
    await daemon.close();
    expect(await closed).toBe(1001);
  });

  it('pushes readers events to every connection when the card is removed; authenticate then says NO_CARD', async () => {
    const { backend } = await start();
    const first = await connect();
    const second = await connect();
    await first.request({ type: 'hello', id: 'h' });
    backend.inner.reader(READER).remove();
    const removed = { type: 'readers', readers: [{ name: READER, card: 'absent' }] };
    expect(await first.next()).toEqual(removed);
    expect(await second.next()).toEqual(removed);
    expectError(await first.request(authenticate('x')), 'NO_CARD', 'x');
  });

  it('never logs the PIN (right or wrong) but logs origins and codes', async () => {
    const { logLines } = await start();
    const client = await connect();
    await client.request(authenticate('w', { pin: WRONG_PIN }));
    await client.request(authenticate('ok'));
    const log = logLines.join('');
    for (const pin of [PIN, WRONG_PIN]) expect(log).not.toMatch(new RegExp(`(^|[^0-9])${pin}([^0-9]|$)`));
    expect(log).not.toMatch(/"pin"/i);
    expect(log).toContain(ORIGIN);
    expect(log).toContain('PIN_INCORRECT');
    for (const line of logLines) expect(() => JSON.parse(line)).not.toThrow();
    expect(logLines.some((line) => /"certificate":"[0-9a-f]{12}"/.test(line))).toBe(true);
  });
});

describe('helper daemon: upgrade checks', () => {
  it('refuses a disallowed Origin with 403 without touching the card, and still serves', async () => {
    const { card } = await start();
    expect(await refusal({ origin: 'https://evil.example' })).toBe(403);
    expect(await refusal({ origin: `${ORIGIN}/` })).toBe(403);
    expect(await refusal({ origin: 'null' })).toBe(403);
    expect(card.apduCount).toBe(0);
    await expectServes(await connect());
  });

  it('refuses a missing Origin', async () => {
    await start();
    expect(await refusal({})).toBe(403);
    await expectServes(await connect());
  });

  it('refuses a Host that is not a loopback literal with the port (DNS rebinding; localhost too)', async () => {
    const { port, card } = await start();
    for (const host of [`evil.example:${port}`, `localhost:${port}`, '127.0.0.1', `127.0.0.1:${port + 1}`]) {
      expect(await refusal({ origin: ORIGIN, host })).toBe(403);
    }
    expect(card.apduCount).toBe(0);
    await expectServes(await connect());
  });

  it('accepts Host [::1]:PORT on the IPv6 listener', async () => {
    const { port, daemon } = await start();
    if (!daemon.addresses.some((address) => address.includes('[::1]'))) return; // no IPv6 loopback here
    const client = await connect({ origin: ORIGIN, host: `[::1]:${port}`, address: '::1' });
    await expectServes(client);
  });

  it('refuses http://localhost origins unless in development mode', async () => {
    await start();
    expect(await refusal({ origin: 'http://localhost:3000' })).toBe(403);
    await fixture?.close();
    await start({ dev: true });
    const nonce = newNonce();
    const client = await connect({ origin: 'http://localhost:3000' });
    const answer = await client.request({ type: 'authenticate', id: 'd', nonce, pin: PIN });
    await expect(
      verify(answer as AuthenticateResponse, 'http://localhost:3000', nonce),
    ).resolves.toBeDefined();
    expect(await refusal({ origin: 'http://evil.example' })).toBe(403);
  });

  it('refuses to start in development mode with readers that may hold a real card (PC/SC)', async () => {
    const pcsc = new PcscReaderBackend();
    const cards = new CardService(pcsc);
    try {
      const started = startHelperDaemon({
        cards,
        port: 0,
        allowedOrigins: [],
        dev: true,
        helperVersion: 'test',
        logger: createLogger({ level: 'error' }),
      });
      await expect(started).rejects.toMatchObject({ name: 'DaemonError', code: 'DEV_NEEDS_VIRTUAL_CARD' });
    } finally {
      await cards.close();
    }
  });

  it('serves GET /status to local non-browser clients only', async () => {
    const { port } = await start();
    expect(await fetchStatus(port)).toEqual({
      protocolVersion: PROTOCOL_VERSION,
      helperVersion: 'test',
      readers: [{ name: READER, card: 'jpki' }],
      busy: false,
    });
    expect(await statusCode(port, { origin: ORIGIN })).toBe(403);
    expect(await statusCode(port, { host: `localhost:${port}` })).toBe(403);
    expect(await statusCode(port, {}, '/other')).toBe(404);
  });
});

async function waitIdle(port: number): Promise<void> {
  while ((await fetchStatus(port)).busy) await delay(10);
}

function statusCode(port: number, headers: Record<string, string>, path = '/status'): Promise<number> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, headers }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    }).on('error', reject);
  });
}

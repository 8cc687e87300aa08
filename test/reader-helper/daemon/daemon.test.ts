import { get } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from '@jest/globals';
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
import { devPki, newNonce, ORIGIN } from '../../support/dev-pki.js';
import { ScriptedPerson } from '../scripted-person.js';
import { type Client, daemonPerTest, READER, RefusedError, verifySignedAnswer } from './daemon-fixture.js';

const PIN = '1234';
const WRONG_PIN = '9876';

const daemon = daemonPerTest();
const start = daemon.start;
const connect = (options?: Parameters<typeof Client.open>[1]) => daemon.connect(options);

beforeAll(async () => {
  await devPki();
});

function authenticate(id: string, overrides: Record<string, unknown> = {}) {
  return { type: 'authenticate', id, nonce: newNonce(), ...overrides };
}

function expectError(message: HelperMessage, code: string, id?: string): ErrorResponse {
  expect(message).toMatchObject({ type: 'error', code, ...(id === undefined ? {} : { id }) });
  return message as ErrorResponse;
}

/** A good authenticate on `client` succeeds (the daemon still serves). */
async function expectServes(client: Client): Promise<void> {
  expect(await client.request(authenticate('good'))).toMatchObject({ type: 'authenticated', id: 'good' });
}

/** Waits for the `progress` event that says the helper's PIN window is open for `id`. */
async function pinWindowOpen(client: Client, id: string): Promise<void> {
  for (;;) {
    const message = await client.next();
    if (message.type === 'progress' && message.id === id && message.step === 'pin-entry') return;
    if (message.type !== 'readers') throw new Error(`unexpected ${JSON.stringify(message)}`);
  }
}

async function refusal(options: Parameters<typeof Client.open>[1]): Promise<number> {
  const error = await connect(options).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(RefusedError);
  return (error as RefusedError).status;
}

/** The two answers to a cancel of the running `id`: `cancelled`, and the operation's CANCELLED error. */
async function expectCancelled(client: Client, id: string): Promise<void> {
  const answers = [await client.nextAnswer(), await client.nextAnswer()];
  expect(answers).toEqual(
    expect.arrayContaining([
      { type: 'cancelled', id },
      expect.objectContaining({ type: 'error', id, code: 'CANCELLED' }),
    ]),
  );
}

describe('helper daemon: protocol', () => {
  it('answers hello with versions and readers', async () => {
    await start();
    const client = await connect();
    expect(await client.request({ type: 'hello', id: 'h1' })).toEqual({
      type: 'hello',
      id: 'h1',
      protocolVersion: 2,
      helperVersion: 'test',
      readers: [{ name: READER, card: 'jpki' }],
    });
    expect(PROTOCOL_VERSION).toBe(2);
  });

  it('asks the person for the PIN in its own window for the upgrade origin, reports progress, and signs (origin, nonce)', async () => {
    const { person } = await start();
    const client = await connect();
    const nonce = newNonce();
    client.send({ type: 'authenticate', id: 'a1', nonce });
    const messages = [await client.next(), await client.next(), await client.next()];
    expect(messages.slice(0, 2)).toEqual([
      { type: 'progress', id: 'a1', step: 'pin-entry', triesLeft: 3 },
      { type: 'progress', id: 'a1', step: 'signing' },
    ]);
    const answer = messages[2] as AuthenticateResponse;
    expect(answer).toMatchObject({ type: 'authenticated', id: 'a1' });
    expect(person.requests).toHaveLength(1);
    expect(person.requests[0]).toMatchObject({
      origin: ORIGIN,
      purpose: 'sign-in',
      secret: 'user-auth-pin',
      triesLeft: 3,
      language: 'ja',
    });
    const login = await verifySignedAnswer(answer, ORIGIN, nonce);
    expect(login.kind).toBe('user-auth');
    // The same answer does not verify for another origin: the origin is bound into the signature.
    await expect(verifySignedAnswer(answer, 'https://other.example', nonce)).rejects.toMatchObject({
      code: 'CHALLENGE_SIGNATURE_INVALID',
    });
  });

  it('shows the PIN window in the language the page asks for', async () => {
    const { person } = await start();
    const client = await connect();
    await expectServes(client);
    expect(await client.request(authenticate('en', { language: 'en' }))).toMatchObject({
      type: 'authenticated',
    });
    expect(person.requests.map((request) => request.language)).toEqual(['ja', 'en']);
  });

  it('ignores an origin claimed inside the message', async () => {
    const { person } = await start();
    const client = await connect();
    const nonce = newNonce();
    const answer = await client.request(authenticate('a1', { nonce, origin: 'https://evil.example' }));
    await expect(verifySignedAnswer(answer as AuthenticateResponse, ORIGIN, nonce)).resolves.toBeDefined();
    expect(person.requests[0]?.origin).toBe(ORIGIN);
  });

  it('rejects bad nonces and languages with BAD_REQUEST without a PIN window or an APDU, and keeps serving', async () => {
    const { card, person } = await start();
    const client = await connect();
    for (const nonce of ['short', 'x'.repeat(129), 'has space'.repeat(6), 42, undefined]) {
      expectError(await client.request(authenticate('n', { nonce })), 'BAD_REQUEST', 'n');
    }
    for (const language of ['de', 'JA', '', 1, null]) {
      expectError(await client.request(authenticate('l', { language })), 'BAD_REQUEST', 'l');
    }
    expect(card.apduCount).toBe(0);
    expect(person.requests).toHaveLength(0);
    await expectServes(client);
  });

  it('refuses a request carrying a PIN or a last-try flag (protocol 1) without looking at it, touching the card or opening a window', async () => {
    const { card, person, logLines } = await start();
    const client = await connect();
    for (const extra of [
      { pin: '4321' },
      { pin: 4321 },
      { confirmLastTry: true },
      { pin: '4321', confirmLastTry: true },
    ]) {
      const error = expectError(await client.request(authenticate('v1', extra)), 'BAD_REQUEST', 'v1');
      expect(error.message).toBe("the PIN is typed only into the helper's own window; reload the page");
    }
    expect(card.apduCount).toBe(0);
    expect(person.requests).toHaveLength(0);
    expect(logLines.join('')).not.toContain('4321');
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

  it('reports a wrong PIN with PIN_INCORRECT and tries left; the last try is the window’s to confirm, and declining it keeps the try', async () => {
    const { person } = await start();
    const client = await connect();
    person.types(WRONG_PIN).types(WRONG_PIN).cancels();
    const first = expectError(await client.request(authenticate('w1')), 'PIN_INCORRECT', 'w1');
    expect(first.triesLeft).toBe(2);
    const second = expectError(await client.request(authenticate('w2')), 'PIN_INCORRECT', 'w2');
    expect(second.triesLeft).toBe(1);
    // The third window is told it is the last try (the PinEntry confirms it first); the person declines.
    expectError(await client.request(authenticate('w3')), 'USER_CANCELLED', 'w3');
    expect(client.progress.at(-1)).toEqual({ type: 'progress', id: 'w3', step: 'pin-entry', triesLeft: 1 });
    // The declined last try was not spent: the next window still has one try, and the right PIN signs.
    expect(await client.request(authenticate('ok'))).toMatchObject({ type: 'authenticated' });
    expect(person.requests.map((request) => request.triesLeft)).toEqual([3, 2, 1, 1]);
  });

  it('reports a blocked PIN and then answers PIN_BLOCKED without opening the PIN window', async () => {
    const { person } = await start();
    const client = await connect();
    person.types(WRONG_PIN).types(WRONG_PIN).types(WRONG_PIN);
    await client.request(authenticate('w1'));
    await client.request(authenticate('w2'));
    expect(await client.request(authenticate('w3'))).toMatchObject({
      type: 'error',
      code: 'PIN_BLOCKED',
      triesLeft: 0,
    });
    const blocked = expectError(await client.request(authenticate('w4')), 'PIN_BLOCKED', 'w4');
    expect(blocked.triesLeft).toBe(0);
    expect(person.requests).toHaveLength(3);
    expect(client.progress.filter((event) => event.id === 'w4')).toEqual([]);
  });

  it.each([
    ['USER_CANCELLED', 'USER_CANCELLED'],
    ['PIN_ENTRY_UNAVAILABLE', 'PIN_ENTRY_UNAVAILABLE'],
    ['TIMEOUT', 'TIMEOUT'],
  ] as const)(
    'answers %s from the PIN window as %s, spends no try, and serves the next request',
    async (failure, code) => {
      const { person } = await start();
      const client = await connect();
      person.fails(failure);
      expectError(await client.request(authenticate('f')), code, 'f');
      await expectServes(client);
      expect(person.requests[1]?.triesLeft).toBe(3);
    },
  );

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

  it('answers BUSY while the PIN window is open for another connection, without a second window', async () => {
    const { person } = await start();
    const first = await connect();
    const second = await connect();
    const window = person.leavesOpen();
    first.send(authenticate('a'));
    await pinWindowOpen(first, 'a');
    expectError(await second.request(authenticate('b')), 'BUSY', 'b');
    expect(person.requests).toHaveLength(1);
    first.send({ type: 'cancel', id: 'a' });
    await window.closed;
  });

  it('answers TIMEOUT when the card is too slow, and serves the next request', async () => {
    const { backend, port } = await start({ cardTimeoutMs: 100 });
    const client = await connect();
    backend.hold();
    expectError(await client.request(authenticate('slow')), 'TIMEOUT', 'slow');
    backend.release();
    await waitIdle(port);
    await expectServes(client);
  });

  it('does not count the time the person takes to type the PIN as card time', async () => {
    const { person } = await start({ cardTimeoutMs: 150 });
    const client = await connect();
    person.typesAfter(400, PIN);
    expect(await client.request(authenticate('slow-typist'))).toMatchObject({ type: 'authenticated' });
  });

  it('cancel closes the open PIN window and answers CANCELLED', async () => {
    const { person, port, card } = await start();
    const client = await connect();
    const window = person.leavesOpen();
    client.send(authenticate('c1'));
    await pinWindowOpen(client, 'c1');
    const before = card.apduCount;
    client.send({ type: 'cancel', id: 'c1' });
    await expectCancelled(client, 'c1');
    expect(await window.closed).toMatchObject({ code: 'CANCELLED' });
    await waitIdle(port);
    // Nothing was sent to the card after the window closed (the reset that follows sends no APDU).
    expect(card.apduCount).toBe(before);
    await expectServes(client);
  });

  it('cancels the running authenticate during card I/O with CANCELLED', async () => {
    const { backend, port } = await start();
    const client = await connect();
    backend.hold();
    client.send(authenticate('c1'));
    await backend.held();
    client.send({ type: 'cancel', id: 'c1' });
    await expectCancelled(client, 'c1');
    backend.release();
    await waitIdle(port);
    await expectServes(client);
  });

  it('ignores a cancel for another request id', async () => {
    const { person } = await start();
    const client = await connect();
    person.typesAfter(200, PIN);
    client.send(authenticate('mine'));
    await pinWindowOpen(client, 'mine');
    expect(await client.request({ type: 'cancel', id: 'other' })).toEqual({ type: 'cancelled', id: 'other' });
    expect(await client.nextAnswer()).toMatchObject({ type: 'authenticated', id: 'mine' });
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

  it('closes the PIN window and answers CARD_REMOVED when the card is pulled while the window is open', async () => {
    const { backend, person } = await start();
    const client = await connect();
    const window = person.leavesOpen();
    client.send(authenticate('pulled'));
    await pinWindowOpen(client, 'pulled');
    backend.inner.reader(READER).remove();
    expect(await window.closed).toMatchObject({ code: 'CARD_REMOVED' });
    expectError(await client.nextAnswer(), 'CARD_REMOVED', 'pulled');
  });

  it('closes the PIN window when its connection closes, and frees the slot', async () => {
    const { person, port } = await start();
    const client = await connect();
    const window = person.leavesOpen();
    client.send(authenticate('gone'));
    await pinWindowOpen(client, 'gone');
    client.close();
    expect(await window.closed).toMatchObject({ code: 'CANCELLED' });
    await waitIdle(port);
    await expectServes(await connect());
  });

  it('cancels the running operation when its connection closes during card I/O', async () => {
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
    const { backend, person } = await start();
    const first = await connect();
    const second = await connect();
    await first.request({ type: 'hello', id: 'h' });
    backend.inner.reader(READER).remove();
    const removed = { type: 'readers', readers: [{ name: READER, card: 'absent' }] };
    expect(await first.next()).toEqual(removed);
    expect(await second.next()).toEqual(removed);
    expectError(await first.request(authenticate('x')), 'NO_CARD', 'x');
    expect(person.requests).toHaveLength(0);
  });

  it('never logs the PIN (right or wrong) but logs origins, paths and codes', async () => {
    const { logLines, person } = await start();
    const client = await connect();
    person.types(WRONG_PIN);
    await client.request(authenticate('w'));
    await client.request(authenticate('ok'));
    const log = logLines.join('');
    for (const pin of [PIN, WRONG_PIN]) expect(log).not.toMatch(new RegExp(`(^|[^0-9])${pin}([^0-9]|$)`));
    expect(log).not.toMatch(/"pin"/i);
    expect(log).toContain(ORIGIN);
    expect(log).toContain('"path":"websocket"');
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
    await start({ dev: true });
    const nonce = newNonce();
    const client = await connect({ origin: 'http://localhost:3000' });
    const answer = await client.request({ type: 'authenticate', id: 'd', nonce });
    await expect(
      verifySignedAnswer(answer as AuthenticateResponse, 'http://localhost:3000', nonce),
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
        pinEntry: new ScriptedPerson().pinEntry,
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
      pinEntry: 'scripted',
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

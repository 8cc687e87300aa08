/**
 * The daemon's identity verification on both paths — the WebSocket `verify-identity` request and
 * the navigation path with `purpose=verify-identity` — over CardService and a virtual card: the
 * signing password in the helper's own window, tries left, the last try, blocking, cancel and
 * abandonment, BUSY against a sign-in, and logs without the signing certificate or its facts.
 */
import { X509Certificate } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { DevPki } from '../../../dev-pki/hierarchy.js';
import {
  authenticateNavigationUrl,
  type CardAnswer,
  type IdentityVerifiedResponse,
} from '../../../protocol/helper-protocol.js';
import { SIGNING_PIN } from '../../../protocol/jpki-profile.js';
import { fetchStatus } from '../../../reader-helper/cli/status.js';
import { certificateTag } from '../../../reader-helper/log.js';
import { type CardIdentity, cardIdentityOf } from '../../../reader-helper/virtual-card/identity.js';
import { cardWithSpentTries } from '../../support/card.js';
import { devPki, newNonce, ORIGIN } from '../../support/dev-pki.js';
import { expectSignedIdentity } from '../identity-answer.js';
import { daemonPerTest, helperGet, helperNavigate, type Reply, redirectedAnswer } from './daemon-fixture.js';

const RETURN = `${ORIGIN}/interaction/uid_1-A/card-answer`;
const WRONG_PASSWORD = 'WRONG1';

const daemon = daemonPerTest();
const start = daemon.start;
let pki: DevPki;
let alice: CardIdentity;

beforeAll(async () => {
  pki = await devPki();
  alice = cardIdentityOf(pki.identities[0] as DevPki['identities'][number]);
});

function verifyIdentity(id: string, overrides: Record<string, unknown> = {}) {
  return { type: 'verify-identity', id, nonce: newNonce(), ...overrides };
}

/** Waits for the `progress` event that says the helper's password window is open for `id`. */
async function windowOpen(client: Awaited<ReturnType<typeof daemon.connect>>, id: string): Promise<void> {
  for (;;) {
    const message = await client.next();
    if (message.type === 'progress' && message.id === id && message.step === 'pin-entry') return;
    if (message.type !== 'readers') throw new Error(`unexpected ${JSON.stringify(message)}`);
  }
}

async function waitIdle(port: number): Promise<void> {
  while ((await fetchStatus(port)).busy) await delay(10);
}

/** Every text of the log that would identify the person or the card. */
function personalTexts(): string[] {
  const identity = pki.identities[0] as DevPki['identities'][number];
  const { facts } = identity;
  const certificates = [alice.signingCertificate, alice.userAuthCertificate];
  return [
    facts.name,
    facts.address,
    facts.birthDate,
    ...certificates.flatMap((der) => {
      const serial = new X509Certificate(der).serialNumber;
      return [
        serial,
        serial.toLowerCase(),
        certificateTag(der),
        Buffer.from(der).toString('base64url').slice(0, 40),
        Buffer.from(der).toString('base64').slice(0, 40),
      ];
    }),
  ];
}

describe('verify-identity over the WebSocket', () => {
  it('asks for the signing password for the upgrade origin, reports progress and answers both certificates and the signature', async () => {
    const { person } = await start();
    const client = await daemon.connect();
    const nonce = newNonce();
    client.send({ type: 'verify-identity', id: 'v1', nonce, language: 'en' });
    const answer = (await client.nextAnswer()) as IdentityVerifiedResponse;
    expect(client.progress).toEqual([
      { type: 'progress', id: 'v1', step: 'pin-entry', triesLeft: 5 },
      { type: 'progress', id: 'v1', step: 'signing' },
    ]);
    expect(Object.keys(answer).sort()).toEqual([
      'id',
      'signature',
      'signingCertificate',
      'type',
      'userAuthCertificate',
    ]);
    expect(answer).toMatchObject({ type: 'identity-verified', id: 'v1' });
    expectSignedIdentity(answer, { card: alice, origin: ORIGIN, nonce });
    expect(person.requests).toEqual([
      expect.objectContaining({
        origin: ORIGIN,
        purpose: 'verify-identity',
        secret: 'signing-password',
        triesLeft: 5,
        language: 'en',
      }),
    ]);
  });

  it('reports a wrong password with the tries left; the last try is the window’s to confirm, declining it keeps the try', async () => {
    const { person } = await start({ card: await cardWithSpentTries(alice, 2, SIGNING_PIN) });
    const client = await daemon.connect();
    person.types(WRONG_PASSWORD).types(WRONG_PASSWORD).cancels();
    expect(await client.request(verifyIdentity('w1'))).toMatchObject({
      type: 'error',
      id: 'w1',
      code: 'PIN_INCORRECT',
      triesLeft: 2,
    });
    expect(await client.request(verifyIdentity('w2'))).toMatchObject({ code: 'PIN_INCORRECT', triesLeft: 1 });
    expect(await client.request(verifyIdentity('w3'))).toMatchObject({ code: 'USER_CANCELLED' });
    expect(person.requests.map((request) => request.triesLeft)).toEqual([3, 2, 1]);
    // The kept try still works: the right password signs.
    const nonce = newNonce();
    const answer = await client.request(verifyIdentity('w4', { nonce }));
    expect(answer.type).toBe('identity-verified');
    expectSignedIdentity(answer as IdentityVerifiedResponse, { card: alice, origin: ORIGIN, nonce });
  });

  it('a card whose signing password is blocked: PIN_BLOCKED without opening the window; sign-in still works', async () => {
    const { person } = await start({
      card: await cardWithSpentTries(alice, SIGNING_PIN.maxTries, SIGNING_PIN),
    });
    const client = await daemon.connect();
    expect(await client.request(verifyIdentity('b1'))).toMatchObject({
      type: 'error',
      id: 'b1',
      code: 'PIN_BLOCKED',
      triesLeft: 0,
    });
    expect(person.requests).toHaveLength(0);
    expect(await client.request({ type: 'authenticate', id: 'a1', nonce: newNonce() })).toMatchObject({
      type: 'authenticated',
    });
  });

  it('blocks the password at the fifth wrong one and then answers PIN_BLOCKED without a window', async () => {
    const { person } = await start({ card: await cardWithSpentTries(alice, 4, SIGNING_PIN) });
    const client = await daemon.connect();
    person.types(WRONG_PASSWORD);
    expect(await client.request(verifyIdentity('x1'))).toMatchObject({ code: 'PIN_BLOCKED', triesLeft: 0 });
    expect(await client.request(verifyIdentity('x2'))).toMatchObject({ code: 'PIN_BLOCKED', triesLeft: 0 });
    expect(person.requests).toHaveLength(1);
  });

  it('cancel closes the open password window and answers CANCELLED', async () => {
    const { person, port } = await start();
    const client = await daemon.connect();
    const window = person.leavesOpen();
    client.send(verifyIdentity('c1'));
    await windowOpen(client, 'c1');
    client.send({ type: 'cancel', id: 'c1' });
    const answers = [await client.nextAnswer(), await client.nextAnswer()];
    expect(answers).toEqual(
      expect.arrayContaining([
        { type: 'cancelled', id: 'c1' },
        expect.objectContaining({ type: 'error', id: 'c1', code: 'CANCELLED' }),
      ]),
    );
    expect(await window.closed).toMatchObject({ code: 'CANCELLED' });
    await waitIdle(port);
  });

  it('closing the connection closes the window and frees the slot', async () => {
    const { person, port } = await start();
    const client = await daemon.connect();
    const window = person.leavesOpen();
    client.send(verifyIdentity('gone'));
    await windowOpen(client, 'gone');
    client.close();
    expect(await window.closed).toMatchObject({ code: 'CANCELLED' });
    await waitIdle(port);
  });

  it('answers BUSY to a sign-in while the password window is open, and to an identity verification while a PIN window is', async () => {
    const { person } = await start();
    const first = await daemon.connect();
    const second = await daemon.connect();
    const window = person.leavesOpen();
    first.send(verifyIdentity('v'));
    await windowOpen(first, 'v');
    expect(await second.request({ type: 'authenticate', id: 'a', nonce: newNonce() })).toMatchObject({
      code: 'BUSY',
      id: 'a',
    });
    first.send({ type: 'cancel', id: 'v' });
    await window.closed;
    await first.nextAnswer();
    await first.nextAnswer();
    const pinWindow = person.leavesOpen();
    first.send({ type: 'authenticate', id: 'a2', nonce: newNonce() });
    await windowOpen(first, 'a2');
    expect(await second.request(verifyIdentity('v2'))).toMatchObject({ code: 'BUSY', id: 'v2' });
    expect(person.requests).toHaveLength(2);
    first.send({ type: 'cancel', id: 'a2' });
    await pinWindow.closed;
  });

  it('refuses a bad nonce, a bad language or a password in the message with BAD_REQUEST, without a window', async () => {
    const { person, card } = await start();
    const client = await daemon.connect();
    await client.request({ type: 'hello', id: 'h' });
    const before = card.apduCount;
    for (const [id, overrides] of [
      ['n', { nonce: 'short' }],
      ['l', { language: 'fr' }],
      ['p', { pin: alice.signingPin }],
    ] as const) {
      expect(await client.request(verifyIdentity(id, overrides))).toMatchObject({
        type: 'error',
        id,
        code: 'BAD_REQUEST',
      });
    }
    expect(person.requests).toHaveLength(0);
    expect(card.apduCount).toBe(before);
  });

  it('logs the operation and its origin, never the password, a certificate, a tag or serial of one, or a fact', async () => {
    const { person, logLines } = await start();
    const client = await daemon.connect();
    person.types(WRONG_PASSWORD);
    expect(await client.request(verifyIdentity('l1'))).toMatchObject({ code: 'PIN_INCORRECT' });
    const answer = (await client.request(verifyIdentity('l2'))) as IdentityVerifiedResponse;
    expect(answer.type).toBe('identity-verified');
    const log = logLines.join('');
    expect(log).toContain('"msg":"verify identity"');
    expect(log).toContain('"msg":"identity verified"');
    expect(log).toContain(`"origin":"${ORIGIN}"`);
    for (const text of [
      ...personalTexts(),
      alice.signingPin,
      WRONG_PASSWORD,
      answer.signature.slice(0, 40),
    ]) {
      expect(log).not.toContain(text);
    }
  });
});

/** GET `path` on the helper. */
const get = (path: string) => helperGet(daemon.current.port, path);
/** GET `path`, following the helper's redirects within itself. */
const navigate = (path: string) => helperNavigate(daemon.current.port, path);

/** The path of the navigation a login page makes for an identity verification. */
function identityPath(nonce: string, language: 'ja' | 'en' = 'en'): string {
  const url = new URL(
    authenticateNavigationUrl(daemon.current.port, {
      nonce,
      returnUrl: RETURN,
      language,
      purpose: 'verify-identity',
    }),
  );
  return `${url.pathname}${url.search}`;
}

/** The answer a 303 carries to the return address. */
const answerOf = (reply: Reply): CardAnswer => redirectedAnswer(reply, RETURN);

/** The operation id on a waiting page. */
function operationOf(reply: Reply): string {
  expect(reply.status).toBe(200);
  const match = /url=\/authenticate\/wait\?op=([A-Za-z0-9_-]{22})&amp;/.exec(reply.body);
  if (!match?.[1]) throw new Error(`not a waiting page: ${reply.body.slice(0, 400)}`);
  return match[1];
}

describe('verify-identity on the navigation path', () => {
  it('asks for the signing password for the return address’s origin and redirects there with the identity answer', async () => {
    const { person } = await start();
    const nonce = newNonce();
    const answer = answerOf(await navigate(identityPath(nonce)));
    if (!('signingCertificate' in answer)) throw new Error(JSON.stringify(answer));
    expect(answer).toMatchObject({ v: 2, nonce, purpose: 'verify-identity' });
    expectSignedIdentity(answer, { card: alice, origin: ORIGIN, nonce });
    expect(person.requests).toEqual([
      expect.objectContaining({ origin: ORIGIN, purpose: 'verify-identity', secret: 'signing-password' }),
    ]);
  });

  it('says on the waiting page that this is an identity verification, what will be read and where to type the password', async () => {
    const { person } = await start({ navigation: { holdMs: 50 } });
    const window = person.leavesOpen();
    const en = await navigate(identityPath(newNonce()));
    expect(en.body).toContain('<h1>Verify your identity with your MyNumber card</h1>');
    expect(en.body).toContain('Identity verification for');
    expect(en.body).toContain(`<p id="site" class="site">${ORIGIN}</p>`);
    expect(en.body).toContain('name, address, date of birth and gender');
    expect(en.body).toContain('Enter the password of your signing certificate');
    expect(en.body).not.toContain('Signing in at');
    const cancelled = answerOf(await get(`/authenticate/cancel?op=${operationOf(en)}`));
    expect(cancelled).toEqual({
      v: 2,
      nonce: expect.any(String),
      purpose: 'verify-identity',
      error: { code: 'USER_CANCELLED' },
    });
    expect(await window.closed).toMatchObject({ code: 'USER_CANCELLED' });
    await waitIdle(daemon.current.port);
    const jaWindow = person.leavesOpen();
    const ja = await navigate(identityPath(newNonce(), 'ja'));
    expect(ja.body).toContain('<h1>マイナンバーカードで本人確認</h1>');
    expect(ja.body).toContain('本人確認の依頼元');
    expect(ja.body).toContain('氏名・住所・生年月日・性別');
    expect(ja.body).toContain('署名用電子証明書のパスワード');
    answerOf(await get(`/authenticate/cancel?op=${operationOf(ja)}`));
    await jaWindow.closed;
  });

  it('sends a wrong password back as PIN_INCORRECT with the tries left, and a blocked one as PIN_BLOCKED, both marked verify-identity', async () => {
    const { person } = await start({ card: await cardWithSpentTries(alice, 3, SIGNING_PIN) });
    person.types(WRONG_PASSWORD).types(WRONG_PASSWORD);
    const nonce = newNonce();
    expect(answerOf(await navigate(identityPath(nonce)))).toEqual({
      v: 2,
      nonce,
      purpose: 'verify-identity',
      error: { code: 'PIN_INCORRECT', triesLeft: 1 },
    });
    expect(answerOf(await navigate(identityPath(nonce)))).toMatchObject({
      purpose: 'verify-identity',
      error: { code: 'PIN_BLOCKED', triesLeft: 0 },
    });
    expect(answerOf(await navigate(identityPath(nonce)))).toMatchObject({
      purpose: 'verify-identity',
      error: { code: 'PIN_BLOCKED' },
    });
    expect(person.requests).toHaveLength(2);
  });

  it('closes the window and answers CANCELLED when the browser leaves the waiting page', async () => {
    const { person, port } = await start({ navigation: { holdMs: 5_000, abandonMs: 200 } });
    const window = person.leavesOpen();
    const reply = await get(identityPath(newNonce()));
    expect(reply.status).toBe(303);
    const op = /op=([A-Za-z0-9_-]{22})/.exec(String(reply.headers.location))?.[1];
    expect(await window.closed).toMatchObject({ code: 'CANCELLED' });
    await waitIdle(port);
    expect(answerOf(await get(`/authenticate/wait?op=${op}`))).toMatchObject({
      purpose: 'verify-identity',
      error: { code: 'CANCELLED' },
    });
  });

  it('answers an unknown purpose with the incomplete-request page, no window and no redirect', async () => {
    const { person } = await start();
    const path = identityPath(newNonce()).replace('purpose=verify-identity', 'purpose=sign-everything');
    const reply = await get(path);
    expect(reply.status).toBe(400);
    expect(reply.headers.location).toBeUndefined();
    expect(reply.body).toContain('nothing was signed');
    expect(person.requests).toHaveLength(0);
  });

  it('logs the path without the signing certificate, its facts or a tag of either certificate', async () => {
    const { logLines } = await start();
    answerOf(await navigate(identityPath(newNonce())));
    const log = logLines.join('');
    expect(log).toContain('"msg":"identity verified"');
    expect(log).toContain('"path":"navigation"');
    for (const text of [...personalTexts(), alice.signingPin]) expect(log).not.toContain(text);
  });
});

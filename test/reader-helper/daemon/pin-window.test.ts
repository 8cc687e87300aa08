/**
 * The daemon with the helper's real PIN window (D's zenity dialog on a private Xvfb), answered
 * with the keyboard through xdotool as a person would: a sign-in over the WebSocket and over the
 * navigation path, the last try confirmed (or declined) in the window, the window closed when the
 * page cancels, and an identity verification with the signing password typed into the same kind of
 * window. Fails loudly without Xvfb, zenity or xdotool.
 */
import { request as httpRequest } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { DEV_SIGNING_PIN } from '../../../dev-pki/hierarchy.js';
import {
  authenticateNavigationUrl,
  decodeCardAnswer,
  type ErrorResponse,
  type IdentityVerifiedResponse,
} from '../../../protocol/helper-protocol.js';
import { createPinEntry } from '../../../reader-helper/pin-entry/pin-entry.js';
import { devPki, newNonce, ORIGIN } from '../../support/dev-pki.js';
import { PinDialogUser } from '../../support/pin-dialog-user.js';
import { startXvfb, type XDisplay } from '../../support/xvfb.js';
import { Client, type Fixture, startFixture } from './daemon-fixture.js';

let display: XDisplay;
let person: PinDialogUser;
let fixture: Fixture | undefined;
const clients: Client[] = [];

beforeAll(async () => {
  await devPki();
  display = await startXvfb();
  person = new PinDialogUser(display);
}, 30_000);

afterAll(async () => {
  await display?.stop();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await fixture?.close();
  fixture = undefined;
});

async function connect(): Promise<Client> {
  fixture = await startFixture({ pinEntry: createPinEntry({ env: display.env }) });
  const client = await Client.open(fixture.port, { origin: ORIGIN });
  clients.push(client);
  return client;
}

function authenticate(id: string) {
  return { type: 'authenticate', id, nonce: newNonce(), language: 'en' };
}

describe('the helper’s own PIN window (zenity)', () => {
  it('signs in over the WebSocket with the PIN typed into the window', async () => {
    const client = await connect();
    const answer = client.request(authenticate('a'));
    await person.enterPin('1234');
    expect(await answer).toMatchObject({ type: 'authenticated', id: 'a' });
    expect(client.progress).toContainEqual({ type: 'progress', id: 'a', step: 'pin-entry', triesLeft: 3 });
  }, 30_000);

  it('asks before the last try: declined, the try stays; accepted, the right PIN signs', async () => {
    const client = await connect();
    for (const id of ['w1', 'w2']) {
      const wrong = client.request(authenticate(id));
      await person.enterPin('0000');
      expect(await wrong).toMatchObject({ type: 'error', code: 'PIN_INCORRECT' });
    }
    const declined = client.request(authenticate('last'));
    await person.declineLastTry();
    expect(await declined).toMatchObject({ type: 'error', code: 'USER_CANCELLED' });
    const accepted = client.request(authenticate('ok'));
    await person.acceptLastTry();
    await person.enterPin('1234');
    expect(await accepted).toMatchObject({ type: 'authenticated', id: 'ok' });
  }, 60_000);

  it('closes the window when the page cancels', async () => {
    const client = await connect();
    client.send(authenticate('c'));
    while ((await person.helperWindows()).length === 0) await delay(25);
    client.send({ type: 'cancel', id: 'c' });
    const answers = [await client.nextAnswer(), await client.nextAnswer()];
    expect(answers.map((answer) => (answer as ErrorResponse).code ?? answer.type).sort()).toEqual([
      'CANCELLED',
      'cancelled',
    ]);
    expect(await person.noDialogWithin(500)).toBe(true);
  }, 30_000);

  it('verifies an identity with the signing password typed into the window; a wrong one costs a try', async () => {
    const client = await connect();
    const wrong = client.request({ type: 'verify-identity', id: 'w', nonce: newNonce(), language: 'en' });
    await person.enterPin('WRONG1');
    expect(await wrong).toMatchObject({ type: 'error', code: 'PIN_INCORRECT', triesLeft: 4 });
    const answer = client.request({ type: 'verify-identity', id: 'v', nonce: newNonce(), language: 'ja' });
    await person.enterPin(DEV_SIGNING_PIN);
    const verified = (await answer) as IdentityVerifiedResponse;
    expect(verified).toMatchObject({ type: 'identity-verified', id: 'v' });
    expect(verified.signingCertificate.length).toBeGreaterThan(100);
    expect(client.progress).toContainEqual({ type: 'progress', id: 'v', step: 'pin-entry', triesLeft: 4 });
  }, 30_000);

  it('signs in over the navigation path with the PIN typed into the window', async () => {
    await connect();
    const { port } = fixture as Fixture;
    const returnUrl = `${ORIGIN}/interaction/zen/card-answer`;
    const url = new URL(authenticateNavigationUrl(port, { nonce: newNonce(), returnUrl, language: 'ja' }));
    const locationOf = (path: string) =>
      new Promise<string>((resolve, reject) => {
        httpRequest({ host: '127.0.0.1', port, path }, (response) => {
          response.resume();
          resolve(String(response.headers.location));
        })
          .on('error', reject)
          .end();
      });
    // Followed as a browser does: the helper's wait URL is held while the person types.
    const location = locationOf(`${url.pathname}${url.search}`).then(locationOf);
    await person.enterPin('1234');
    const answer = decodeCardAnswer(new URL(await location).hash);
    expect(answer).toHaveProperty('signature');
  }, 30_000);
});

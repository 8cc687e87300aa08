import { request as httpRequest } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from '@jest/globals';
import {
  authenticateNavigationUrl,
  type CardAnswer,
  type HelperLanguage,
} from '../../../protocol/helper-protocol.js';
import { fetchStatus } from '../../../reader-helper/cli/status.js';
import { checkReturnAddress } from '../../../reader-helper/daemon/navigation.js';
import { OriginPolicy } from '../../../reader-helper/daemon/origin-policy.js';
import { checkNavigationRequest } from '../../../reader-helper/daemon/upgrade-guard.js';
import { devPki, newNonce, ORIGIN } from '../../support/dev-pki.js';
import {
  daemonPerTest,
  helperGet,
  helperNavigate,
  type Reply,
  redirectedAnswer,
  verifySignedAnswer,
} from './daemon-fixture.js';

const RETURN = `${ORIGIN}/interaction/uid_1-A/card-answer`;

const daemon = daemonPerTest();
const start = daemon.start;

beforeAll(async () => {
  await devPki();
});

/** GET (or `method`) of `path` on the helper. */
const get = (path: string, method?: string) => helperGet(daemon.current.port, path, method);
/** GET `path`, following the helper's redirects within itself. */
const navigate = (path: string) => helperNavigate(daemon.current.port, path);

/** The operation id of the helper's first answer: `303 /authenticate/wait?op=<id>&lang=<lang>`. */
function startedOperation(reply: Reply): string {
  expect(reply.status).toBe(303);
  const match = /^\/authenticate\/wait\?op=([A-Za-z0-9_-]{22})&lang=(ja|en)$/.exec(
    String(reply.headers.location),
  );
  if (!match?.[1]) throw new Error(`not the wait URL: ${String(reply.headers.location)}`);
  return match[1];
}

/** The path (and query) of the navigation a login page makes. */
function authenticatePath(
  options: { nonce?: string; returnUrl?: string; language?: HelperLanguage } = {},
): string {
  const url = new URL(
    authenticateNavigationUrl(daemon.current.port, {
      nonce: options.nonce ?? newNonce(),
      returnUrl: options.returnUrl ?? RETURN,
      language: options.language ?? 'en',
    }),
  );
  return `${url.pathname}${url.search}`;
}

/** The answer a 303 carries to the return address (fails unless it redirects exactly there). */
const answerOf = (reply: Reply, returnUrl = RETURN): CardAnswer => redirectedAnswer(reply, returnUrl);

/** The operation id on a waiting page (its refresh and cancel links). */
function operationOf(reply: Reply): string {
  expect(reply.status).toBe(200);
  const match =
    /<meta http-equiv="refresh" content="0;url=\/authenticate\/wait\?op=([A-Za-z0-9_-]{22})&amp;lang=(ja|en)">/.exec(
      reply.body,
    );
  if (!match?.[1]) throw new Error(`not a waiting page: ${reply.body.slice(0, 400)}`);
  expect(reply.body).toContain(`href="/authenticate/cancel?op=${match[1]}&amp;lang=${match[2]}"`);
  return match[1];
}

async function waitIdle(port: number): Promise<void> {
  while ((await fetchStatus(port)).busy) await delay(10);
}

describe('return addresses', () => {
  const policy = new OriginPolicy([ORIGIN, 'https://op.example:8443'], false);
  const dev = new OriginPolicy([ORIGIN], true);

  it('accepts exactly <allowed origin>/interaction/<uid>/card-answer', () => {
    expect(checkReturnAddress(RETURN, policy)).toEqual({ ok: true, returnUrl: RETURN, origin: ORIGIN });
    const onPort = 'https://op.example:8443/interaction/x/card-answer';
    expect(checkReturnAddress(onPort, policy)).toMatchObject({ ok: true, origin: 'https://op.example:8443' });
    const local = 'http://localhost:3000/interaction/x/card-answer';
    expect(checkReturnAddress(local, dev)).toMatchObject({ ok: true, origin: 'http://localhost:3000' });
  });

  it.each([
    ['a foreign origin', 'https://evil.example/interaction/x/card-answer', 'https://evil.example'],
    [
      'http for an https site',
      'http://login.example.jp/interaction/x/card-answer',
      'http://login.example.jp',
    ],
    [
      'another port',
      'https://login.example.jp:8443/interaction/x/card-answer',
      'https://login.example.jp:8443',
    ],
    ['a trailing dot', 'https://login.example.jp./interaction/x/card-answer', 'https://login.example.jp.'],
    [
      'an IDN look-alike in punycode',
      'https://xn--lgin-zpa.example.jp/interaction/x/card-answer',
      'https://xn--lgin-zpa.example.jp',
    ],
    [
      'a subdomain',
      'https://login.example.jp.evil.example/interaction/x/card-answer',
      'https://login.example.jp.evil.example',
    ],
    [
      'localhost outside development mode',
      'http://localhost:3000/interaction/x/card-answer',
      'http://localhost:3000',
    ],
  ])('refuses %s as a site that is not set up', (_, value, site) => {
    expect(checkReturnAddress(value, policy)).toEqual({ ok: false, reason: 'RETURN_ORIGIN_REFUSED', site });
  });

  it.each([
    ['a dot-dot segment after the path', `${RETURN}/..`],
    ['an encoded dot-dot segment', `${RETURN}/%2e%2e`],
    ['an encoded dot-dot inside the path', `${ORIGIN}/interaction/x/%2e%2e/card-answer`],
    ['a dot segment', `${ORIGIN}/interaction/./x/card-answer`],
    ['a query', `${RETURN}?next=https://evil.example`],
    ['an empty query', `${RETURN}?`],
    ['a fragment', `${RETURN}#x`],
    ['an empty fragment', `${RETURN}#`],
    ['userinfo', 'https://op@login.example.jp/interaction/x/card-answer'],
    ['userinfo naming the site', 'https://login.example.jp@evil.example/interaction/x/card-answer'],
    ['the default port spelled out', 'https://login.example.jp:443/interaction/x/card-answer'],
    ['an uppercase host', 'https://LOGIN.example.jp/interaction/x/card-answer'],
    ['an uppercase scheme', 'HTTPS://login.example.jp/interaction/x/card-answer'],
    ['a Unicode host (IDN)', 'https://ログイン.example.jp/interaction/x/card-answer'],
    ['backslashes', 'https:\\\\login.example.jp\\interaction\\x\\card-answer'],
    ['a tab in the host', 'https://login.exa\tmple.jp/interaction/x/card-answer'],
    ['surrounding spaces', ` ${RETURN} `],
    ['a trailing slash', `${RETURN}/`],
    ['a path parameter', `${RETURN};jsessionid=x`],
    ['a raw line break (header injection)', `${RETURN}\r\nSet-Cookie: x=1`],
    ['an encoded line break', `${ORIGIN}/interaction/x%0d%0a/card-answer`],
    ['a non-ASCII uid', `${ORIGIN}/interaction/ü/card-answer`],
    ['a double slash', `${ORIGIN}//interaction/x/card-answer`],
    ['an encoded slash in the uid', `${ORIGIN}/interaction/a%2Fb/card-answer`],
    ['another OP path', `${ORIGIN}/interaction/x/login`],
    ['the authorization endpoint', `${ORIGIN}/auth?client_id=rp&redirect_uri=https://evil.example/`],
    ['the site root', `${ORIGIN}/`],
    ['a relative path', '/interaction/x/card-answer'],
    ['javascript:', 'javascript:alert(1)//interaction/x/card-answer'],
    ['data:', 'data:text/html,<script>alert(1)</script>'],
    ['ws:', 'ws://login.example.jp/interaction/x/card-answer'],
    ['nothing', ''],
  ])('refuses %s as not a card-answer address', (_, value) => {
    expect(checkReturnAddress(value, policy)).toMatchObject({ ok: false, reason: 'RETURN_INVALID' });
  });

  it('refuses a missing return address', () => {
    expect(checkReturnAddress(null, policy)).toEqual({
      ok: false,
      reason: 'RETURN_INVALID',
      site: undefined,
    });
  });
});

describe('navigation request checks', () => {
  const port = 47_123;
  const host = `127.0.0.1:${port}`;
  it('lets a top-level navigation through, with or without Fetch Metadata', () => {
    expect(checkNavigationRequest({ host }, port)).toBeUndefined();
    expect(
      checkNavigationRequest(
        { host, 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', 'sec-fetch-site': 'cross-site' },
        port,
      ),
    ).toBeUndefined();
  });

  it.each([
    [{ host: `evil.example:${port}` }, 'HOST_REFUSED'],
    [{ host: `localhost:${port}` }, 'HOST_REFUSED'],
    [{}, 'HOST_REFUSED'],
    [{ host, 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe' }, 'NOT_NAVIGATION'],
    [{ host, 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' }, 'NOT_NAVIGATION'],
    [{ host, 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' }, 'NOT_NAVIGATION'],
    [
      { host, 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', 'sec-purpose': 'prefetch' },
      'NOT_NAVIGATION',
    ],
    [{ host, purpose: 'prefetch' }, 'NOT_NAVIGATION'],
  ])('refuses %j with %s', (headers, reason) => {
    expect(checkNavigationRequest(headers, port)).toEqual({ ok: false, reason });
  });
});

describe('helper daemon: navigation path', () => {
  it('asks the person for the PIN for the return address’s origin and redirects there with the signature in the fragment', async () => {
    const { person } = await start();
    const nonce = newNonce();
    const reply = await navigate(authenticatePath({ nonce, language: 'en' }));
    const answer = answerOf(reply);
    expect(answer).toMatchObject({ v: 2, nonce });
    if (!('certificate' in answer)) throw new Error(`no signature: ${JSON.stringify(answer)}`);
    const verified = await verifySignedAnswer(answer, ORIGIN, nonce);
    expect(verified.kind).toBe('user-auth');
    expect(person.requests).toHaveLength(1);
    expect(person.requests[0]).toMatchObject({
      origin: ORIGIN,
      purpose: 'sign-in',
      triesLeft: 3,
      language: 'en',
    });
    expect(reply.headers['referrer-policy']).toBe('no-referrer');
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(reply.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  });

  it('shows the PIN window in Japanese for lang=ja', async () => {
    const { person } = await start();
    answerOf(await navigate(authenticatePath({ language: 'ja' })));
    expect(person.requests[0]?.language).toBe('ja');
  });

  it('refuses a return address it does not answer to with a page and no redirect, without a PIN window or an APDU, and lists it on the status page', async () => {
    const { person, card, logLines } = await start();
    for (const returnUrl of [
      'https://evil.example/interaction/x/card-answer',
      `${RETURN}/..`,
      `${RETURN}?x`,
      'https://op@login.example.jp/interaction/x/card-answer',
    ]) {
      const reply = await navigate(authenticatePath({ returnUrl }));
      expect(reply.status).toBe(400);
      expect(reply.headers.location).toBeUndefined();
      expect(reply.body).toContain('Nothing was signed');
      expect(reply.body).not.toContain('<script');
      expect(reply.headers['content-security-policy']).toContain("default-src 'none'");
    }
    const missing = await get(`/authenticate?nonce=${newNonce()}`);
    expect(missing.status).toBe(400);
    expect(person.requests).toHaveLength(0);
    expect(card.apduCount).toBe(0);
    const statusPage = await get('/');
    expect(statusPage.body).toContain(
      '<code>https://evil.example</code></td><td>1</td><td>not set up (sent you to the card helper to sign in)',
    );
    expect(statusPage.body).toContain('a return address that is not a sign-in page');
    expect(logLines.join('')).toContain('"reason":"RETURN_ORIGIN_REFUSED"');
  });

  it('says in Japanese that nothing was signed', async () => {
    await start();
    const reply = await navigate(
      `${authenticatePath({ returnUrl: 'https://evil.example/interaction/x/card-answer', language: 'ja' })}`,
    );
    expect(reply.body).toContain('署名していません');
    expect(reply.body).toContain(
      '<code>https://evil.example</code> は、カード読み取りアプリ（myna-helper）でカードを使えるサイトとして設定されていません。',
    );
  });

  it('answers a bad nonce with a page linking back, no answer and no PIN window', async () => {
    const { person } = await start();
    const reply = await get(`/authenticate?nonce=short&return=${encodeURIComponent(RETURN)}&lang=en`);
    expect(reply.status).toBe(400);
    expect(reply.headers.location).toBeUndefined();
    expect(reply.body).toContain(`<a id="back" href="${RETURN}">Back to ${ORIGIN}</a>`);
    expect(person.requests).toHaveLength(0);
  });

  it('sends a wrong PIN back as PIN_INCORRECT with the tries left, and a blocked card as PIN_BLOCKED', async () => {
    const { person } = await start();
    person.types('9999').types('9999').types('9999');
    const nonce = newNonce();
    expect(answerOf(await navigate(authenticatePath({ nonce })))).toEqual({
      v: 2,
      nonce,
      error: { code: 'PIN_INCORRECT', triesLeft: 2 },
    });
    answerOf(await navigate(authenticatePath()));
    expect(answerOf(await navigate(authenticatePath()))).toMatchObject({
      error: { code: 'PIN_BLOCKED', triesLeft: 0 },
    });
    expect(answerOf(await navigate(authenticatePath()))).toMatchObject({
      error: { code: 'PIN_BLOCKED', triesLeft: 0 },
    });
    expect(person.requests).toHaveLength(3);
  });

  it('sends the person’s Cancel in the PIN window back as USER_CANCELLED', async () => {
    const { person } = await start();
    person.cancels();
    expect(answerOf(await navigate(authenticatePath()))).toMatchObject({ error: { code: 'USER_CANCELLED' } });
  });

  it('answers BUSY at once while a WebSocket session’s PIN window is open, without a second window', async () => {
    const { person } = await start();
    const window = person.leavesOpen();
    const client = await daemon.connect();
    client.send({ type: 'authenticate', id: 'ws', nonce: newNonce() });
    await window.opened;
    const nonce = newNonce();
    expect(answerOf(await navigate(authenticatePath({ nonce })))).toEqual({
      v: 2,
      nonce,
      error: { code: 'BUSY' },
    });
    expect(person.requests).toHaveLength(1);
    client.send({ type: 'cancel', id: 'ws' });
    await window.closed;
  });

  it('holds the slot for a navigation: a WebSocket authenticate meanwhile is BUSY', async () => {
    const { person } = await start({ navigation: { holdMs: 50 } });
    const window = person.leavesOpen();
    const waiting = await navigate(authenticatePath());
    const op = operationOf(waiting);
    await window.opened;
    const client = await daemon.connect();
    expect(await client.request({ type: 'authenticate', id: 'b', nonce: newNonce() })).toMatchObject({
      type: 'error',
      code: 'BUSY',
    });
    expect(answerOf(await get(`/authenticate/cancel?op=${op}`))).toMatchObject({
      error: { code: 'USER_CANCELLED' },
    });
    expect(await window.closed).toMatchObject({ code: 'USER_CANCELLED' });
  });

  it('shows the waiting page (site, where to type the PIN, cancel link) while the person types, then redirects from the wait URL; the answer is collected once', async () => {
    const { person } = await start({ navigation: { holdMs: 100 } });
    person.typesAfter(400, '1234');
    const first = await navigate(authenticatePath({ language: 'en' }));
    const op = operationOf(first);
    expect(first.body).toContain('Enter your PIN in the window of the card helper (myna-helper).');
    expect(first.body).toContain(`<p id="site" class="site">${ORIGIN}</p>`);
    expect(first.body).toContain('Cancel and go back');
    expect(first.headers['content-security-policy']).toContain("default-src 'none'");
    expect(first.headers['cache-control']).toBe('no-store');
    let reply = await get(`/authenticate/wait?op=${op}`);
    while (reply.status === 200) reply = await get(`/authenticate/wait?op=${operationOf(reply)}`);
    expect(answerOf(reply)).toHaveProperty('signature');
    const again = await get(`/authenticate/wait?op=${op}`);
    expect(again.status).toBe(404);
    expect(again.headers.location).toBeUndefined();
    expect(again.body).toContain('This sign-in is over');
  });

  it('speaks Japanese on the waiting page for lang=ja', async () => {
    const { person } = await start({ navigation: { holdMs: 50 } });
    const window = person.leavesOpen();
    const first = await navigate(authenticatePath({ language: 'ja' }));
    expect(first.body).toContain('カード読み取りアプリ（myna-helper）の画面に暗証番号を入力してください。');
    expect(first.body).toContain('キャンセルして戻る');
    answerOf(await get(`/authenticate/cancel?op=${operationOf(first)}`));
    await window.closed;
  });

  it('answers an unknown or missing operation id with a page, no redirect', async () => {
    await start();
    for (const path of [
      '/authenticate/wait?op=AAAAAAAAAAAAAAAAAAAAAA',
      '/authenticate/wait',
      '/authenticate/cancel?op=x',
    ]) {
      const reply = await get(path);
      expect(reply.status).toBe(404);
      expect(reply.headers.location).toBeUndefined();
    }
  });

  it('Cancel on the waiting page closes the PIN window and returns USER_CANCELLED, never the signature', async () => {
    const { person, port } = await start({ navigation: { holdMs: 50 } });
    const window = person.leavesOpen();
    const op = operationOf(await navigate(authenticatePath()));
    const cancelled = await get(`/authenticate/cancel?op=${op}`);
    expect(answerOf(cancelled)).toMatchObject({ error: { code: 'USER_CANCELLED' } });
    expect(await window.closed).toMatchObject({ code: 'USER_CANCELLED' });
    expect((await get(`/authenticate/wait?op=${op}`)).status).toBe(404);
    await waitIdle(port);
    // A finished but uncollected signature is dropped by Cancel as well.
    person.typesAfter(150, '1234');
    const next = operationOf(await navigate(authenticatePath()));
    await waitIdle(port);
    const dropped = answerOf(await get(`/authenticate/cancel?op=${next}`));
    expect(dropped).toMatchObject({ error: { code: 'USER_CANCELLED' } });
    expect(dropped).not.toHaveProperty('signature');
  });

  it('drops an answer not collected in time', async () => {
    const { person, port } = await start({ navigation: { holdMs: 50, keepResultMs: 150 } });
    person.typesAfter(100, '1234');
    const op = operationOf(await navigate(authenticatePath()));
    await waitIdle(port);
    await delay(300);
    expect((await get(`/authenticate/wait?op=${op}`)).status).toBe(404);
  });

  it('sends a card that is too slow back as TIMEOUT', async () => {
    const { backend, port } = await start({ cardTimeoutMs: 100 });
    backend.hold();
    expect(answerOf(await navigate(authenticatePath()))).toMatchObject({ error: { code: 'TIMEOUT' } });
    backend.release();
    await waitIdle(port);
  });

  it('closes the PIN window when the helper stops', async () => {
    const { person, daemon } = await start({ navigation: { holdMs: 50 } });
    const window = person.leavesOpen();
    operationOf(await navigate(authenticatePath()));
    await window.opened;
    await daemon.close();
    expect(await window.closed).toMatchObject({ code: 'CANCELLED' });
  });

  it('answers /authenticate at once with a redirect to the wait URL: a reload of that URL starts no second operation', async () => {
    const { person, port } = await start({ navigation: { holdMs: 50 } });
    const window = person.leavesOpen();
    const started = await get(authenticatePath());
    const op = startedOperation(started);
    expect(started.headers['cache-control']).toBe('no-store');
    expect(started.headers['referrer-policy']).toBe('no-referrer');
    await window.opened;
    for (let reload = 0; reload < 3; reload++)
      expect(operationOf(await get(`/authenticate/wait?op=${op}&lang=en`))).toBe(op);
    expect(person.requests).toHaveLength(1);
    expect((await fetchStatus(port)).busy).toBe(true);
    answerOf(await get(`/authenticate/cancel?op=${op}`));
    await window.closed;
  });

  it('closes the PIN window and frees the slot when the browser leaves the waiting page (no wait GET pending)', async () => {
    const { person, port } = await start({ navigation: { holdMs: 5_000, abandonMs: 200 } });
    // The browser closes the held wait GET (Esc, tab closed, Back) and asks nothing more.
    const window = person.leavesOpen();
    const op = startedOperation(await get(authenticatePath()));
    await window.opened;
    const held = httpRequest({ host: '127.0.0.1', port, path: `/authenticate/wait?op=${op}&lang=en` });
    held.on('error', () => {});
    held.end();
    await delay(300);
    expect((await fetchStatus(port)).busy).toBe(true);
    const left = performance.now();
    held.destroy();
    expect(await window.closed).toMatchObject({ code: 'CANCELLED' });
    expect(performance.now() - left).toBeGreaterThanOrEqual(150);
    await waitIdle(port);
    // The answer for nobody is CANCELLED (never a signature); a new sign-in is not BUSY.
    expect(answerOf(await get(`/authenticate/wait?op=${op}`))).toMatchObject({
      error: { code: 'CANCELLED' },
    });
    person.types('1234');
    expect(answerOf(await navigate(authenticatePath()))).toHaveProperty('signature');
    // A browser that never follows the first redirect leaves the same way.
    const unfollowed = person.leavesOpen();
    startedOperation(await get(authenticatePath()));
    expect(await unfollowed.closed).toMatchObject({ code: 'CANCELLED' });
    await waitIdle(port);
  });

  it('keeps the operation of a browser that is still on the waiting page (its refresh asks again at once)', async () => {
    const { person } = await start({ navigation: { holdMs: 60, abandonMs: 150 } });
    person.typesAfter(700, '1234');
    let reply = await navigate(authenticatePath());
    let refreshes = 0;
    while (reply.status === 200) {
      refreshes++;
      reply = await get(`/authenticate/wait?op=${operationOf(reply)}`);
    }
    expect(refreshes).toBeGreaterThan(3);
    expect(answerOf(reply)).toHaveProperty('signature');
  });

  it('answers only GET', async () => {
    const { person } = await start();
    for (const method of ['POST', 'HEAD', 'PUT'])
      expect((await get(authenticatePath(), method)).status).toBe(405);
    expect(person.requests).toHaveLength(0);
  });

  it('never logs the PIN or the signature, and logs the path', async () => {
    const { logLines, person } = await start();
    person.types('9876');
    answerOf(await navigate(authenticatePath()));
    const answer = answerOf(await navigate(authenticatePath()));
    const log = logLines.join('');
    expect(log).not.toMatch(/(^|[^0-9])(1234|9876)([^0-9]|$)/);
    expect(log).toContain('"path":"navigation"');
    if ('signature' in answer) expect(log).not.toContain(answer.signature.slice(0, 40));
  });
});

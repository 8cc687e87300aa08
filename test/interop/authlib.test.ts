/**
 * Interop with Python Authlib 1.2 (Debian's python3-authlib): test/interop/authlib/rp_server.py
 * around myna_oidc_client.py (the README's Authlib configuration), configured only from
 * discovery. Signs in through the real card page in Chromium; checks the validated ID token,
 * userinfo, refresh, RP-initiated logout, back-channel logout validated by the RP, and a
 * third-party client through the consent page (allow and deny). Fails loudly without Authlib.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { JPKI_ACR } from '../../functions/op/claims.js';
import { useLocalTables } from '../storage/local-table.js';
import { freePort } from '../support/browser.js';
import { authlibClientMetadata, startAuthlibRp } from '../support/interop-authlib.js';
import {
  backAtRp,
  confirmSignOut,
  eventually,
  forgedLogoutToken,
  type InteropOp,
  signInOnCardPage,
  startInteropOp,
  step,
} from '../support/interop-op.js';
import { type RpProcess, rpBaseUrl } from '../support/interop-process.js';

const RP = 'Authlib';
const FIRST = { id: 'authlib-rp', secret: randomBytes(32).toString('base64url'), host: '127.0.0.3' };
const THIRD = { id: 'authlib-third', secret: randomBytes(32).toString('base64url'), host: '127.0.0.4' };

const newTable = useLocalTables();
let op: InteropOp;
let first: RpProcess & { baseUrl: string };
let third: RpProcess & { baseUrl: string };

beforeAll(async () => {
  const ports = { first: await freePort(), third: await freePort() };
  op = await startInteropOp({
    table: await newTable(),
    clients: [
      authlibClientMetadata(FIRST.id, FIRST.secret, rpBaseUrl(FIRST.host, ports.first), true),
      authlibClientMetadata(THIRD.id, THIRD.secret, rpBaseUrl(THIRD.host, ports.third), false),
    ],
    privateRpHosts: [FIRST.host, THIRD.host],
  });
  const start = (client: typeof FIRST, port: number) =>
    step(RP, `start the RP ${client.id}`, () =>
      startAuthlibRp({
        issuer: op.issuer,
        clientId: client.id,
        clientSecret: client.secret,
        host: client.host,
        port,
      }),
    );
  first = await start(FIRST, ports.first);
  third = await start(THIRD, ports.third);
}, 60_000);

afterAll(async () => {
  await first?.close();
  await third?.close();
  await op?.close();
});

/** A JSON answer of the RP, fetched by the page itself (same origin, the browser's cookies). */
// biome-ignore lint/suspicious/noExplicitAny: the RP's JSON, checked by the expectations
type Json = any;

async function rpJson(page: Page, path: string, method = 'GET'): Promise<{ status: number; body: Json }> {
  return page.evaluate(
    async ([path, method]) => {
      const response = await fetch(path as string, { method });
      return { status: response.status, body: await response.json() };
    },
    [path, method],
  );
}

/** Signs in at `rp` in a fresh context (answering consent for a third-party client). */
async function signedIn(rp: { baseUrl: string }, consent?: 'allow' | 'deny'): Promise<Page> {
  const page = await (await op.newContext()).newPage();
  await step(RP, 'redirect to the OP', () => page.goto(`${rp.baseUrl}/login`));
  await step(RP, consent ? `sign in and ${consent} on the consent page` : 'sign in on the card page', () =>
    signInOnCardPage(page, consent),
  );
  await step(RP, 'callback', () => backAtRp(page, `${rp.baseUrl}/**`));
  return page;
}

async function session(page: Page) {
  const { status, body } = await rpJson(page, '/');
  if (status !== 200) throw new Error(`the RP answered ${status}: ${JSON.stringify(body)}`);
  return body as { claims: Record<string, unknown>; userinfo: Record<string, unknown> };
}

async function backchannelLog(rp: { baseUrl: string }) {
  const response = await fetch(`${rp.baseUrl}/backchannel-log`);
  return (await response.json()) as { accepted: boolean; ended?: number; error?: string; sub?: string }[];
}

describe('Python Authlib as a relying party', () => {
  it('signs in through the card page; Authlib validates the ID token: pairwise sub, acr, amr, auth_time', async () => {
    const before = Math.floor(Date.now() / 1000);
    const page = await signedIn(first);
    const { claims, userinfo } = await step(RP, 'read the session', () => session(page));
    expect(claims).toMatchObject({ iss: op.issuer, aud: FIRST.id, acr: JPKI_ACR, amr: ['sc', 'pin', 'hwk'] });
    expect(claims.sub).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(claims.sub).not.toBe(op.accountOf(FIRST.id));
    expect(claims.auth_time).toBeGreaterThanOrEqual(before - 1);
    expect(userinfo).toEqual({ sub: claims.sub });
    await page.context().close();
  }, 60_000);

  it('refreshes the tokens', async () => {
    const page = await signedIn(first);
    const { claims } = await session(page);
    const once = await step(RP, 'refresh', () => rpJson(page, '/refresh', 'POST'));
    expect(once.status).toBe(200);
    const twice = await step(RP, 'refresh again (rotated refresh token)', () =>
      rpJson(page, '/refresh', 'POST'),
    );
    expect(twice.status).toBe(200);
    expect(twice.body.access_token).not.toBe(once.body.access_token);
    expect(twice.body.claims.sub).toBe(claims.sub);
    await page.context().close();
  }, 60_000);

  it('RP-initiated logout signs out at the OP and returns to the RP', async () => {
    const page = await signedIn(first);
    await step(RP, 'RP-initiated logout', async () => {
      await page.goto(`${first.baseUrl}/logout`);
      await page.waitForURL(`${op.issuer}/**`);
      await confirmSignOut(page);
      await page.waitForURL(`${first.baseUrl}/loggedout`);
    });
    expect((await rpJson(page, '/')).status).toBe(401);
    await page.goto(`${first.baseUrl}/login`);
    await page.waitForURL(/\/interaction\//);
    await page.context().close();
  }, 60_000);

  it('signing out at the OP sends a logout token that Authlib validates and that ends the RP session', async () => {
    const page = await signedIn(first);
    const { claims } = await session(page);
    const logged = (await backchannelLog(first)).length;
    await step(RP, 'back-channel logout', async () => {
      await page.goto(`${op.issuer}/session/end`);
      await confirmSignOut(page);
      await page.waitForLoadState();
    });
    // The entry that ended this session (an earlier test's logout may still be delivered late).
    const ending = async () => (await backchannelLog(first)).slice(logged).find((entry) => entry.ended === 1);
    await step(RP, 'back-channel logout', () => eventually(async () => (await ending()) !== undefined));
    expect(await ending()).toEqual({ accepted: true, sid: claims.sid, sub: claims.sub, ended: 1 });
    expect((await backchannelLog(first)).slice(logged).filter((entry) => !entry.accepted)).toEqual([]);
    await page.goto(`${first.baseUrl}/loggedout`);
    expect((await rpJson(page, '/')).status).toBe(401);
    await page.context().close();
  }, 60_000);

  it('Authlib refuses a logout token the OP did not sign, and the session stays', async () => {
    const page = await signedIn(first);
    const { claims } = await session(page);
    const response = await step(RP, 'forged back-channel logout', async () =>
      fetch(`${first.baseUrl}/backchannel`, {
        method: 'POST',
        body: new URLSearchParams({
          logout_token: await forgedLogoutToken(op.issuer, FIRST.id, {
            sid: claims.sid as string,
            sub: claims.sub as string,
          }),
        }),
      }),
    );
    expect(response.status).toBe(400);
    await response.arrayBuffer();
    expect((await backchannelLog(first)).at(-1)).toMatchObject({ accepted: false });
    expect((await rpJson(page, '/')).status).toBe(200);
    await page.context().close();
  }, 60_000);

  it('a third-party client gets the consent page: Allow signs in with its own pairwise sub', async () => {
    const own = await signedIn(first);
    const ownSub = (await session(own)).claims.sub;
    await own.context().close();
    const page = await signedIn(third, 'allow');
    const { claims } = await step(RP, 'read the third-party session', () => session(page));
    expect(claims).toMatchObject({ aud: THIRD.id, acr: JPKI_ACR });
    expect(claims.sub).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(claims.sub).not.toBe(ownSub);
    await page.context().close();
  }, 90_000);

  it('a third-party client gets the consent page: Do not allow returns access_denied to the RP', async () => {
    const page = await signedIn(third, 'deny');
    await page.waitForURL(`${third.baseUrl}/callback?**`);
    expect(new URL(page.url()).searchParams.get('error')).toBe('access_denied');
    expect((await rpJson(page, '/')).status).toBe(401);
    await page.context().close();
  }, 60_000);
});

/**
 * Interop with Apache 2.4 + mod_auth_openidc (Debian), configured only from discovery with the
 * README's configuration (test/interop/apache/myna-oidc.conf): sign-in through the real card page
 * in Chromium, the claims and userinfo mod_auth_openidc got, refresh, RP-initiated logout and
 * back-channel logout that mod_auth_openidc validates and acts on. Fails loudly without apache2.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { BrowserContext, Page } from 'playwright-core';
import { JPKI_ACR } from '../../functions/op/claims.js';
import { useLocalTables } from '../storage/local-table.js';
import { freePort } from '../support/browser.js';
import { type ApacheRp, apacheClientMetadata, startApacheRp } from '../support/interop-apache.js';
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
import { rpBaseUrl } from '../support/interop-process.js';

const RP = 'mod_auth_openidc';
const HOST = '127.0.0.2';
const CLIENT_ID = 'apache-rp';
const CLIENT_SECRET = randomBytes(32).toString('base64url');

const newTable = useLocalTables();
let op: InteropOp;
let apache: ApacheRp;
let base: string;

beforeAll(async () => {
  const port = await freePort();
  base = rpBaseUrl(HOST, port);
  op = await startInteropOp({
    table: await newTable(),
    clients: [apacheClientMetadata(CLIENT_ID, CLIENT_SECRET, base)],
    privateRpHosts: [HOST],
  });
  apache = await step(RP, 'start Apache', () =>
    startApacheRp({ issuer: op.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, host: HOST, port }),
  );
}, 60_000);

afterAll(async () => {
  await apache?.close();
  await op?.close();
});

/** What mod_auth_openidc's info hook shows about the session. */
interface SessionInfo {
  readonly access_token: string;
  readonly refresh_token?: string;
  readonly id_token: Record<string, unknown>;
  readonly userinfo: Record<string, unknown>;
}

async function sessionInfo(page: Page): Promise<SessionInfo> {
  const response = await page.goto(`${base}/protected/redirect_uri?info=json`);
  if (response?.status() !== 200) throw new Error(`info hook answered ${response?.status()}`);
  return (await response.json()) as SessionInfo;
}

/** Opens the protected page in a fresh context and signs in with the card. */
async function signedIn(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await op.newContext();
  const page = await context.newPage();
  await step(RP, 'redirect to the OP', () => page.goto(`${base}/protected/`));
  await step(RP, 'sign in on the card page', () => signInOnCardPage(page));
  await step(RP, 'callback to the protected page', async () => {
    await backAtRp(page, `${base}/protected/`);
    await page.locator('#protected').waitFor();
  });
  return { context, page };
}

/** Whether the protected page sends this browser to the OP again (no RP session). */
async function sentToOp(page: Page): Promise<boolean> {
  await page.goto(`${base}/protected/`);
  await page.waitForLoadState();
  return page.url().startsWith(op.issuer);
}

describe('Apache mod_auth_openidc as a relying party', () => {
  it('signs in through the card page; the ID token has a pairwise sub, acr, amr and auth_time', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { context, page } = await signedIn();
    const info = await step(RP, 'read the session', () => sessionInfo(page));
    const accountId = op.accountOf(CLIENT_ID) as string;
    expect(accountId).toBeDefined();
    expect(info.id_token).toMatchObject({
      iss: op.issuer,
      aud: CLIENT_ID,
      sub: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      acr: JPKI_ACR,
      amr: ['sc', 'pin', 'hwk'],
    });
    expect(info.id_token.sub).not.toBe(accountId);
    expect(info.id_token.auth_time).toBeGreaterThanOrEqual(before - 1);
    expect(info.userinfo).toEqual({ sub: info.id_token.sub });
    await context.close();
  }, 60_000);

  it('refreshes the access token with the refresh token', async () => {
    const { context, page } = await signedIn();
    const first = await sessionInfo(page);
    expect(first.refresh_token).toEqual(expect.any(String));
    await step(RP, 'refresh', async () => {
      const back = `${base}/protected/`;
      await page.goto(
        `${base}/protected/redirect_uri?refresh=${encodeURIComponent(back)}&access_token=${encodeURIComponent(first.access_token)}`,
      );
      await page.waitForURL(back);
    });
    const refreshed = await sessionInfo(page);
    expect(refreshed.access_token).not.toBe(first.access_token);
    expect(refreshed.id_token.sub).toBe(first.id_token.sub);
    await context.close();
  }, 60_000);

  it('RP-initiated logout signs out at the OP and lands on the logged-out page', async () => {
    const { context, page } = await signedIn();
    await step(RP, 'RP-initiated logout', async () => {
      await page.goto(
        `${base}/protected/redirect_uri?logout=${encodeURIComponent(`${base}/loggedout.html`)}`,
      );
      await page.waitForURL(`${op.issuer}/**`);
      await confirmSignOut(page);
      await page.waitForURL(`${base}/loggedout.html`);
    });
    expect(await sentToOp(page)).toBe(true);
    // The OP session is gone too: the card page asks for the card again.
    expect(page.url()).toMatch(/\/interaction\//);
    await context.close();
  }, 60_000);

  it('refuses a logout token the OP did not sign, and the session stays', async () => {
    const { context, page } = await signedIn();
    const { id_token: claims } = await sessionInfo(page);
    const response = await step(RP, 'forged back-channel logout', async () =>
      fetch(`${base}/protected/redirect_uri?logout=backchannel`, {
        method: 'POST',
        body: new URLSearchParams({
          logout_token: await forgedLogoutToken(op.issuer, CLIENT_ID, {
            sid: claims.sid as string,
            sub: claims.sub as string,
          }),
        }),
      }),
    );
    expect(response.status).toBe(400);
    await response.arrayBuffer();
    expect(await sentToOp(page)).toBe(false);
    await context.close();
  }, 60_000);

  it('signing out at the OP ends the Apache session through a validated back-channel logout token', async () => {
    const { context, page } = await signedIn();
    await step(RP, 'sign out at the OP', async () => {
      await page.goto(`${op.issuer}/session/end`);
      await confirmSignOut(page);
      await page.waitForLoadState();
    });
    // The browser still has its mod_auth_openidc cookie; only the logout token can end the session.
    expect((await context.cookies(base)).map((cookie) => cookie.name)).toContain('mod_auth_openidc_session');
    const ended = await step(RP, 'back-channel logout', () => eventually(() => sentToOp(page)));
    if (!ended)
      throw new Error(`${RP}: back-channel logout did not end the session\n${await apache.errorLog()}`);
    await context.close();
  }, 60_000);
});

/**
 * A browser SPA as a public client (token_endpoint_auth_method none) with oauth4webapi in real
 * Chromium: discovery, PKCE S256, the code exchange and userinfo are cross-origin fetches the OP
 * allows by CORS for the client's own origin only; the sign-in goes through the real card page.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { JPKI_ACR } from '../../functions/op/claims.js';
import { useLocalTables } from '../storage/local-table.js';
import { freePort } from '../support/browser.js';
import { backAtRp, type InteropOp, signInOnCardPage, startInteropOp, step } from '../support/interop-op.js';
import { type SpaServer, startSpaServer } from '../support/interop-spa.js';

const RP = 'SPA (oauth4webapi in Chromium)';
const SPA_HOST = '127.0.0.5';
/** Serves the same page from another origin, which the OP must not answer by CORS. */
const OTHER_HOST = '127.0.0.6';
const CLIENT_ID = 'spa-public';

const newTable = useLocalTables();
let op: InteropOp;
let spa: SpaServer;
let spaOrigin: string;
let otherOrigin: string;

beforeAll(async () => {
  const port = await freePort();
  op = await startInteropOp({
    table: await newTable(),
    clients: [
      {
        client_id: CLIENT_ID,
        client_name: 'SPA',
        token_endpoint_auth_method: 'none',
        redirect_uris: [`http://${SPA_HOST}:${port}/callback`],
        myna_first_party: true,
      },
    ],
    privateRpHosts: [],
  });
  spa = await startSpaServer({ hosts: [SPA_HOST, OTHER_HOST], port, issuer: op.issuer, clientId: CLIENT_ID });
  [spaOrigin = '', otherOrigin = ''] = spa.origins;
}, 60_000);

afterAll(async () => {
  await spa?.close();
  await op?.close();
});

async function result(page: Page): Promise<Record<string, unknown>> {
  const text = await page.locator('#result').filter({ hasText: /./ }).textContent({ timeout: 20_000 });
  return JSON.parse(text ?? '{}');
}

describe('a browser SPA as a public client', () => {
  it('signs in with PKCE; token and userinfo answer the SPA origin by CORS', async () => {
    const page = await (await op.newContext()).newPage();
    const corsAnswers: Record<string, string | null> = {};
    page.on('response', (response) => {
      const url = new URL(response.url());
      if (url.origin === op.issuer)
        corsAnswers[url.pathname] = response.headers()['access-control-allow-origin'] ?? null;
    });
    await step(RP, 'redirect to the OP', async () => {
      await page.goto(`${spaOrigin}/`);
      await page.getByRole('button', { name: 'Sign in with MyNumber card' }).click();
    });
    await step(RP, 'sign in on the card page', () => signInOnCardPage(page));
    await step(RP, 'callback', () => backAtRp(page, `${spaOrigin}/callback?**`));
    const shown = await step(RP, 'code exchange and userinfo', () => result(page));
    expect(shown.error).toBeUndefined();
    expect(shown.claims).toMatchObject({
      iss: op.issuer,
      aud: CLIENT_ID,
      acr: JPKI_ACR,
      amr: ['sc', 'pin', 'hwk'],
    });
    const claims = shown.claims as { sub: string };
    expect(shown.userinfo).toEqual({ sub: claims.sub });
    expect(shown.tokenType).toMatch(/^bearer$/i);
    // No offline_access: a public client gets no refresh token (README, "For relying parties").
    expect(shown.refreshToken).toBe(false);
    const metadata = (await fetch(`${op.issuer}/.well-known/openid-configuration`).then((r) => r.json())) as {
      token_endpoint: string;
      userinfo_endpoint: string;
    };
    expect(corsAnswers[new URL(metadata.token_endpoint).pathname]).toBe(spaOrigin);
    expect(corsAnswers[new URL(metadata.userinfo_endpoint).pathname]).toBe(spaOrigin);
    await page.context().close();
  }, 60_000);

  it('a page of another origin cannot use the token endpoint for this client (CORS refused)', async () => {
    const page = await (await op.newContext()).newPage();
    await page.goto(`${otherOrigin}/`);
    const outcome = await page.evaluate(
      async ([issuer, clientId]) => {
        const discovery = await fetch(`${issuer}/.well-known/openid-configuration`);
        const metadata = (await discovery.json()) as { token_endpoint: string };
        try {
          await fetch(metadata.token_endpoint, {
            method: 'POST',
            body: new URLSearchParams({
              grant_type: 'authorization_code',
              code: 'x',
              client_id: clientId as string,
            }),
          });
          return 'answered';
        } catch (error) {
          return String(error);
        }
      },
      [op.issuer, CLIENT_ID],
    );
    expect(outcome).toMatch(/TypeError: Failed to fetch/);
    await page.context().close();
  }, 60_000);
});

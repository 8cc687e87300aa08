/**
 * An https issuer in real Chromium: the OP on TLS (a test CA and server certificate made with
 * openssl, test/support/https-issuer.ts; Chromium accepts the server key by its SPKI hash), a card
 * login through the login page and the reader-helper (the PIN typed into the helper's own window),
 * and what Chromium itself stored and was told: the `__Host-session` cookie (Secure, Path=/, no
 * Domain), the `__Secure-` interaction cookies, and HSTS on every answer.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import type { Browser } from 'playwright-core';
import { createOpApp } from '../../functions/op/app.js';
import { HSTS_VALUE } from '../../functions/op/security-headers.js';
import type { CardIdentity } from '../../reader-helper/virtual-card/identity.js';
import { useLocalTables } from '../storage/local-table.js';
import {
  launchChromium,
  signInWithHelperWindow,
  startVirtualHelper,
  type VirtualHelper,
} from '../support/browser.js';
import { aliceCard } from '../support/card.js';
import { issueTestTls, type TestTls } from '../support/https-issuer.js';
import { authorizationRequest, httpTransportFrom, relyingParty } from '../support/oidc-flow.js';
import { TEST_CLIENTS, testOpConfig } from '../support/op-stack.js';

const newTable = useLocalTables();
const A = TEST_CLIENTS.firstParty;
/** The RP's callback: a server on loopback that records the URLs it is sent to. */
const rpSite = { server: createHttpServer(), callbacks: [] as URL[], redirectUri: '' };
let tls: TestTls;
let identity: CardIdentity;
let helper: VirtualHelper;
let server: Server;
let issuer: string;
let browser: Browser;
let rp: client.Configuration;

beforeAll(async () => {
  tls = await issueTestTls({ ipAddresses: ['127.0.0.1'] });
  server = createHttpsServer({ key: tls.key, cert: tls.cert });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  identity = (await aliceCard()).identity;
  helper = await startVirtualHelper({ identity, allowedOrigins: [issuer] });
  rpSite.server.on('request', (request, response) => {
    rpSite.callbacks.push(new URL(request.url ?? '/', rpSite.redirectUri));
    response.setHeader('content-type', 'text/html; charset=utf-8');
    response.end('<h1>RP</h1>');
  });
  await new Promise<void>((resolve) => rpSite.server.listen(0, '127.0.0.1', resolve));
  rpSite.redirectUri = `http://127.0.0.1:${(rpSite.server.address() as AddressInfo).port}/cb`;
  const clients = [{ ...A, redirect_uris: [rpSite.redirectUri] }];
  const app = await createOpApp(
    await testOpConfig(issuer, { table: await newTable(), helperPort: helper.port, clients }),
  );
  server.on('request', app.listener);
  rp = await relyingParty({
    issuer,
    clientId: A.client_id,
    clientSecret: A.client_secret,
    transport: httpTransportFrom({ ca: tls.caCert }),
  });
  browser = await launchChromium([`--ignore-certificate-errors-spki-list=${tls.spkiSha256}`]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
  await new Promise((resolve) => rpSite.server.close(resolve));
  await helper?.close();
  await tls?.remove();
});

describe('https issuer in Chromium', () => {
  it('signs in with prefixed cookies Chromium accepts, and HSTS on every answer', async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    const hsts: { url: string; hsts: string | undefined }[] = [];
    // Every answer from the network (the icon, used twice, would come from the memory cache the second time).
    const devTools = await context.newCDPSession(page);
    await devTools.send('Network.enable');
    await devTools.send('Network.setCacheDisabled', { cacheDisabled: true });
    page.on('response', (response) => {
      if (response.url().startsWith(issuer)) {
        hsts.push({ url: response.url(), hsts: response.headers()['strict-transport-security'] });
      }
    });
    const { url, checks } = await authorizationRequest(rp, rpSite.redirectUri);
    await page.goto(url.href);
    // On the login page: the interaction cookies Chromium stored.
    const during = await context.cookies();
    expect(during.map((cookie) => cookie.name).sort()).toEqual(
      expect.arrayContaining(['__Secure-interaction', '__Secure-interaction_resume']),
    );
    await signInWithHelperWindow(page, helper.person, identity.userAuthPin);
    await page.waitForURL((next) => next.href.startsWith(rpSite.redirectUri), { timeout: 20_000 });

    const session = (await context.cookies()).find((cookie) => cookie.name === '__Host-session');
    expect(session).toMatchObject({ secure: true, path: '/', domain: '127.0.0.1', httpOnly: true });
    expect(hsts.length).toBeGreaterThanOrEqual(4);
    expect(hsts.filter((answer) => answer.hsts !== HSTS_VALUE)).toEqual([]);

    const tokens = await client.authorizationCodeGrant(rp, rpSite.callbacks[0] as URL, {
      ...checks,
      idTokenExpected: true,
    });
    expect(tokens.claims()?.iss).toBe(issuer);
    await context.close();
  }, 60_000);
});

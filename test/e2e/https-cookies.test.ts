/**
 * An https issuer in real Chromium: the OP on TLS (a certificate the test makes with openssl, which
 * the browser context is told to accept), a card login through the login page and the
 * reader-helper, and what Chromium itself stored and was told: the `__Host-session` cookie (Secure,
 * Path=/, no Domain), the `__Secure-` interaction cookies, and HSTS on every answer.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import type { Browser } from 'playwright-core';
import { createOpApp } from '../../functions/op/app.js';
import { HSTS_VALUE } from '../../functions/op/security-headers.js';
import type { CardIdentity } from '../../reader-helper/virtual-card/identity.js';
import { useLocalTables } from '../storage/local-table.js';
import { launchChromium, startVirtualHelper, type VirtualHelper } from '../support/browser.js';
import { aliceCard } from '../support/card.js';
import { authorizationRequest, httpTransportFrom, relyingParty } from '../support/oidc-flow.js';
import { TEST_CLIENTS, testOpConfig } from '../support/op-stack.js';

const newTable = useLocalTables();
const A = TEST_CLIENTS.firstParty;
/** The RP's callback: a server on loopback that records the URLs it is sent to. */
const rpSite = { server: createHttpServer(), callbacks: [] as URL[], redirectUri: '' };
let dir: string;
let identity: CardIdentity;
let helper: VirtualHelper;
let server: Server;
let issuer: string;
let browser: Browser;
let rp: client.Configuration;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'myna-https-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  await promisify(execFile)('openssl', [
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1'],
    ...['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert],
  ]);
  const tls = { key: await readFile(key), cert: await readFile(cert) };
  server = createHttpsServer(tls);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  identity = (await aliceCard()).identity;
  helper = await startVirtualHelper(identity, [issuer]);
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
    transport: httpTransportFrom({ ca: tls.cert }),
  });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
  await new Promise((resolve) => rpSite.server.close(resolve));
  await helper?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('https issuer in Chromium', () => {
  it('signs in with prefixed cookies Chromium accepts, and HSTS on every answer', async () => {
    const context = await browser.newContext({ locale: 'en-US', ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const hsts: (string | undefined)[] = [];
    page.on('response', (response) => {
      if (response.url().startsWith(issuer)) hsts.push(response.headers()['strict-transport-security']);
    });
    const { url, checks } = await authorizationRequest(rp, rpSite.redirectUri);
    await page.goto(url.href);
    // On the login page: the interaction cookies Chromium stored.
    const during = await context.cookies();
    expect(during.map((cookie) => cookie.name).sort()).toEqual(
      expect.arrayContaining(['__Secure-interaction', '__Secure-interaction_resume']),
    );
    await page.getByLabel('User-authentication PIN (4 digits)').fill(identity.userAuthPin);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL((next) => next.href.startsWith(rpSite.redirectUri), { timeout: 20_000 });

    const session = (await context.cookies()).find((cookie) => cookie.name === '__Host-session');
    expect(session).toMatchObject({ secure: true, path: '/', domain: '127.0.0.1', httpOnly: true });
    expect(hsts.length).toBeGreaterThanOrEqual(4);
    expect(hsts.every((value) => value === HSTS_VALUE)).toBe(true);

    const tokens = await client.authorizationCodeGrant(rp, rpSite.callbacks[0] as URL, {
      ...checks,
      idTokenExpected: true,
    });
    expect(tokens.claims()?.iss).toBe(issuer);
    await context.close();
  }, 60_000);
});

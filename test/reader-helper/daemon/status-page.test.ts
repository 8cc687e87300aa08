/**
 * The helper's status page for people, in real Chromium: what it shows (en/ja), that a refused
 * site appears in it, and that other pages can neither frame it nor read it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { renderStatusPage } from '../../../reader-helper/daemon/status-page.js';
import { launchChromium } from '../../support/browser.js';
import { ORIGIN } from '../../support/dev-pki.js';
import { type Fixture, startFixture } from './daemon-fixture.js';

let browser: Browser;
let fixture: Fixture;
let otherSite: Server;
let otherOrigin: string;
let pageUrl: string;

/** Another local site whose page tries to talk to, fetch and frame the helper. */
function otherSitePage(port: number): string {
  return `<!doctype html><title>other</title>
<iframe id="frame" src="http://127.0.0.1:${port}/"></iframe>
<script>
window.socketResult = new Promise((resolve) => {
  const socket = new WebSocket('ws://127.0.0.1:${port}');
  socket.onopen = () => resolve('open');
  socket.onerror = () => resolve('refused');
});
window.fetchResult = fetch('http://127.0.0.1:${port}/').then((r) => r.text(), () => 'blocked');
window.statusFetched = fetch('http://127.0.0.1:${port}/status', { mode: 'no-cors' }).then(() => 'done', () => 'done');
</script>
<a id="status-link" href="http://127.0.0.1:${port}/status">status</a>`;
}

beforeAll(async () => {
  fixture = await startFixture();
  pageUrl = `http://127.0.0.1:${fixture.port}/`;
  otherSite = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' }).end(otherSitePage(fixture.port));
  });
  await new Promise<void>((resolve) => otherSite.listen(0, '127.0.0.1', resolve));
  otherOrigin = `http://localhost:${(otherSite.address() as AddressInfo).port}`;
  browser = await launchChromium();
}, 30_000);

afterAll(async () => {
  await browser?.close();
  otherSite?.close();
  await fixture?.close();
});

describe('the helper status page', () => {
  it('tells a person, in English, that it runs, its version, readers, sites and how to add one', async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    const response = await page.goto(pageUrl);
    expect(response?.status()).toBe(200);
    const headers = response?.headers() ?? {};
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['access-control-allow-origin']).toBeUndefined();
    expect(await page.locator('#state').textContent()).toBe('The card helper is running.');
    expect(await page.locator('#version').textContent()).toBe('Version test (protocol 2)');
    expect(await page.locator('#readers').textContent()).toBe('Test Reader 0: MyNumber card present');
    expect(await page.locator('#pin-window').textContent()).toContain(
      'Only in the card helper’s own window (scripted)',
    );
    expect(await page.locator('#sites').textContent()).toBe(ORIGIN);
    expect(await page.locator('#how-to-add').textContent()).toContain('allowedOrigins');
    expect(await page.locator('#refusals').textContent()).toContain('No site has been refused');
    // The inline style is allowed by its hash: the page is styled, so the CSP did not block it.
    expect(await page.evaluate("getComputedStyle(document.getElementById('state')).fontWeight")).toBe('700');
    await context.close();
  }, 30_000);

  it('speaks Japanese to a Japanese browser, and switches language by its link', async () => {
    const context = await browser.newContext({ locale: 'ja-JP' });
    const page = await context.newPage();
    await page.goto(pageUrl);
    expect(await page.locator('html').getAttribute('lang')).toBe('ja');
    expect(await page.locator('#state').textContent()).toBe('カード読み取りアプリは動作しています。');
    expect(await page.locator('#readers').textContent()).toContain('マイナンバーカードあり');
    await page.getByRole('link', { name: 'English' }).click();
    await page.waitForURL(/lang=en/);
    expect(await page.locator('#state').textContent()).toBe('The card helper is running.');
    await context.close();
  }, 30_000);

  it("lists a site it refused; that site's page can neither read nor frame the status page", async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    const other = await context.newPage();
    await other.goto(otherOrigin);
    expect(await other.evaluate('window.socketResult')).toBe('refused');
    expect(await other.evaluate('window.fetchResult')).toBe('blocked');
    const frame = other.frames().find((candidate) => candidate.parentFrame() !== null);
    const framedText = await frame?.evaluate<string>("document.body?.innerText ?? ''").catch(() => '');
    expect(framedText ?? '').not.toContain('The card helper is running');
    expect(fixture.logLines.join('')).toContain('"reason":"NOT_NAVIGATION"');

    const page = await context.newPage();
    await page.goto(pageUrl);
    const refusals = await page.locator('#refusals').textContent();
    expect(refusals).toContain(otherOrigin);
    expect(refusals).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/);
    await context.close();
  }, 30_000);

  it("refuses the status endpoint to another site's fetch and link (Fetch Metadata), and sends CORP/nosniff", async () => {
    const context = await browser.newContext();
    const other = await context.newPage();
    await other.goto(otherOrigin);
    expect(await other.evaluate('window.statusFetched')).toBe('done');
    const refusedStatus = () =>
      fixture.logLines.filter(
        (line) => line.includes('"resource":"status"') && line.includes('"reason":"NOT_NAVIGATION"'),
      ).length;
    expect(refusedStatus()).toBeGreaterThanOrEqual(1);
    const before = refusedStatus();
    const [linked] = await Promise.all([
      other.waitForResponse(`http://127.0.0.1:${fixture.port}/status`),
      other.click('#status-link'),
    ]);
    expect(linked.status()).toBe(403);
    expect(refusedStatus()).toBe(before + 1);

    const typed = await context.newPage();
    const response = await typed.goto(`http://127.0.0.1:${fixture.port}/status`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['x-content-type-options']).toBe('nosniff');
    expect(response?.headers()['cross-origin-resource-policy']).toBe('same-origin');
    await context.close();
  }, 30_000);

  it('is refused under the name localhost (only the loopback literal is a Host it answers)', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const response = await page.goto(`http://localhost:${fixture.port}/`);
    expect(response?.status()).toBe(403);
    expect(await page.locator('body').textContent()).toContain(`Open http://127.0.0.1:${fixture.port}/`);
    // The 403 text carries the same security headers as the page.
    const headers = response?.headers() ?? {};
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['cross-origin-resource-policy']).toBe('same-origin');
    expect(headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(headers['cache-control']).toBe('no-store');
    await context.close();
  }, 30_000);

  it('says the smart-card service does not answer, in both languages, when PC/SC is silent', () => {
    const model = {
      helperVersion: '1.0.0',
      protocolVersion: 2,
      readers: undefined,
      busy: false,
      pinEntry: 'zenity',
      allowedSites: [],
      refusals: [],
    };
    expect(renderStatusPage(model, 'en')).toContain('The smart-card service does not answer');
    expect(renderStatusPage(model, 'ja')).toContain('スマートカードのサービスが応答しません');
  });
});

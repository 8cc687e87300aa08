/** The login and consent pages: language, accessibility hooks, no inline script, CSP, the script. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import type { OpServer } from '../../functions/op/local-server.js';
import { escapeHtml } from '../../functions/op/login-page/html.js';
import { negotiateLocale } from '../../functions/op/login-page/locale.js';
import { buildLoginScript } from '../../functions/op/login-page/login-script.js';
import { useLocalTables } from '../storage/local-table.js';
import { aliceCard } from '../support/card.js';
import { answerConsent, relyingParty, signIn, TestBrowser, VirtualCardSigner } from '../support/oidc-flow.js';
import { startTestOp, TEST_CLIENTS } from '../support/op-stack.js';

const newTable = useLocalTables();
let op: OpServer;
let card: VirtualCardSigner;

beforeAll(async () => {
  card = new VirtualCardSigner((await aliceCard()).identity);
  op = await startTestOp({ table: await newTable() });
});
afterAll(async () => {
  await op?.close();
  await card?.close();
});

async function authorizationUrl(
  metadata: { client_id: string; client_secret: string; redirect_uris: string[] },
  params: Record<string, string> = {},
) {
  const rp = await relyingParty({
    issuer: op.url,
    clientId: metadata.client_id,
    clientSecret: metadata.client_secret,
  });
  return client.buildAuthorizationUrl(rp, {
    redirect_uri: metadata.redirect_uris[0] as string,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
    ...params,
  });
}

async function loginPage(params: Record<string, string>, headers: Record<string, string>) {
  const browser = new TestBrowser(undefined, headers);
  const { response } = await browser.follow(
    await authorizationUrl(TEST_CLIENTS.firstParty, params),
    () => false,
  );
  if (!response) throw new Error('no page');
  return { response, html: await response.text() };
}

function expectNoInlineScript(html: string) {
  const scripts = html.match(/<script\b[^>]*>/g) ?? [];
  for (const tag of scripts) expect(tag).toMatch(/\ssrc="\/assets\//);
  expect(html).not.toMatch(/<script\b[^>]*>[^<]+<\/script>/);
  expect(html).not.toMatch(/\son[a-z]+=/i);
  expect(html).not.toMatch(/style="/);
  expect(html).not.toMatch(/javascript:/i);
}

describe('login page', () => {
  it('is in English for Accept-Language en, with labels, a live region and a password PIN field', async () => {
    const { response, html } = await loginPage({}, { 'accept-language': 'en-GB,en;q=0.9,ja;q=0.5' });
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('Sign in with your MyNumber card');
    expect(html).toMatch(/<label for="pin">/);
    expect(html).toMatch(/<input id="pin" name="pin" type="password" inputmode="numeric" autocomplete="off"/);
    expect(html).toContain('role="status" aria-live="polite"');
    expect(html).toContain('data-helper-port="47123"');
    expect(html).toContain('RP A');
    expectNoInlineScript(html);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self' ws://127.0.0.1:47123;");
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('follows ui_locales before Accept-Language (Japanese)', async () => {
    const { html } = await loginPage({ ui_locales: 'ja en' }, { 'accept-language': 'en' });
    expect(html).toContain('<html lang="ja">');
    expect(html).toContain('マイナンバーカードでサインイン');
    expect(html).toContain('利用者証明用電子証明書の暗証番号');
    expectNoInlineScript(html);
  });

  it('serves the bundled script and the style sheet from fixed paths', async () => {
    const script = await fetch(`${op.url}/assets/myna-login.js`);
    expect(script.headers.get('content-type')).toMatch(/^application\/javascript/);
    const text = await script.text();
    expect(text).toMatch(/^"use strict";\(\(\)=>\{/);
    expect(text).toContain('authenticate');
    expect(text).toContain('ws://127.0.0.1:');
    const style = await fetch(`${op.url}/assets/myna.css`);
    expect(style.headers.get('content-type')).toMatch(/^text\/css/);
  });
});

describe('consent', () => {
  it('asks a third-party client for consent (escaped name) and signs in after confirmation', async () => {
    const browser = new TestBrowser(undefined, { 'accept-language': 'en' });
    const third = TEST_CLIENTS.thirdParty;
    const url = await authorizationUrl(third);
    const stopped = await signIn({
      browser,
      authorizationUrl: url,
      redirectUri: third.redirect_uris[0] as string,
      card,
    });
    const html = (await stopped.page?.response.text()) ?? '';
    expect(html).toContain('Third &lt;Party&gt;');
    expect(html).toContain('Allow access?');
    expectNoInlineScript(html);
    const confirmed = await answerConsent(browser, stopped.page?.url as URL, 'confirm');
    const landed = await browser.follow(
      new URL(confirmed.headers.get('location') as string, op.url),
      (next) => next.href.startsWith(third.redirect_uris[0] as string),
    );
    expect(landed.url.searchParams.get('code')).toEqual(expect.any(String));
  });

  it('returns access_denied when consent is refused', async () => {
    const browser = new TestBrowser();
    const third = TEST_CLIENTS.thirdParty;
    const stopped = await signIn({
      browser,
      authorizationUrl: await authorizationUrl(third),
      redirectUri: third.redirect_uris[0] as string,
      card,
    });
    const refused = await answerConsent(browser, stopped.page?.url as URL, 'abort');
    const landed = await browser.follow(new URL(refused.headers.get('location') as string, op.url), (next) =>
      next.href.startsWith(third.redirect_uris[0] as string),
    );
    expect(landed.url.searchParams.get('error')).toBe('access_denied');
  });
});

describe('page helpers', () => {
  it('negotiates ui_locales, then weighted Accept-Language, then Japanese', () => {
    expect(negotiateLocale('fr en', 'ja')).toBe('en');
    expect(negotiateLocale(undefined, 'fr, en;q=0.8, ja;q=0.9')).toBe('ja');
    expect(negotiateLocale(undefined, 'en;q=0, fr')).toBe('ja');
    expect(negotiateLocale(undefined, undefined)).toBe('ja');
  });

  it('escapes HTML and attribute metacharacters', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });

  it('bundles the browser script into one minified IIFE', async () => {
    const script = await buildLoginScript();
    expect(script).toMatch(/^"use strict";\(\(\)=>\{/);
    expect(script).not.toMatch(/\bimport\b|\brequire\(/);
  });
});

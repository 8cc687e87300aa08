/**
 * The pages people see: language, the relying party's name, logo and links, a way back from every
 * page, plain-words consent, the identity step's claim-by-claim consent, error texts per code in
 * both languages, the icon, no inline script, CSP, the script.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { IdentityDisclosures } from '../../functions/identity/disclosures.js';
import type { OpServer } from '../../functions/op/local-server.js';
import { clientDisplay } from '../../functions/op/login-page/client-display.js';
import { escapeHtml, renderIdentityConsentPage } from '../../functions/op/login-page/html.js';
import { negotiateLocale } from '../../functions/op/login-page/locale.js';
import { buildLoginScript } from '../../functions/op/login-page/login-script.js';
import {
  fill,
  LOCALES,
  type MessageKey,
  message,
  messagesOf,
} from '../../functions/op/login-page/messages.js';
import { useLocalTables } from '../storage/local-table.js';
import { aliceCard } from '../support/card.js';
import {
  answerConsent,
  authorizationRequest,
  type BrowserDocument,
  formAction,
  loginPageOf,
  postAnswer,
  relyingParty,
  signIn,
  TestBrowser,
  VirtualCardSigner,
} from '../support/oidc-flow.js';
import { BRANDED_CLIENT, startTestOp, TEST_CLIENTS } from '../support/op-stack.js';

const newTable = useLocalTables();
let op: OpServer;
let card: VirtualCardSigner;

const SHOP = BRANDED_CLIENT;
const atShop = (next: URL) => next.href.startsWith(SHOP.redirect_uris[0] as string);

beforeAll(async () => {
  card = new VirtualCardSigner((await aliceCard()).identity);
  op = await startTestOp({ table: await newTable(), clients: [...Object.values(TEST_CLIENTS), SHOP] });
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
  return (await authorizationRequest(rp, metadata.redirect_uris[0] as string, params)).url;
}

async function loginPage(
  params: Record<string, string>,
  headers: Record<string, string>,
  metadata: Parameters<typeof authorizationUrl>[0] = TEST_CLIENTS.firstParty,
) {
  const browser = new TestBrowser(undefined, headers);
  const { response, document } = await browser.follow(await authorizationUrl(metadata, params), () => false);
  if (!response || !document) throw new Error('no page');
  return { browser, document, response, html: await response.text() };
}

/** The text a person reads: the page without tags, hidden texts for the script and attributes. */
function visibleText(html: string): string {
  return html
    .replace(/<div id="myna-texts" hidden>.*?<\/div>/s, '')
    .replace(/<head>.*?<\/head>/s, '')
    .replace(/<[^>]+>/g, ' ');
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
  it('is in English for Accept-Language en, with a live region, a sign-in button and no PIN field at all', async () => {
    const { response, html } = await loginPage({}, { 'accept-language': 'en-GB,en;q=0.9,ja;q=0.5' });
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('Sign in with your MyNumber card');
    expect(html).toContain(
      '<button id="start" class="primary" type="button" hidden>Sign in with MyNumber card</button>',
    );
    expect(html).toContain('never on this page');
    // The PIN is typed only into the helper's own window: no field, no form the page could read.
    expect(html).not.toMatch(/<input\b|<form id="pin|type="password"/);
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
    expect(html).toContain('このページには入力しません');
    expectNoInlineScript(html);
  });

  it('serves the script and the style sheet under content-hashed paths, cached immutable', async () => {
    const { html } = await loginPage({}, {});
    const scriptPath = /<script src="(\/assets\/myna-login\.[0-9a-f]{16}\.js)" defer>/.exec(html)?.[1];
    const stylePath = /<link rel="stylesheet" href="(\/assets\/myna\.[0-9a-f]{16}\.css)">/.exec(html)?.[1];
    expect({ scriptPath, stylePath }).toEqual({
      scriptPath: expect.any(String),
      stylePath: expect.any(String),
    });
    const script = await fetch(`${op.url}${scriptPath}`);
    expect(script.headers.get('content-type')).toMatch(/^application\/javascript/);
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const text = await script.text();
    expect(text).toMatch(/^"use strict";\(\(\)=>\{/);
    expect(text).toContain('authenticate');
    expect(text).toContain('ws://127.0.0.1:');
    expect(scriptPath).toContain(createHash('sha256').update(text).digest('hex').slice(0, 16));
    const style = await fetch(`${op.url}${stylePath}`);
    expect(style.headers.get('content-type')).toMatch(/^text\/css/);
    expect(style.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(stylePath).toContain(
      createHash('sha256')
        .update(await style.text())
        .digest('hex')
        .slice(0, 16),
    );
    // Another hash, or the old unhashed paths: not served.
    for (const path of [
      '/assets/myna-login.js',
      '/assets/myna.css',
      '/assets/myna-login.0000000000000000.js',
    ]) {
      expect({ path, status: (await fetch(`${op.url}${path}`)).status }).toEqual({ path, status: 404 });
    }
  });
});

type ConsentPage = Parameters<typeof answerConsent>[1];
const atThird = (next: URL) => next.href.startsWith(TEST_CLIENTS.thirdParty.redirect_uris[0] as string);

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
    const html = stopped.page?.html ?? '';
    expect(html).toContain('Third &lt;Party&gt;');
    expect(html).toContain('Share this with Third &lt;Party&gt;?');
    expectNoInlineScript(html);
    const landed = await answerConsent(browser, stopped.page as ConsentPage, 'confirm', atThird);
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
    const landed = await answerConsent(browser, stopped.page as ConsentPage, 'abort', atThird);
    expect(landed.url.searchParams.get('error')).toBe('access_denied');
  });
});

describe('the relying party on the page', () => {
  it('names the RP, shows its https logo (allowed by the CSP for that origin only) and its links', async () => {
    const { response, html } = await loginPage({}, { 'accept-language': 'en' }, SHOP);
    expect(html).toContain('<strong class="rp-name">Example Shop</strong>');
    expect(html).toContain('<img class="rp-logo" src="https://cdn.shop.example/logo.svg"');
    expect(html).toContain('href="https://shop.example/privacy"');
    expect(html).toContain('Privacy policy of Example Shop');
    expect(html).toContain('href="https://shop.example/terms"');
    expect(html).not.toContain('rp-shop');
    expect(response.headers.get('content-security-policy')).toContain(
      "img-src 'self' https://cdn.shop.example;",
    );
    const plain = await loginPage({}, {});
    expect(plain.html).not.toContain('rp-logo');
    expect(plain.response.headers.get('content-security-policy')).toContain("img-src 'self';");
  });

  it('uses client_name#ja on Japanese pages, client_name otherwise; never an http logo', () => {
    const registered = {
      clientId: 'shop',
      clientName: 'Example Shop',
      logoUri: 'http://cdn.shop.example/logo.png',
      redirectUris: ['https://shop.example/cb'],
      metadata: () => ({ 'client_name#ja': 'サンプル商店' }),
    };
    expect(clientDisplay(registered, 'ja')).toEqual({
      name: 'サンプル商店',
      homeUri: 'https://shop.example/',
    });
    expect(clientDisplay(registered, 'en')).toEqual({
      name: 'Example Shop',
      homeUri: 'https://shop.example/',
    });
    expect(clientDisplay({ clientId: 'bare' }, 'ja')).toEqual({ name: 'bare' });
  });

  it('"Cancel and return to <RP>" on the login page: the RP gets access_denied', async () => {
    const { browser, document, html } = await loginPage({}, { 'accept-language': 'en' }, SHOP);
    expect(html).toContain('Cancel and return to Example Shop');
    const back = await browser.submitForm(document, formAction(html, 'abort'), {}, atShop);
    expect(back.url.searchParams.get('error')).toBe('access_denied');
  });

  it('Back after signing in: the old pages say the sign-in is over and link to the RP', async () => {
    const browser = new TestBrowser(undefined, { 'accept-language': 'ja' });
    const login = await loginPageOf(await browser.navigate(await authorizationUrl(SHOP), () => false));
    const reply = await postAnswer(browser, login, await card.sign(op.url, login.nonce));
    const consent = await browser.navigate(new URL(reply.redirectTo as string, op.url), atShop, {
      by: 'script',
      document: login.document,
    });
    const consentPage = {
      document: consent.document as BrowserDocument,
      html: (await consent.response?.text()) ?? '',
    };
    const landed = await answerConsent(browser, consentPage, 'confirm', atShop);
    expect(landed.url.searchParams.get('code')).toEqual(expect.any(String));
    for (const url of [consentPage.document.url, login.document.url]) {
      const { response } = await browser.follow(url, () => false);
      const html = (await response?.text()) ?? '';
      expect(response?.status).toBe(200);
      expect(html).toContain('このサインインは終了しています');
      expect(html).toContain('<a class="button" href="https://shop.example/">Example Shopに戻る</a>');
    }
  });
});

describe('consent page in plain words', () => {
  it('describes what the RP gets without raw scope names, in Japanese', async () => {
    const browser = new TestBrowser(undefined, { 'accept-language': 'ja' });
    const stopped = await signIn({
      browser,
      authorizationUrl: await authorizationUrl(SHOP),
      redirectUri: SHOP.redirect_uris[0] as string,
      card,
    });
    const html = stopped.page?.html ?? '';
    expect(html).toContain('Example Shopに情報を提供しますか？');
    expect(html).toContain(message('ja', 'scope_openid'));
    expect(html).toContain(message('ja', 'consentNotShared'));
    expect(visibleText(html)).not.toMatch(/openid|scope/i);
  });
});

describe('error pages', () => {
  it("show oidc-provider's errors in Japanese on Japanese pages, with a way back to the RP", async () => {
    const url = await authorizationUrl(SHOP, { redirect_uri: 'https://evil.example/cb' });
    const ja = await new TestBrowser(undefined, { 'accept-language': 'ja' }).follow(url, () => false);
    const html = (await ja.response?.text()) ?? '';
    expect(html).toContain(message('ja', 'OIDC_invalid_redirect_uri'));
    expect(html).toContain('<code>invalid_redirect_uri</code>');
    expect(html).toContain('href="https://shop.example/"');
    expect(visibleText(html)).not.toMatch(/[A-Za-z]{4,} [a-z]{3,} [a-z]{3,}/);
    const en = await new TestBrowser(undefined, { 'accept-language': 'en' }).follow(url, () => false);
    const english = (await en.response?.text()) ?? '';
    expect(english).toContain(message('en', 'OIDC_invalid_redirect_uri'));
    expect(english).toContain('Details: redirect_uri did not match');
    expect(html).toContain('エラーコード：<code>invalid_redirect_uri</code>');
    expect(en.response?.headers.get('referrer-policy')).toBe('same-origin');
  });
});

describe('wording', () => {
  it('counts tries as "1 try left" / 「残り1回」 and "2 tries left" / 「残り2回」', () => {
    const tries = (locale: 'ja' | 'en', n: number) =>
      fill(message(locale, n === 1 ? 'triesLeftOne' : 'triesLeft'), {
        message: message(locale, 'HELPER_PIN_INCORRECT'),
        n,
      });
    expect(tries('ja', 1)).toBe('暗証番号が違います。残り1回です。');
    expect(tries('ja', 2)).toBe('暗証番号が違います。残り2回です。');
    expect(tries('en', 1)).toBe('Wrong PIN. 1 try left.');
    expect(tries('en', 2)).toBe('Wrong PIN. 2 tries left.');
  });

  it('has no stray spaces: none next to Japanese text, no doubled or trailing ones', () => {
    for (const locale of LOCALES) {
      for (const [key, text] of Object.entries(messagesOf(locale))) {
        expect({ key, text }).toEqual({ key, text: text.trim().replace(/ {2,}/g, ' ') });
        if (locale === 'ja') {
          expect({
            key,
            stray:
              /[\u3000-\u30ff\u4e00-\u9fff\uff01-\uff5e] | [\u3000-\u30ff\u4e00-\u9fff\uff01-\uff5e]/.test(
                text,
              ),
          }).toEqual({ key, stray: false });
        }
      }
    }
  });

  it("points people to the helper's own status page and to a guide for people", async () => {
    const { html } = await loginPage({}, { 'accept-language': 'en' });
    expect(html).toContain('<a id="status-link" href="http://127.0.0.1:47123/"');
    expect(html).toMatch(/<a id="guide-link" href="[^"]*#for-people-using-the-helper"/);
    expect(message('en', 'stateNoHelperReasons')).toMatch(/not running.*not set up for this site/);
    expect(message('ja', 'stateNoHelperReasons')).toMatch(
      /起動していない.*このサイトで使えるように設定されていない/,
    );
  });
});

describe('icon', () => {
  it('is served at /favicon.ico and the path every page links', async () => {
    const { html } = await loginPage({}, {});
    expect(html).toContain('<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">');
    for (const path of ['/favicon.ico', '/assets/favicon.svg']) {
      const response = await fetch(`${op.url}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/svg+xml');
      expect(await response.text()).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    }
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

describe('identity consent page', () => {
  const NOTHING_ELSE: IdentityDisclosures = { signingCertificate: false, signingSerial: false };
  const render = (locale: 'ja' | 'en', disclosures = NOTHING_ELSE) =>
    renderIdentityConsentPage({
      locale,
      client: { name: 'Shop <&>' },
      purpose: 'Age check <b>now</b>',
      items: [
        { claim: 'name', label: 'Name', value: '山田 <太郎>', required: true, substituted: true },
        {
          claim: 'age_over_20',
          label: 'Aged 20 or over',
          value: 'Yes',
          required: false,
          substituted: false,
          purpose: 'Alcohol & tobacco',
        },
      ],
      disclosures,
      scopes: ['openid', 'name'],
      confirmUrl: '/interaction/abc/identity-confirm',
      abortUrl: '/interaction/abc/abort',
    });
  /** The text of `key` as the page writes it (escaped, the RP's name filled in). */
  const text = (locale: 'ja' | 'en', key: MessageKey, values: Record<string, string | number> = {}) =>
    escapeHtml(fill(message(locale, key), { rp: 'Shop <&>', ...values }));

  it('shows each value exactly (escaped), required ones fixed, optional ones untickable, every box labelled', () => {
    const html = render('en');
    expect(html).toContain('<span class="claim-value">山田 &lt;太郎&gt;</span>');
    expect(html).toContain('Purpose, as Shop &lt;&amp;&gt; states it: Age check &lt;b&gt;now&lt;/b&gt;');
    expect(html).toContain('Purpose of this item: Alcohol &amp; tobacco');
    const boxes = [
      ...html.matchAll(
        /<input type="checkbox" id="([^"]+)" name="claim" value="([^"]+)" checked( disabled)?/g,
      ),
    ];
    expect(boxes.map(([, id, claim, disabled]) => ({ id, claim, fixed: Boolean(disabled) }))).toEqual([
      { id: 'claim-0', claim: 'name', fixed: true },
      { id: 'claim-1', claim: 'age_over_20', fixed: false },
    ]);
    for (const [, id] of boxes) expect(html).toContain(`<label for="${id}">`);
    expect(html).toContain('<fieldset class="claims"><legend>What Shop &lt;&amp;&gt; receives</legend>');
    // The substitute-character note belongs to its box.
    expect(html).toContain('aria-describedby="claim-0-note"');
    // What else the request gets, in plain words; a form POST with no script at all.
    expect(html).toContain(message('en', 'scope_openid'));
    expect(html).toMatch(/<form method="post" action="\/interaction\/abc\/identity-confirm">/);
    expect(html).toContain('formaction="/interaction/abc/abort"');
    expect(html).not.toMatch(/<script|\son\w+=|style=/);
  });

  it('is in Japanese on Japanese pages', () => {
    const html = render('ja');
    expect(html).toContain('<html lang="ja">');
    expect(html).toContain('Shop &lt;&amp;&gt;に本人確認の情報を提供しますか？');
    expect(html).toContain('>必須</span>');
    expect(html).toContain('>任意</span>');
    expect(html).toContain('チェックした情報を提供する');
  });

  it('says the RP gets only what is ticked and the service keeps nothing — only when that is true', () => {
    for (const locale of ['ja', 'en'] as const) {
      const html = render(locale);
      expect(html).toContain(text(locale, 'identityConsentIntro'));
      expect(html).toContain(text(locale, 'identityConsentNotKept'));
      expect(html).not.toContain('class="claim disclosure"');
    }
  });

  it('evidence to the RP: the signing certificate itself is a required line, and the intro says it holds every fact', () => {
    for (const locale of ['ja', 'en'] as const) {
      const html = render(locale, { signingCertificate: true, signingSerial: true });
      expect(html).not.toContain(text(locale, 'identityConsentIntro'));
      expect(html).toContain(text(locale, 'identityConsentIntroCertificate'));
      const row = /<li class="claim disclosure">(.*?)<\/li>/.exec(html)?.[1] ?? '';
      // Ticked and fixed like a required claim, but it submits nothing (the OP decides it).
      expect(row).toContain(
        '<input type="checkbox" id="disclosure-certificate" checked disabled aria-describedby="disclosure-certificate-note">',
      );
      expect(row).toContain(
        `<label for="disclosure-certificate"><span class="claim-label">${text(locale, 'identityConsentCertificate')}</span><span class="tag required">${text(locale, 'identityConsentRequired')}</span>`,
      );
      expect(row).toContain(
        `<span class="hint claim-note" id="disclosure-certificate-note">${text(locale, 'identityConsentCertificateNote')}</span>`,
      );
      // The certificate carries its serial: no line of its own then.
      expect(html).not.toContain('disclosure-serial');
      expect(html).toContain(text(locale, 'identityConsentRequiredNote'));
    }
    expect(message('en', 'identityConsentCertificateNote')).toMatch(
      /name, address, date of birth, gender and the certificate’s number/,
    );
    expect(message('ja', 'identityConsentCertificateNote')).toMatch(
      /氏名・住所・生年月日・性別と証明書の番号/,
    );
  });

  it('the signing serial alone: a required line saying what it is', () => {
    for (const locale of ['ja', 'en'] as const) {
      const html = render(locale, { signingCertificate: false, signingSerial: true });
      expect(html).toContain(text(locale, 'identityConsentIntro'));
      expect(html).toContain(
        `<li class="claim disclosure"><input type="checkbox" id="disclosure-serial" checked disabled aria-describedby="disclosure-serial-note"><label for="disclosure-serial"><span class="claim-label">${text(locale, 'identityConsentSerial')}</span>`,
      );
      expect(html).toContain(text(locale, 'identityConsentSerialNote'));
    }
  });

  it('evidence kept by the sign-in service: for how long, encrypted — never "keeps none"', () => {
    for (const locale of ['ja', 'en'] as const) {
      const html = render(locale, { signingCertificate: false, signingSerial: false, retentionDays: 30 });
      expect(html).not.toContain(text(locale, 'identityConsentNotKept'));
      expect(html).toContain(text(locale, 'identityConsentKept', { n: 30 }));
    }
    expect(fill(message('en', 'identityConsentKept'), { n: 30 })).toMatch(/encrypted, for 30 days/);
    expect(fill(message('ja', 'identityConsentKept'), { n: 30 })).toMatch(/暗号化して30日間保存/);
  });
});

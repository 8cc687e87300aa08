/**
 * The OP's routes for the helper's navigation path and the page's challenge renewal:
 * `GET /interaction/:uid/card-answer` (where the helper returns the browser; cookies as for the
 * login page, no challenge issued, nothing from another site) and `POST /interaction/:uid/challenge`
 * (same-origin, interaction cookie, counted toward the challenge limit).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as client from 'openid-client';
import { CHALLENGE_TTL_SECONDS, LOGIN_LIMITS } from '../../functions/defaults.js';
import type { OpServer } from '../../functions/op/local-server.js';
import { useLocalTables } from '../storage/local-table.js';
import { aliceCard } from '../support/card.js';
import {
  authorizationRequest,
  type BrowserDocument,
  CHALLENGE_NONCE,
  DEFAULT_REFERRER_POLICY,
  type LoginPage,
  loginPageOf,
  postAnswer,
  relyingParty,
  TestBrowser,
  VirtualCardSigner,
} from '../support/oidc-flow.js';
import { BRANDED_CLIENT, startTestOp, TEST_CLIENTS } from '../support/op-stack.js';

const newTable = useLocalTables();
let op: OpServer;
let card: VirtualCardSigner;
let rp: client.Configuration;
const SHOP = BRANDED_CLIENT;
/** What the OP says a challenge it hands out has left (each one is new). */
const SECONDS_LEFT = CHALLENGE_TTL_SECONDS;

beforeAll(async () => {
  card = new VirtualCardSigner((await aliceCard()).identity);
  op = await startTestOp({ table: await newTable(), clients: [...Object.values(TEST_CLIENTS), SHOP] });
  rp = await relyingParty({ issuer: op.url, clientId: SHOP.client_id, clientSecret: SHOP.client_secret });
});
afterAll(async () => {
  await op?.close();
  await card?.close();
});

async function openLoginPage(browser: TestBrowser): Promise<LoginPage> {
  const { url } = await authorizationRequest(rp, SHOP.redirect_uris[0] as string);
  return loginPageOf(await browser.navigate(url, () => false));
}

function attribute(html: string, name: string): string | undefined {
  return new RegExp(`\\s${name}="([^"]*)"`).exec(html)?.[1]?.replace(/&amp;/g, '&');
}

/** The content of the page's `<meta http-equiv="refresh">`, if it has one. */
function metaRefresh(html: string): string | undefined {
  return /<meta http-equiv="refresh" content="([^"]*)">/.exec(html)?.[1];
}

/**
 * The helper's waiting page as a document of another site (the OP here is on 127.0.0.1, so the
 * helper's page is taken at `localhost` to make the navigation back cross-site, as it is from an
 * https OP). It sends no Referer.
 */
const helperPage: BrowserDocument = {
  url: new URL('http://localhost:47123/authenticate/wait?op=0123456789abcdef'),
  referrerPolicy: 'no-referrer',
};

/** The helper's 303 back to the card-answer page, followed as a top-level GET (the fragment stays in the browser). */
async function returnFromHelper(browser: TestBrowser, page: LoginPage) {
  const returnUrl = attribute(page.html, 'data-return-url') as string;
  const step = await browser.navigate(returnUrl, () => false, { by: 'link', document: helperPage });
  const html = (await step.response?.text()) ?? '';
  return { ...step, html };
}

/** A same-origin JSON POST the page's script makes. */
async function scriptPost(browser: TestBrowser, document: BrowserDocument, url: string) {
  const response = await browser.fetchFrom(document, url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: '{}',
  });
  return { response, body: (await response.json()) as Record<string, unknown> };
}

describe('login page data', () => {
  it('carries what the script needs: challenge and its lifetime, helper port, URLs, mode', async () => {
    const page = await openLoginPage(new TestBrowser());
    const uid = page.document.url.pathname.split('/')[2];
    expect(attribute(page.html, 'data-mode')).toBe('login');
    expect(attribute(page.html, 'data-nonce')).toMatch(CHALLENGE_NONCE);
    expect(attribute(page.html, 'data-challenge-ttl')).toBe(String(SECONDS_LEFT));
    expect(attribute(page.html, 'data-helper-port')).toBe('47123');
    expect(attribute(page.html, 'data-login-url')).toBe(`/interaction/${uid}/login`);
    expect(attribute(page.html, 'data-challenge-url')).toBe(`/interaction/${uid}/challenge`);
    expect(attribute(page.html, 'data-return-url')).toBe(`${op.url}/interaction/${uid}/card-answer`);
  });
});

describe('GET /interaction/:uid/card-answer', () => {
  it('shows the page in card-answer mode to the browser of the interaction, issues no challenge, signs in', async () => {
    const browser = new TestBrowser(undefined, { 'accept-language': 'en' });
    const page = await openLoginPage(browser);
    const answer = await card.sign(op.url, page.nonce);
    const back = await returnFromHelper(browser, page);
    expect(back.response?.status).toBe(200);
    expect(attribute(back.html, 'data-mode')).toBe('card-answer');
    // No challenge on this page (the script posts the answer the card made for the old one).
    expect(attribute(back.html, 'data-nonce')).toBeUndefined();
    expect(attribute(back.html, 'data-challenge-ttl')).toBe('0');
    expect(back.response?.headers.get('cache-control')).toBe('no-store');
    expect(back.response?.headers.get('referrer-policy')).toBe('same-origin');
    // The answer signed before the navigation still counts: the card-answer page issued no new challenge.
    const reply = await postAnswer(browser, { ...page, document: back.document as BrowserDocument }, answer);
    expect(reply.redirectTo).toMatch(/\/auth\//);
  });

  it('loads nothing from another site while the answer is in the address bar (no RP logo)', async () => {
    const browser = new TestBrowser();
    const page = await openLoginPage(browser);
    expect(page.html).toContain('class="rp-logo"');
    const back = await returnFromHelper(browser, page);
    expect(back.html).toContain('<strong class="rp-name">Example Shop</strong>');
    expect(back.html).not.toContain('rp-logo');
    const csp = back.response?.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("img-src 'self';");
    expect(csp).toContain("default-src 'none'");
    const sources = [...back.html.matchAll(/\s(?:src|href)="([^"]+)"/g)].map((match) => match[1] as string);
    const loaded = [...back.html.matchAll(/<(?:script|img|link)\b[^>]*\s(?:src|href)="([^"]+)"/g)].map(
      (match) => match[1] as string,
    );
    expect(loaded.length).toBeGreaterThan(0);
    for (const source of loaded) expect(source).toMatch(/^\/assets\//);
    expect(sources.length).toBeGreaterThan(loaded.length);
  });

  it('another browser (no interaction cookie) gets the "sign-in is over" page, which drops the fragment', async () => {
    const page = await openLoginPage(new TestBrowser());
    const uid = page.document.url.pathname.split('/')[2];
    const stranger = new TestBrowser(undefined, { 'accept-language': 'en' });
    const back = await returnFromHelper(stranger, page);
    expect(back.response?.status).toBe(200);
    expect(back.html).toContain('This sign-in has ended');
    expect(back.html).not.toContain('id="myna-login"');
    // A meta refresh to the interaction's own URL: a new navigation, which does not keep the
    // fragment (an HTTP redirect would); the page has no script to run replaceState.
    expect(metaRefresh(back.html)).toBe(`0;url=/interaction/${uid}`);
    expect(back.html).not.toContain('<script');
    // There, the same page without a refresh (no loop).
    const next = await stranger.navigate(new URL(`/interaction/${uid}`, op.url), () => false, {
      by: 'link',
      document: back.document as BrowserDocument,
    });
    const html = (await next.response?.text()) ?? '';
    expect(html).toContain('This sign-in has ended');
    expect(metaRefresh(html)).toBeUndefined();
  });

  it('past the login of a first-party client: no redirect (the fragment would follow it to the RP)', async () => {
    const browser = new TestBrowser(undefined, { 'accept-language': 'en' });
    // prompt=consent: an interaction past the login that the OP answers with a redirect itself.
    const uid = await pastLogin(browser, TEST_CLIENTS.firstParty, { prompt: 'consent' });
    const back = await cardAnswerOf(browser, uid);
    expect(back.response?.status).toBe(200);
    expect(back.response?.headers.get('location')).toBeNull();
    expect(metaRefresh(back.html)).toBe(`0;url=/interaction/${uid}`);
    expect(back.html).not.toContain('rp-logo');
    // The interaction's own URL (no fragment there) goes on to the relying party.
    const atCallback = (target: URL) => target.origin === 'https://rp-a.example';
    const done = await browser.navigate(new URL(`/interaction/${uid}`, op.url), atCallback, {
      by: 'link',
      document: back.document as BrowserDocument,
    });
    expect(done.url.searchParams.get('code')).toEqual(expect.any(String));
  });

  it('after the login step, moves on to what the interaction shows (here: the consent page)', async () => {
    const browser = new TestBrowser(undefined, { 'accept-language': 'en' });
    const uid = await pastLogin(browser, TEST_CLIENTS.thirdParty);
    const back = await cardAnswerOf(browser, uid);
    expect(back.html).not.toContain('Share this with');
    expect(metaRefresh(back.html)).toBe(`0;url=/interaction/${uid}`);
    const shown = await browser.navigate(new URL(`/interaction/${uid}`, op.url), () => false, {
      by: 'link',
      document: back.document as BrowserDocument,
    });
    expect(await shown.response?.text()).toContain('Share this with Third &lt;Party&gt;?');
  });
});

/** Signs in at `client` in `browser`; the uid of the interaction that follows the login (not shown yet). */
async function pastLogin(
  browser: TestBrowser,
  client: { client_id: string; client_secret: string; redirect_uris: string[] },
  params: Record<string, string> = {},
): Promise<string> {
  const party = await relyingParty({
    issuer: op.url,
    clientId: client.client_id,
    clientSecret: client.client_secret,
  });
  const { url } = await authorizationRequest(party, client.redirect_uris[0] as string, params);
  const page = await loginPageOf(await browser.navigate(url, () => false));
  const reply = await postAnswer(browser, page, await card.sign(op.url, page.nonce));
  const atInteraction = (next: URL) => next.pathname.startsWith('/interaction/');
  const next = await browser.navigate(new URL(reply.redirectTo as string, op.url), atInteraction, {
    by: 'script',
    document: page.document,
  });
  return next.url.pathname.split('/')[2] as string;
}

/** The helper's 303 to the card-answer URL of interaction `uid`, followed as a top-level GET. */
async function cardAnswerOf(browser: TestBrowser, uid: string) {
  const step = await browser.navigate(`${op.url}/interaction/${uid}/card-answer`, () => false, {
    by: 'link',
    document: helperPage,
  });
  return { ...step, html: (await step.response?.text()) ?? '' };
}

describe('POST /interaction/:uid/challenge', () => {
  it('answers the challenge to sign and how long it lasts; a refusal brings the next', async () => {
    const browser = new TestBrowser();
    const page = await openLoginPage(browser);
    const { response, body } = await scriptPost(
      browser,
      page.document,
      `${page.document.url.pathname}/challenge`,
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(body).toEqual({ nonce: expect.stringMatching(CHALLENGE_NONCE), ttlSeconds: SECONDS_LEFT });
    // A signature over another nonce is refused; the refusal carries a new challenge and its lifetime.
    const wrong = await postAnswer(browser, page, await card.sign(op.url, 'x'.repeat(43)));
    expect(wrong).toMatchObject({
      error: { code: 'CHALLENGE_SIGNATURE_INVALID' },
      nonce: expect.any(String),
      ttlSeconds: SECONDS_LEFT,
    });
    // The renewal answers the interaction's current challenge (a young one may be handed out again).
    const renewed = await scriptPost(browser, page.document, `${page.document.url.pathname}/challenge`);
    const fresh = await postAnswer(browser, page, await card.sign(op.url, renewed.body.nonce as string));
    expect(fresh.redirectTo).toBeDefined();
  });

  it('refuses a POST another site makes in the same browser (CROSS_ORIGIN_REQUEST), JSON', async () => {
    const browser = new TestBrowser(undefined, { 'accept-language': 'en' });
    const page = await openLoginPage(browser);
    const evil = { url: new URL('https://evil.example/login'), referrerPolicy: DEFAULT_REFERRER_POLICY };
    const challengeUrl = new URL(`${page.document.url.pathname}/challenge`, page.document.url);
    const forged = await browser.submitForm(evil, challengeUrl.href, {}, () => false);
    expect(forged.response?.status).toBe(403);
    expect(await forged.response?.json()).toEqual({
      error: { code: 'CROSS_ORIGIN_REQUEST', message: 'Requests from other sites are not accepted.' },
    });
    // The page's own challenge is untouched.
    expect((await postAnswer(browser, page, await card.sign(op.url, page.nonce))).redirectTo).toBeDefined();
  });

  it('refuses another browser (no interaction cookie) with INTERACTION_EXPIRED', async () => {
    const page = await openLoginPage(new TestBrowser());
    const stranger = new TestBrowser();
    const document = { url: page.document.url, referrerPolicy: page.document.referrerPolicy };
    const { response, body } = await scriptPost(
      stranger,
      document,
      `${page.document.url.pathname}/challenge`,
    );
    expect(response.status).toBe(400);
    expect(body).toMatchObject({ error: { code: 'INTERACTION_EXPIRED' } });
  });

  it(`counts toward the ${LOGIN_LIMITS.challengesPerInteraction} challenges of a sign-in (429 with Retry-After)`, async () => {
    const browser = new TestBrowser(undefined, { 'accept-language': 'en' });
    const page = await openLoginPage(browser);
    const url = `${page.document.url.pathname}/challenge`;
    // The page load was the first.
    for (let count = 2; count <= LOGIN_LIMITS.challengesPerInteraction; count++) {
      expect((await scriptPost(browser, page.document, url)).response.status).toBe(200);
    }
    const { response, body } = await scriptPost(browser, page.document, url);
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(body).toMatchObject({ error: { code: 'TOO_MANY_ATTEMPTS' } });
    expect(body.nonce).toBeUndefined();
  });
});

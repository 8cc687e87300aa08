/**
 * The "My account" page over real HTTP: an OP on dynalite, the scripted browser that sends what
 * Chromium sends (cookies, Origin, Referer, Sec-Fetch-*; never set by hand), the virtual card,
 * openid-client RPs and a loopback back-channel endpoint. Sign-in through the OP as its own
 * client (PKCE, state, no SSO either way), the overview, every action and its CSRF protection.
 * test/e2e/account.test.ts does the same in real Chromium.
 */

import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { ClientMetadata } from 'oidc-provider';
import * as client from 'openid-client';
import { AccountRecords } from '../../functions/accounts/account-records.js';
import { NO_PREDECESSORS } from '../../functions/accounts/account-store.js';
import { DynamoAccountStore } from '../../functions/accounts/dynamo-account-store.js';
import { ACCOUNT_SESSION_SECONDS } from '../../functions/defaults.js';
import { claimLabel } from '../../functions/identity/consent-items.js';
import { ACCOUNT_CLIENT_ID } from '../../functions/op/account/account-client.js';
import { accountText } from '../../functions/op/account/texts.js';
import { type OpServer, startOpServer } from '../../functions/op/local-server.js';
import { fill } from '../../functions/op/login-page/messages.js';
import { ReleaseHistory } from '../../functions/storage/release-history.js';
import { pseudonymFingerprint } from '../../functions/subject/pseudonym-fingerprint.js';
import { type TestTable, useLocalTables } from '../storage/local-table.js';
import { aliceCard } from '../support/card.js';
import { issueTestTls } from '../support/https-issuer.js';
import {
  authorizationRequest,
  type BrowserDocument,
  httpTransportFrom,
  loginPageOf,
  postAnswer,
  relyingParty,
  signIn,
  TestBrowser,
  VirtualCardSigner,
} from '../support/oidc-flow.js';
import { startTestOp, testOpConfig } from '../support/op-stack.js';
import {
  accountTestClients,
  BackchannelEndpoint,
  expectWithdrawn,
  itemsNaming,
  rpSignIn as rpSignInWith,
} from './account-world.js';

const newTable = useLocalTables();
let card: VirtualCardSigner;
let backchannel: BackchannelEndpoint;
let clients: ReturnType<typeof accountTestClients>;
let table: TestTable;
let op: OpServer;

beforeAll(async () => {
  card = new VirtualCardSigner((await aliceCard()).identity);
  backchannel = new BackchannelEndpoint();
  await backchannel.start();
  clients = accountTestClients(backchannel);
});
afterAll(async () => {
  await card?.close();
  await backchannel?.close();
});
// A fresh table and OP per test: one test's account never shows in another's.
beforeEach(async () => {
  backchannel.reset();
  table = await newTable();
  op = await startTestOp({ table, clients: Object.values(clients), privateRpHosts: ['127.0.0.1'] });
});
afterEach(async () => {
  await op?.close();
});

const english = () => new TestBrowser(undefined, { 'accept-language': 'en' });
const never = () => false;

/** A page the browser ended on, with its HTML. */
interface ShownPage {
  readonly document: BrowserDocument;
  readonly response: Response;
  readonly html: string;
}

async function ended(step: {
  response?: Response;
  document?: BrowserDocument;
  url: URL;
}): Promise<ShownPage> {
  if (!step.response || !step.document) throw new Error(`the navigation stopped at ${step.url.href}`);
  return { document: step.document, response: step.response, html: await step.response.text() };
}

/**
 * Opens /account in `browser` and signs in with the card as a person does: the login page's
 * answer posted as its script does, then the script's navigation. `stopAtCallback`: stop at the
 * callback URL instead of following it.
 */
async function signInToAccount(browser: TestBrowser): Promise<ShownPage> {
  const callback = await reachCallback(browser);
  return ended(await browser.navigate(callback.url, never, { by: 'script', document: callback.from }));
}

/**
 * Signs in up to the account callback (not followed): its URL and the page that navigated there.
 * `start`: where the login starts (default /account; the authorization URL of a login /account started).
 */
async function reachCallback(
  browser: TestBrowser,
  start: string | URL = `${op.url}/account`,
): Promise<{ url: URL; from: BrowserDocument }> {
  const login = await loginPageOf(await browser.navigate(start, never));
  const answer = await card.sign(login.document.url.origin, login.nonce);
  const reply = await postAnswer(browser, login, answer);
  if (!reply.redirectTo) throw new Error(`login refused: ${JSON.stringify(reply)}`);
  const atCallback = (next: URL) => next.pathname === '/account/callback';
  const step = await browser.navigate(new URL(reply.redirectTo, login.document.url), atCallback, {
    by: 'script',
    document: login.document,
  });
  if (!atCallback(step.url)) throw new Error(`the login ended at ${step.url.href}`);
  return { url: step.url, from: login.document };
}

/** An RP login of `metadata`'s client in `browser` (consent given where asked). */
const rpSignIn = (browser: TestBrowser, metadata: ClientMetadata) =>
  rpSignInWith(op.url, card, metadata, browser);

/** The fields of the page's POST form to `/account/<action>` that holds `marker` (e.g. a client id). */
function formFields(html: string, action: string, marker = ''): Record<string, string> {
  const forms = [...html.matchAll(/<form\b[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)];
  const form = forms.find(
    (match) => match[1] === `/account/${action}` && (match[2] as string).includes(marker),
  );
  if (!form) throw new Error(`no form posting to /account/${action}${marker ? ` with ${marker}` : ''}`);
  return Object.fromEntries(
    [...(form[2] as string).matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map(
      (field) => [field[1] as string, (field[2] as string).replace(/&amp;/g, '&')],
    ),
  );
}

/** Submits the page's form to `/account/<action>` (with its hidden fields and `extra`) and follows it. */
async function submit(
  browser: TestBrowser,
  page: ShownPage,
  action: string,
  { marker = '', extra = {} }: { marker?: string; extra?: Record<string, string> } = {},
): Promise<ShownPage> {
  const fields = { ...formFields(page.html, action, marker), ...extra };
  return ended(await browser.submitForm(page.document, `/account/${action}`, fields, never));
}

const text = (key: Parameters<typeof accountText>[1], values: Record<string, string> = {}) =>
  fill(accountText('en', key), values);

describe('signing in to the account page', () => {
  it('starts a card login at the OP as its own client: PKCE S256, state, prompt=login, max_age=0', async () => {
    const response = await english().request(`${op.url}/account`);
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get('location') as string, op.url);
    expect(location.pathname).toBe('/auth');
    expect(Object.fromEntries(location.searchParams)).toMatchObject({
      client_id: ACCOUNT_CLIENT_ID,
      redirect_uri: `${op.url}/account/callback`,
      response_type: 'code',
      code_challenge_method: 'S256',
      prompt: 'login',
      max_age: '0',
      ui_locales: 'en',
    });
    expect(location.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(location.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const cookie = response.headers.getSetCookie().find((line) => line.startsWith('myna-account-login='));
    expect(cookie).toMatch(/; httponly/i);
    expect(cookie).toMatch(/; samesite=lax/i);
  });

  it('after the card login: the overview, in a 15-minute HttpOnly SameSite=Strict session, with a CSP that allows no script', async () => {
    const browser = english();
    const callback = await reachCallback(browser);
    const answer = await browser.request(callback.url, {}, { by: 'script', document: callback.from });
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/account');
    const cookie = answer.headers.getSetCookie().find((line) => line.startsWith('myna-account='));
    expect(cookie).toMatch(/^myna-account=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}; path=\/; /);
    expect(cookie).toMatch(/; httponly/i);
    expect(cookie).toMatch(/; samesite=strict/i);
    const expires = Date.parse(/expires=([^;]+)/i.exec(cookie ?? '')?.[1] ?? '');
    expect((expires - Date.now()) / 1000).toBeLessThanOrEqual(ACCOUNT_SESSION_SECONDS);
    expect((expires - Date.now()) / 1000).toBeGreaterThan(ACCOUNT_SESSION_SECONDS - 60);
    const page = await ended(await browser.navigate(new URL('/account', op.url), never));
    expect(page.response.status).toBe(200);
    expect(page.html).toContain(`<h1>${text('heading')}</h1>`);
    expect(page.html).toContain(text('servicesNone'));
    const until = /signed in to this page until <time datetime="([^"]+)">/.exec(page.html)?.[1] as string;
    expect((Date.parse(until) - Date.now()) / 1000).toBeGreaterThan(ACCOUNT_SESSION_SECONDS - 60);
    expect((Date.parse(until) - Date.now()) / 1000).toBeLessThanOrEqual(ACCOUNT_SESSION_SECONDS);
    const csp = page.response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).not.toContain('script-src');
    expect(page.html).not.toContain('<script');
  });

  it('on an https issuer both cookies are __Host- prefixed and Secure', async () => {
    await op.close();
    const tls = await issueTestTls({ ipAddresses: ['127.0.0.1'] });
    try {
      op = await startOpServer({
        tls: { key: tls.key, cert: tls.cert },
        config: (url) => testOpConfig(url, { table, clients: Object.values(clients) }),
      });
      expect(op.url).toMatch(/^https:/);
      const browser = new TestBrowser(httpTransportFrom({ ca: tls.caCert }), { 'accept-language': 'en' });
      const started = await browser.request(`${op.url}/account`);
      const pending = started.headers
        .getSetCookie()
        .find((line) => line.startsWith('__Host-myna-account-login='));
      expect(pending).toMatch(/; path=\/;/);
      expect(pending).toMatch(/; secure/i);
      const callback = await reachCallback(browser);
      const answer = await browser.request(callback.url, {}, { by: 'script', document: callback.from });
      const cookie = answer.headers.getSetCookie().find((line) => line.startsWith('__Host-myna-account='));
      for (const attribute of [/; path=\/;/, /; secure/i, /; httponly/i, /; samesite=strict/i]) {
        expect(cookie).toMatch(attribute);
      }
      const page = await ended(await browser.navigate(new URL('/account', op.url), never));
      expect(page.html).toContain(`<h1>${text('heading')}</h1>`);
    } finally {
      await tls.remove();
    }
  });

  it('no single sign-on either way: an RP login does not open the page, and the page login is not reused by RPs', async () => {
    const browser = english();
    await rpSignIn(browser, clients.plain);
    // The OP session of the RP login does not sign the person in to the account page.
    const login = await ended(await browser.navigate(`${op.url}/account`, never));
    expect(login.document.url.pathname).toMatch(/^\/interaction\//);
    expect(login.html).toContain('data-nonce=');
    await signInToAccount(browser);
    // After the page's login, the next RP sign-in asks for the card again (fresh-login.ts).
    const before = card.signatures;
    await rpSignIn(browser, clients.plain);
    expect(card.signatures).toBe(before + 1);
  });

  it('a code works once, only with the PKCE verifier and state of the browser that started the login', async () => {
    const person = english();
    const callback = await reachCallback(person);
    // An attacker who got the code starts a login of their own and feeds the code to it: PKCE fails.
    const attacker = english();
    const started = await attacker.request(`${op.url}/account`);
    const attackerState = new URL(started.headers.get('location') as string, op.url).searchParams.get(
      'state',
    );
    const forged = new URL(callback.url);
    forged.searchParams.set('state', attackerState as string);
    const refused = await ended(await attacker.navigate(forged, never));
    expect(refused.response.status).toBe(400);
    expect(refused.html).toContain('LOGIN_CODE_INVALID');
    // The person's own callback still works, once.
    const page = await ended(
      await person.navigate(callback.url, never, { by: 'script', document: callback.from }),
    );
    expect(page.html).toContain(`<h1>${text('heading')}</h1>`);
    const replay = await ended(await person.navigate(callback.url, never));
    expect(replay.response.status).toBe(400);
    expect(replay.html).toContain('LOGIN_STATE_MISMATCH');
  });

  it('two concurrent callbacks with one code: one session, one LOGIN_CODE_INVALID refusal, no 500', async () => {
    const browser = english();
    const callback = await reachCallback(browser);
    // The script's navigation sent twice at once (a double submit, a retried request).
    const answers = await Promise.all(
      [1, 2].map(() => browser.request(callback.url, {}, { by: 'script', document: callback.from })),
    );
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([303, 400]);
    const refusal = answers.find((answer) => answer.status === 400) as Response;
    expect(await refusal.text()).toContain('LOGIN_CODE_INVALID');
    // The winner's session is the one stored (one item per account): the loser wrote none over it.
    const page = await ended(await browser.navigate(new URL('/account', op.url), never));
    expect(page.response.status).toBe(200);
    expect(page.html).toContain(`<h1>${text('heading')}</h1>`);
  });

  it('a callback with a state this browser did not start destroys the code: it works nowhere after', async () => {
    const person = english();
    const callback = await reachCallback(person);
    // Another browser (or tab whose login was superseded) brings the code with a state it never started.
    const other = english();
    await other.request(`${op.url}/account`);
    const mismatched = await ended(await other.navigate(callback.url, never));
    expect(mismatched.response.status).toBe(400);
    expect(mismatched.html).toContain('LOGIN_STATE_MISMATCH');
    expect(await itemsNaming(table, ['AuthorizationCode#'])).toEqual([]);
    const refused = await ended(
      await person.navigate(callback.url, never, { by: 'script', document: callback.from }),
    );
    expect(refused.response.status).toBe(400);
    expect(refused.html).toContain('LOGIN_CODE_INVALID');
  });

  it("the token endpoint refuses the page's client: a code with its verifier buys no token", async () => {
    const browser = english();
    const started = await browser.request(`${op.url}/account`);
    const verifier = /^myna-account-login=[^.;]+\.([^;]+)/m.exec(
      started.headers.getSetCookie().join('\n'),
    )?.[1];
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const callback = await reachCallback(browser, new URL(started.headers.get('location') as string, op.url));
    // What anyone holding the code and verifier could send (a public client authenticates with its id).
    const response = await fetch(`${op.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: ACCOUNT_CLIENT_ID,
        code: callback.url.searchParams.get('code') as string,
        redirect_uri: `${op.url}/account/callback`,
        code_verifier: verifier as string,
      }),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'invalid_client' });
    // Refused as a client, before the code: the person's own callback still signs them in.
    const page = await ended(
      await browser.navigate(callback.url, never, { by: 'script', document: callback.from }),
    );
    expect(page.html).toContain(`<h1>${text('heading')}</h1>`);
  });

  it("a code issued to a relying party does not open the page (and stays the RP's)", async () => {
    const rp = await relyingParty({
      issuer: op.url,
      clientId: clients.plain.client_id,
      clientSecret: clients.plain.client_secret as string,
    });
    const redirectUri = (clients.plain.redirect_uris as string[])[0] as string;
    const { url, checks } = await authorizationRequest(rp, redirectUri);
    const { callback } = await signIn({ browser: english(), authorizationUrl: url, redirectUri, card });
    const code = callback?.searchParams.get('code') as string;
    const browser = english();
    const started = await browser.request(`${op.url}/account`);
    const state = new URL(started.headers.get('location') as string, op.url).searchParams.get(
      'state',
    ) as string;
    const forged = new URL(`${op.url}/account/callback?${new URLSearchParams({ code, state })}`);
    const refused = await ended(await browser.navigate(forged, never));
    expect(refused.response.status).toBe(400);
    expect(refused.html).toContain('LOGIN_CODE_INVALID');
    const tokens = await client.authorizationCodeGrant(rp, callback as URL, {
      ...checks,
      idTokenExpected: true,
    });
    expect(tokens.access_token).toEqual(expect.any(String));
  });

  it('cancelling the card login says so and offers to sign in again', async () => {
    const browser = english();
    const login = await ended(await browser.navigate(`${op.url}/account`, never));
    const abort = /<form class="cancel" method="post" action="([^"]+)"/.exec(login.html)?.[1] as string;
    const page = await ended(await browser.submitForm(login.document, abort, {}, never));
    expect(page.document.url.pathname).toBe('/account/callback');
    expect(page.response.status).toBe(400);
    expect(page.html).toContain(text('LOGIN_CANCELLED'));
    expect(page.html).toContain('href="/account"');
  });

  it('one page session per account: a sign-in in another browser ends the one before', async () => {
    const first = english();
    await signInToAccount(first);
    await signInToAccount(english());
    const response = await first.request(`${op.url}/account`);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toMatch(/^\/auth\?/);
  });

  it('the session ends after 15 minutes, checked by the OP', async () => {
    const browser = english();
    await signInToAccount(browser);
    const later = Date.now() + (ACCOUNT_SESSION_SECONDS + 1) * 1000;
    const clock = jest.spyOn(Date, 'now').mockReturnValue(later);
    try {
      const response = await browser.request(`${op.url}/account`);
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toMatch(/^\/auth\?/);
    } finally {
      clock.mockRestore();
    }
  });
});

describe('the overview', () => {
  it('shows each service: name, logo, sign-ins, what it received, back-channel logout, the fingerprint of the sub it holds', async () => {
    const rpBrowser = english();
    const news = await rpSignIn(rpBrowser, clients.news);
    const shop = await rpSignIn(english(), clients.shop);
    const page = await signInToAccount(english());
    const { html } = page;
    expect(html).toContain('Daily News');
    expect(html).toContain('Example Shop');
    expect(html).toContain(pseudonymFingerprint(news.sub));
    expect(html).toContain(pseudonymFingerprint(shop.sub));
    expect(html).toContain('<code>openid</code>');
    // First and last sign-in come from the release history the logins wrote.
    expect(html).not.toContain(text('never'));
    expect(html.match(/<dt>First sign-in<\/dt><dd><time datetime=/g)?.length).toBe(2);
    expect(html).toContain(text('backchannelYes'));
    expect(html).toContain(text('backchannelNo'));
    expect(html).toContain('src="https://cdn.shop.example/logo.svg"');
    expect(page.response.headers.get('content-security-policy')).toContain(
      "img-src 'self' https://cdn.shop.example",
    );
    // The page's own client is not a service.
    expect(html).not.toContain(`value="${ACCOUNT_CLIENT_ID}"`);
    expect(html).not.toContain(text('servicesNone'));
    // The card's certificate, by generation and date only.
    expect(html).toContain(text('certificatesHeading'));
    expect(html).toMatch(/<time datetime="\d{4}-\d{2}-\d{2}T/);
  });

  it('lists the identity facts a service received and when, by name only', async () => {
    const browser = english();
    await rpSignIn(english(), clients.news);
    await signInToAccount(browser);
    const { accountId } = (await (await browser.request(`${op.url}/account/export`)).json()) as {
      accountId: string;
    };
    // An identity verification's release, as the code issuance records it (names, never values).
    const at = new Date('2026-04-01T01:30:00Z');
    await new ReleaseHistory(table).record({
      accountId,
      clientId: 'rp-news',
      at,
      scopes: ['openid', 'name', 'birthdate'],
      claims: ['sub'],
      identityClaims: ['name', 'birthdate'],
    });
    const page = await ended(await browser.navigate(`${op.url}/account`, never));
    const names = `${claimLabel('name', 'en')}, ${claimLabel('birthdate', 'en')}`;
    expect(page.html).toContain(
      `<li><time datetime="${at.toISOString()}">1 April 2026 at 10:30 (Japan time)</time>: ${names}</li>`,
    );
    expect(page.html).not.toContain(text('identityNone'));
  });

  it('lists the identity check records a service must keep; the delete confirmation says they stay, unlinked, until their date', async () => {
    const browser = english();
    await rpSignIn(english(), clients.news);
    await signInToAccount(browser);
    const { accountId } = (await (await browser.request(`${op.url}/account/export`)).json()) as {
      accountId: string;
    };
    // The link the OP writes when it retains a record for the service (storage/identity-evidence.ts).
    const createdAt = new Date('2026-04-01T01:30:00Z');
    const keptUntil = new Date(Date.now() + 400 * 24 * 3600 * 1000);
    await new ReleaseHistory(table).recordEvidence({
      accountId,
      clientId: 'rp-news',
      recordId: 'record-0001',
      createdAt,
      keptUntil,
    });
    const until = `<time datetime="${keptUntil.toISOString()}">${new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeZone: 'Asia/Tokyo' }).format(keptUntil)}</time>`;
    const page = await ended(await browser.navigate(`${op.url}/account`, never));
    expect(page.html).toContain(`<dt>${text('retainedEvidence')}</dt>`);
    expect(page.html).toContain(
      `<li>Made <time datetime="${createdAt.toISOString()}">1 April 2026 at 10:30 (Japan time)</time>, kept until ${until} (record ID <code>record-0001</code>)</li>`,
    );
    expect(page.html).toContain(text('retainedEvidenceHelp', { name: 'Daily News' }));
    // The export names the same record (never its content).
    const exported = (await (await browser.request(`${op.url}/account/export`)).json()) as {
      retainedEvidence: unknown[];
    };
    expect(exported.retainedEvidence).toEqual([
      {
        clientId: 'rp-news',
        recordId: 'record-0001',
        createdAt: createdAt.toISOString(),
        keptUntil: keptUntil.toISOString(),
      },
    ]);
    const confirm = await ended(await browser.navigate(`${op.url}/account/delete`, never));
    expect(confirm.html).toContain(
      `<li>${fill(accountText('en', 'deleteConsequenceEvidence'), { name: 'Daily News', date: until })}</li>`,
    );
    // In Japanese too.
    const japanese = new TestBrowser(undefined, { 'accept-language': 'ja' });
    await signInToAccount(japanese);
    const confirmJa = await ended(await japanese.navigate(`${op.url}/account/delete`, never));
    expect(confirmJa.html).toContain('毎日ニュースは本人確認の記録を<time datetime=');
    expect(confirmJa.html).toContain('まで保管する必要があります。');
  });

  it('says a public-subject service gets the shared ID; the delete confirmation names it as the exception to the new pseudonyms', async () => {
    const browser = english();
    await rpSignIn(english(), clients.news);
    await rpSignIn(english(), clients.forum);
    const page = await signInToAccount(browser);
    const entries = page.html.split('<li class="service">').slice(1);
    const entryOf = (name: string) => entries.find((entry) => entry.includes(`>${name}</h3>`)) ?? '';
    const sharedLine = `<dt>${text('sharedIdentifier')}</dt><dd><strong>${text('sharedIdentifierText')}</strong></dd>`;
    expect(entryOf('Town Forum')).toContain(sharedLine);
    expect(entryOf('Daily News')).not.toContain(text('sharedIdentifier'));
    // The intro's "every service gets its own ID" names its exception.
    expect(page.html).toContain(`${text('intro')} ${text('introShared')}</p>`);
    const confirm = await ended(await browser.navigate(`${op.url}/account/delete`, never));
    expect(confirm.html).toContain(
      `<li><strong>${text('deleteConsequencePseudonym')}</strong> ${text('deleteConsequencePseudonymShared', { names: 'Town Forum' })}</li>`,
    );
    expect(confirm.html).not.toContain('Daily News');
    // In Japanese too.
    const japanese = new TestBrowser(undefined, { 'accept-language': 'ja' });
    const pageJa = await signInToAccount(japanese);
    expect(pageJa.html).toContain(`<strong>${accountText('ja', 'sharedIdentifierText')}</strong>`);
    const confirmJa = await ended(await japanese.navigate(`${op.url}/account/delete`, never));
    expect(confirmJa.html).toContain(
      fill(accountText('ja', 'deleteConsequencePseudonymShared'), { names: 'Town Forum' }),
    );
  });

  it('without a public-subject service nothing speaks of a shared ID', async () => {
    const browser = english();
    await rpSignIn(english(), clients.news);
    await rpSignIn(english(), clients.shop);
    const page = await signInToAccount(browser);
    expect(page.html).not.toContain(text('sharedIdentifierText'));
    expect(page.html).not.toContain(text('introShared'));
    const confirm = await ended(await browser.navigate(`${op.url}/account/delete`, never));
    expect(confirm.html).toContain(`<li><strong>${text('deleteConsequencePseudonym')}</strong></li>`);
  });

  it('marks a certificate the OP was told is revoked as one that cannot sign in', async () => {
    const browser = english();
    const page = await signInToAccount(browser);
    expect(page.html).toContain(text('certificateActive'));
    const exported = (await (await browser.request(`${op.url}/account/export`)).json()) as {
      accountId: string;
      account: { certificates: { certificateKey: string }[] };
    };
    const accounts = new DynamoAccountStore({
      ...table,
      secret: randomBytes(32),
      predecessors: NO_PREDECESSORS,
    });
    const [certificate] = exported.account.certificates;
    await accounts.markCertificateRevoked(exported.accountId, certificate?.certificateKey as string, {
      reason: 'keyCompromise',
      revokedAt: new Date(),
    });
    const reloaded = await ended(await browser.navigate(`${op.url}/account`, never));
    expect(reloaded.html).toContain(text('certificateRevoked'));
    expect(reloaded.html).not.toContain(text('certificateActive'));
  });

  it('is in Japanese for a Japanese browser, with the Japanese service name', async () => {
    await rpSignIn(english(), clients.news);
    const page = await signInToAccount(new TestBrowser(undefined, { 'accept-language': 'ja' }));
    expect(page.html).toContain('<html lang="ja">');
    expect(page.html).toContain(accountText('ja', 'heading'));
    expect(page.html).toContain('毎日ニュース');
  });
});

describe('actions', () => {
  it('withdraw: the RP gets a valid logout token for its sub, its refresh token stops working, consent is asked again', async () => {
    const news = await rpSignIn(english(), clients.news);
    expect(news.tokens.refresh_token).toEqual(expect.any(String));
    const shop = await rpSignIn(english(), clients.shop);
    const browser = english();
    const page = await signInToAccount(browser);
    const before = backchannel.tokens.length;
    const after = await submit(browser, page, 'withdraw', { marker: 'value="rp-news"' });
    expect(after.document.url.pathname).toBe('/account');
    expect(after.html).toContain(text('doneWithdrawn', { name: 'Daily News' }));
    expect(backchannel.tokens.length).toBe(before + 1);
    await expectWithdrawn(backchannel, op.url, news);
    // The third-party shop: withdrawn, its next sign-in shows the consent page again.
    const withdrawn = await submit(browser, after, 'withdraw', { marker: 'value="rp-shop"' });
    expect(withdrawn.html).toContain(text('doneWithdrawn', { name: 'Example Shop' }));
    const { url } = await authorizationRequest(shop.rp, shop.redirectUri);
    const again = await signIn({
      browser: english(),
      authorizationUrl: url,
      redirectUri: shop.redirectUri,
      card,
    });
    expect(again.page?.html).toContain('/confirm"');
  });

  it('refuses forms from another site and forms without the session token (CSRF), as browsers send them', async () => {
    const browser = english();
    const page = await signInToAccount(browser);
    const fields = formFields(page.html, 'sign-out-everywhere');
    const evil: BrowserDocument = {
      url: new URL('https://evil.example/'),
      referrerPolicy: 'strict-origin-when-cross-origin',
    };
    const crossSite = await ended(
      await browser.submitForm(evil, `${op.url}/account/sign-out-everywhere`, fields, never),
    );
    expect(crossSite.response.status).toBe(403);
    expect(crossSite.html).toContain('FORM_REFUSED');
    const withoutToken = await ended(
      await browser.submitForm(page.document, '/account/sign-out-everywhere', {}, never),
    );
    expect(withoutToken.response.status).toBe(403);
    expect(withoutToken.html).toContain('FORM_REFUSED');
    // A form naming the page's own client (or any the account has nothing with) is refused.
    const ownClient = await ended(
      await browser.submitForm(
        page.document,
        '/account/withdraw',
        { ...fields, client_id: ACCOUNT_CLIENT_ID },
        never,
      ),
    );
    expect(ownClient.response.status).toBe(400);
    expect(ownClient.html).toContain('FORM_INVALID');
    // None did anything: the session is still on.
    const still = await ended(await browser.navigate(`${op.url}/account`, never));
    expect(still.html).toContain(`<h1>${text('heading')}</h1>`);
  });

  it('sign out everywhere: every session ends and the services with back-channel logout are told', async () => {
    const rpBrowser = english();
    const news = await rpSignIn(rpBrowser, clients.news);
    const browser = english();
    const page = await signInToAccount(browser);
    const after = await submit(browser, page, 'sign-out-everywhere');
    expect(after.html).toContain(text('doneSignedOutEverywhere'));
    const [logout] = await backchannel.verifiedFor('rp-news', op.url);
    expect(logout?.sub).toBe(news.sub);
    expect(logout?.sid).toEqual(news.tokens.claims()?.sid);
    // The RP's browser has no OP session any more: its next sign-in needs the card.
    const before = card.signatures;
    await rpSignIn(rpBrowser, clients.news);
    expect(card.signatures).toBe(before + 1);
  });

  it('export downloads a JSON document with exactly the services and certificates the page shows', async () => {
    const news = await rpSignIn(english(), clients.news);
    const browser = english();
    const page = await signInToAccount(browser);
    const link = /<a class="button" href="([^"]+)" download/.exec(page.html)?.[1] as string;
    const response = await browser.request(
      new URL(link, op.url),
      {},
      { by: 'link', document: page.document },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="myna-account.json"');
    const exported = (await response.json()) as {
      format: string;
      version: number;
      services: { clientId: string; pseudonymFingerprint?: string; name?: string }[];
      certificates: { caGeneration: string }[];
    };
    expect(exported).toMatchObject({ format: 'myna-oidc/account-export', version: 1 });
    expect(exported.services.map((service) => service.clientId)).toEqual(['rp-news']);
    expect(exported.services[0]?.pseudonymFingerprint).toBe(pseudonymFingerprint(news.sub));
    const shownFingerprints = [...page.html.matchAll(/<span class="fingerprint"[^>]*>([^<]+)</g)].map(
      (m) => m[1],
    );
    expect(shownFingerprints).toEqual(exported.services.map((service) => service.pseudonymFingerprint));
    for (const certificate of exported.certificates)
      expect(page.html).toContain(`<code>${certificate.caGeneration}</code>`);
    expect(JSON.stringify(exported)).not.toContain('serial');
  });

  it('delete: explains and asks first, then erases everything — a dump of the table finds nothing of the account', async () => {
    await rpSignIn(english(), clients.news);
    await rpSignIn(english(), clients.shop);
    const browser = english();
    const page = await signInToAccount(browser);
    const exported = (await (await browser.request(`${op.url}/account/export`)).json()) as {
      accountId: string;
      account: { certificates: { certificateKey: string }[] };
    };
    const needles = [
      exported.accountId,
      ...exported.account.certificates.map((entry) => entry.certificateKey),
    ];
    expect((await itemsNaming(table, needles)).length).toBeGreaterThan(0);
    const confirm = await ended(
      await browser.navigate(new URL('/account/delete', op.url), never, {
        by: 'link',
        document: page.document,
      }),
    );
    expect(confirm.html).toContain(text('deleteConsequencePseudonym'));
    expect(confirm.html).toContain('name="confirm" value="yes" required');
    const unconfirmed = await submit(browser, confirm, 'delete');
    expect(unconfirmed.response.status).toBe(400);
    expect(unconfirmed.html).toContain('FORM_INVALID');
    const before = backchannel.tokens.length;
    const deleted = await submit(browser, confirm, 'delete', { extra: { confirm: 'yes' } });
    expect(deleted.document.url.pathname).toBe('/account/deleted');
    expect(deleted.html).toContain(text('deletedText'));
    expect(backchannel.tokens.length).toBe(before + 1);
    expect(await itemsNaming(table, needles)).toEqual([]);
    // The old session cookie is worthless: the page asks for the card again.
    const response = await browser.request(`${op.url}/account`);
    expect(response.headers.get('location')).toMatch(/^\/auth\?/);
  });

  it("an operator's erasure (myna-oidc accounts erase) while the person is on the page ends the page too", async () => {
    const browser = english();
    await signInToAccount(browser);
    const { accountId } = (await (await browser.request(`${op.url}/account/export`)).json()) as {
      accountId: string;
    };
    await new AccountRecords(table).erase(accountId);
    expect(await itemsNaming(table, [accountId])).toEqual([]);
    const response = await browser.request(`${op.url}/account`);
    expect(response.headers.get('location')).toMatch(/^\/auth\?/);
  });

  it('signing out of the page ends its session', async () => {
    const browser = english();
    const page = await signInToAccount(browser);
    const signedOut = await submit(browser, page, 'sign-out');
    expect(signedOut.document.url.pathname).toBe('/account/signed-out');
    expect(signedOut.html).toContain(text('signedOutText'));
    const response = await browser.request(`${op.url}/account`);
    expect(response.headers.get('location')).toMatch(/^\/auth\?/);
    const refused = await ended(
      await browser.submitForm(
        page.document,
        '/account/sign-out-everywhere',
        formFields(page.html, 'sign-out-everywhere'),
        never,
      ),
    );
    expect(refused.response.status).toBe(401);
    expect(refused.html).toContain('SESSION_EXPIRED');
  });
});

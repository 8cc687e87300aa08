/**
 * The identity step of the OP's interaction (issue #14), over real HTTP with the scripted browser
 * (cookies, Origin and Sec-Fetch-* as Chromium sends them, never set by hand) and the virtual card
 * behind the helper's own CardService (the person types the signing password into the scripted
 * PIN window): an RP asking for identity claims gets a card login in this very authorization (no
 * single sign-on), then the identity page (purpose verify-identity, its own challenge), the
 * answer is verified and must come from the card that signed in, the claim-by-claim consent page
 * shows the exact values (required ones fixed, optional ones untickable, no script needed), and
 * the release holds what the person left ticked. Between the two POSTs the table holds nothing
 * of the person in plain; an RP asking for nothing of the identity never sees the step.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Adapter } from 'oidc-provider';
import * as client from 'openid-client';
import { createDevIdentity, DEV_FACT_VARIANTS, type DevIdentity } from '../../dev-pki/hierarchy.js';
import { IDENTITY_DEFAULTS, LOGIN_LIMITS } from '../../functions/defaults.js';
import type { OpServer } from '../../functions/op/local-server.js';
import { escapeHtml } from '../../functions/op/login-page/html.js';
import { fill, type MessageKey, message } from '../../functions/op/login-page/messages.js';
import { cardIdentityOf } from '../../reader-helper/virtual-card/identity.js';
import { useLocalTables } from '../storage/local-table.js';
import { devPki } from '../support/dev-pki.js';
import {
  type AuthorizationChecks,
  authorizationRequest,
  type BrowserDocument,
  CHALLENGE_NONCE,
  formAction,
  type LoginPage,
  loginPageOf,
  postAnswer,
  readLoginPage,
  relyingParty,
  TestBrowser,
  VirtualCardSigner,
} from '../support/oidc-flow.js';
import { memoryLogger } from '../support/op-stack.js';
import { leaksIn, personalDataNeedles, tableDump } from '../support/privacy-scan.js';
import { startIdentityOp } from './identity-op.js';

const newTable = useLocalTables();

/** A first-party RP (no scope consent) that states its purpose, in English and Japanese. */
const BANK = {
  client_id: 'rp-bank',
  client_secret: 'rp-bank-secret-0123456789abcdef01234567',
  redirect_uris: ['https://bank.example/cb'],
  client_name: 'Example Bank',
  myna_first_party: true,
  myna_purpose: 'Opening an account (identity verification required by law)',
  'myna_purpose#ja': '口座開設時の本人確認（犯罪収益移転防止法）',
};
/** A third-party RP: its identity page is its consent page too. */
const SHOP = {
  client_id: 'rp-shop',
  client_secret: 'rp-shop-secret-0123456789abcdef0123456',
  redirect_uris: ['https://shop.example/cb'],
  client_name: 'Example Shop',
};
/** A first-party RP the operator lets remember the person's identity choice. */
const CLUB = {
  client_id: 'rp-club',
  client_secret: 'rp-club-secret-0123456789abcdef01234567',
  redirect_uris: ['https://club.example/cb'],
  client_name: 'Example Club',
  myna_first_party: true,
  myna_remember_identity_consent: true,
};
/**
 * A third-party RP the operator lets remember the identity choice, with refresh tokens and the
 * raw-serial scope: scopes its grant may lack besides the identity claims.
 */
const LIBRARY = {
  client_id: 'rp-library',
  client_secret: 'rp-library-secret-0123456789abcdef012345',
  redirect_uris: ['https://library.example/cb'],
  client_name: 'Example Library',
  grant_types: ['authorization_code', 'refresh_token'],
  myna_remember_identity_consent: true,
  myna_raw_serial_claim: true,
};
/** A first-party RP that gets the evidence bundle, which the sign-in service keeps too. */
const RECORDS = {
  client_id: 'rp-records',
  client_secret: 'rp-records-secret-0123456789abcdef012345',
  redirect_uris: ['https://records.example/cb'],
  client_name: 'Example Records',
  myna_first_party: true,
  myna_identity_evidence: true,
  myna_retain_identity_evidence: true,
};
/** A first-party RP that may remember the identity choice, flagged for the evidence later (by the test). */
const GALLERY = {
  client_id: 'rp-gallery',
  client_secret: 'rp-gallery-secret-0123456789abcdef012345',
  redirect_uris: ['https://gallery.example/cb'],
  client_name: 'Example Gallery',
  myna_first_party: true,
  myna_remember_identity_consent: true,
};
const CLIENTS = [BANK, SHOP, CLUB, LIBRARY, RECORDS, GALLERY];

let people: Record<'alice' | 'bob' | 'moved' | 'otherCard' | 'substitutes', DevIdentity>;
let op: OpServer;
let table: Awaited<ReturnType<typeof newTable>>;
let login: VirtualCardSigner;
/** Alice's card for the identity step (its signatures counted apart from the login's). */
let aliceIdentity: VirtualCardSigner;
const logger = memoryLogger();
const cards: { close(): unknown }[] = [];

beforeAll(async () => {
  const pki = await devPki();
  const person = (label: string) =>
    pki.identities.find((identity) => identity.label === label) as DevIdentity;
  people = {
    alice: person('alice'),
    bob: person('bob'),
    moved: person('moved'),
    otherCard: person('other-card'),
    // 渡邉 registered, 渡辺 written: a substitute character in the name (and in the address).
    substitutes: await createDevIdentity({
      label: 'substitutes',
      userAuthCa: pki.userAuthCas[1],
      signingCa: pki.signingCa,
      now: new Date(),
      facts: DEV_FACT_VARIANTS.substitutes,
    }),
  };
  table = await newTable();
  op = await startIdentityOp({
    table,
    clients: CLIENTS,
    logger,
    signingCrl: 'revoked',
    moreCards: [people.substitutes],
  });
  login = new VirtualCardSigner(cardIdentityOf(people.alice));
  aliceIdentity = new VirtualCardSigner(cardIdentityOf(people.alice));
  cards.push(login, aliceIdentity);
}, 60_000);
afterAll(async () => {
  await op?.close();
  for (const card of cards) await card.close();
});

/** `person`'s card for the identity step (closed after the tests). */
function identityCard(person: DevIdentity): VirtualCardSigner {
  const card = new VirtualCardSigner(cardIdentityOf(person));
  cards.push(card);
  return card;
}

/** A relying party of `server` (the test's OP unless said). */
type Rp = { metadata: (typeof CLIENTS)[number]; config: client.Configuration; server: OpServer };
const rps = new Map<string, client.Configuration>();
async function rpOf(metadata: (typeof CLIENTS)[number], server = op): Promise<Rp> {
  const key = `${server.url} ${metadata.client_id}`;
  let config = rps.get(key);
  if (!config) {
    config = await relyingParty({
      issuer: server.url,
      clientId: metadata.client_id,
      clientSecret: metadata.client_secret,
    });
    rps.set(key, config);
  }
  return { metadata, config, server };
}

const atCallback = (rp: Rp) => (next: URL) => next.href.startsWith(rp.metadata.redirect_uris[0] as string);

/** Where a navigation ended, as a page the test can read. */
async function pageOf(step: { url: URL; response?: Response; document?: BrowserDocument }) {
  if (!step.response || !step.document) return { url: step.url };
  return {
    url: step.url,
    document: step.document,
    html: await step.response.clone().text(),
    response: step.response,
  };
}

/** Opens the RP's authorization request in `browser` (parameters `params`). */
async function authorize(browser: TestBrowser, rp: Rp, params: Record<string, string>) {
  const { url, checks } = await authorizationRequest(
    rp.config,
    rp.metadata.redirect_uris[0] as string,
    params,
  );
  return { step: await pageOf(await browser.navigate(url, atCallback(rp))), checks };
}

/** Signs in on the login page with `card` (Alice's) and follows the OP to the next page. */
async function cardLogin(browser: TestBrowser, rp: Rp, page: LoginPage, card = login) {
  const reply = await postAnswer(browser, page, await card.sign(rp.server.url, page.nonce));
  if (!reply.redirectTo) throw new Error(`login refused: ${JSON.stringify(reply)}`);
  return pageOf(
    await browser.navigate(new URL(reply.redirectTo, page.document.url), atCallback(rp), {
      by: 'script',
      document: page.document,
    }),
  );
}

/** Authorization → card login (with `card`) → the identity page. */
async function identityPage(browser: TestBrowser, rp: Rp, params: Record<string, string>, card = login) {
  const { step, checks } = await authorize(browser, rp, params);
  const afterLogin = await cardLogin(browser, rp, await loginPageOf(step), card);
  if (!afterLogin.response || !afterLogin.document)
    throw new Error(`no identity page: ${afterLogin.url.href}`);
  const page = await readLoginPage(afterLogin.document, afterLogin.response);
  return { page, checks };
}

/**
 * Signs in for BANK's `params` at `server` (the test's OP unless said), then posts `card`'s
 * identity answer signed for `origin` (the server's own unless said).
 */
async function answerIdentity(
  card: VirtualCardSigner,
  {
    params = { scope: 'openid name' },
    origin,
    language = 'en',
    server = op,
  }: { params?: Record<string, string>; origin?: string; language?: string; server?: OpServer } = {},
) {
  const browser = new TestBrowser(undefined, { 'accept-language': language });
  const { page } = await identityPage(browser, await rpOf(BANK, server), params);
  const reply = await postAnswer(browser, page, await card.verifyIdentity(origin ?? server.url, page.nonce));
  return { browser, page, reply };
}

/** The identity page's answer (of `card`) verified: the consent page it leads to. */
async function consentPage(browser: TestBrowser, rp: Rp, page: LoginPage, card = aliceIdentity) {
  const reply = await postAnswer(browser, page, await card.verifyIdentity(op.url, page.nonce));
  if (!reply.redirectTo) throw new Error(`identity refused: ${JSON.stringify(reply)}`);
  const step = await pageOf(
    await browser.navigate(new URL(reply.redirectTo, page.document.url), atCallback(rp), {
      by: 'script',
      document: page.document,
    }),
  );
  if (!step.document || step.html === undefined) throw new Error('no consent page');
  return { document: step.document, html: step.html };
}

/** Clicks "share" on the consent page with `ticked` boxes (the claim values) and follows to the RP. */
function share(
  browser: TestBrowser,
  rp: Rp,
  consent: { document: BrowserDocument; html: string },
  ticked: readonly string[],
) {
  const fields = ticked.map((claim) => ['claim', claim] as const);
  return browser.submitForm(
    consent.document,
    formAction(consent.html, 'identity-confirm'),
    fields,
    atCallback(rp),
  );
}

/** The consent page's claims: value, checkbox state, required. */
function consentRows(html: string) {
  return [...html.matchAll(/<li class="claim">(.*?)<\/li>/g)].map(([, row = '']) => ({
    claim: /name="claim" value="([^"]+)"/.exec(row)?.[1],
    label: /<span class="claim-label">([^<]*)<\/span>/.exec(row)?.[1],
    value: /<span class="claim-value">([^<]*)<\/span>/.exec(row)?.[1],
    required: / disabled[ >]/.test(row),
    checked: / checked[ >]/.test(row),
  }));
}

/**
 * Authorization → card login → identity answer, which the remembered choice releases at once (no
 * consent page): the claims the RP gets.
 */
async function releasedWithoutPage(browser: TestBrowser, rp: Rp, params: Record<string, string>) {
  const { page, checks } = await identityPage(browser, rp, params);
  const reply = await postAnswer(browser, page, await aliceIdentity.verifyIdentity(op.url, page.nonce));
  expect(reply.redirectTo).not.toMatch(/^\/interaction\//);
  const back = await browser.navigate(
    new URL(reply.redirectTo as string, page.document.url),
    atCallback(rp),
    {
      by: 'script',
      document: page.document,
    },
  );
  return redeem(rp, back.url, checks);
}

async function redeem(rp: Rp, callback: URL, checks: AuthorizationChecks) {
  const tokens = await client.authorizationCodeGrant(rp.config, callback, {
    ...checks,
    idTokenExpected: true,
  });
  return tokens.claims() as Record<string, unknown>;
}

describe('the identity step', () => {
  it('name + birthdate: card login, identity page, exact values, release of what was asked', async () => {
    const browser = new TestBrowser(undefined, { 'accept-language': 'en' });
    const bank = await rpOf(BANK);
    const { page, checks } = await identityPage(browser, bank, { scope: 'openid name birthdate' });
    expect(page.html).toContain('data-purpose="verify-identity"');
    expect(page.loginUrl.pathname).toMatch(/^\/interaction\/[^/]+\/identity$/);
    expect(page.html).toContain('Verify identity with the signing certificate');
    const consent = await consentPage(browser, bank, page);
    expect(consentRows(consent.html)).toEqual([
      { claim: 'name', label: 'Name', value: people.alice.facts.name, required: true, checked: true },
      { claim: 'birthdate', label: expect.any(String), value: '1990-01-01', required: true, checked: true },
    ]);
    expect(consent.html).toContain('Opening an account (identity verification required by law)');
    expect(consent.html).toMatch(/<fieldset class="claims"><legend>What Example Bank receives<\/legend>/);
    expect(consent.html).not.toMatch(/<script/);
    const done = await share(browser, bank, consent, []);
    expect(done.url.href).toContain('code=');
    const claims = await redeem(bank, done.url, checks);
    expect(claims).toMatchObject({ name: people.alice.facts.name, birthdate: '1990-01-01' });
    expect(claims).not.toHaveProperty('address');
    expect(claims).not.toHaveProperty('gender');
    expect(logger.lines).toContainEqual(
      expect.objectContaining({
        event: 'identity.verified',
        fields: { interaction: expect.any(String), client: 'rp-bank', claims: ['name', 'birthdate'] },
      }),
    );
  });

  it('an optional claim the person unticks is not released; the page is in Japanese for ja', async () => {
    const browser = new TestBrowser(undefined, { 'accept-language': 'ja' });
    const bank = await rpOf(BANK);
    const claimsParameter = JSON.stringify({ id_token: { age_over_20: { essential: true }, gender: null } });
    const { page, checks } = await identityPage(browser, bank, { scope: 'openid', claims: claimsParameter });
    const consent = await consentPage(browser, bank, page);
    expect(consentRows(consent.html)).toEqual([
      { claim: 'age_over_20', label: '20歳以上', value: 'はい', required: true, checked: true },
      { claim: 'gender', label: '性別', value: expect.any(String), required: false, checked: true },
    ]);
    expect(consent.html).toContain('口座開設時の本人確認（犯罪収益移転防止法）');
    expect(consent.html).toContain('<html lang="ja">');
    // Nothing goes with the claims, and the service keeps nothing: the page says so.
    expect(consent.html).toContain(fill(message('ja', 'identityConsentIntro'), { rp: BANK.client_name }));
    expect(consent.html).toContain(message('ja', 'identityConsentNotKept'));
    expect(consent.html).not.toContain('disclosure');
    // Gender unticked: only the required claim is posted (a disabled box is never sent).
    const claims = await redeem(bank, (await share(browser, bank, consent, [])).url, checks);
    expect(claims.age_over_20).toBe(true);
    expect(claims).not.toHaveProperty('gender');
    expect(claims).not.toHaveProperty('birthdate');
  });

  it('an RP that gets the evidence: the certificate itself is a required line; the page says the service keeps it, how long', async () => {
    const browser = new TestBrowser(undefined, { 'accept-language': 'en' });
    const records = await rpOf(RECORDS);
    const claimsParameter = JSON.stringify({ id_token: { age_over_20: { essential: true }, name: null } });
    const { page, checks } = await identityPage(browser, records, {
      scope: 'openid',
      claims: claimsParameter,
    });
    const consent = await consentPage(browser, records, page);
    const text = (key: MessageKey, values: Record<string, string | number> = {}) =>
      escapeHtml(fill(message('en', key), { rp: RECORDS.client_name, ...values }));
    expect(consentRows(consent.html).map((row) => row.claim)).toEqual(['age_over_20', 'name']);
    expect(consent.html).toContain(
      '<input type="checkbox" id="disclosure-certificate" checked disabled aria-describedby="disclosure-certificate-note">',
    );
    expect(consent.html).toContain(text('identityConsentCertificateNote'));
    expect(consent.html).toContain(text('identityConsentIntroCertificate'));
    expect(consent.html).not.toContain(text('identityConsentIntro'));
    expect(consent.html).toContain(
      text('identityConsentKept', { n: IDENTITY_DEFAULTS.evidenceRetentionDays }),
    );
    expect(consent.html).not.toContain(text('identityConsentNotKept'));
    // Name unticked: not a claim, though the certificate the RP gets holds it (as the page says).
    const claims = await redeem(records, (await share(browser, records, consent, [])).url, checks);
    expect(claims).not.toHaveProperty('name');
    expect(claims).toMatchObject({
      age_over_20: true,
      myna_identity_evidence: expect.any(String),
      myna_identity_evidence_record: expect.any(String),
    });
  });

  it('a third-party RP: the identity page is also the consent (no second page)', async () => {
    const browser = new TestBrowser(undefined, { 'accept-language': 'en' });
    const shop = await rpOf(SHOP);
    const { page, checks } = await identityPage(browser, shop, { scope: 'openid gender' });
    const consent = await consentPage(browser, shop, page);
    expect(consent.html).toContain('An ID for you that only this service gets');
    const done = await share(browser, shop, consent, []);
    expect(done.url.searchParams.get('code')).toBeTruthy();
    expect(await redeem(shop, done.url, checks)).toMatchObject({ gender: 'male' });
  });

  it('prompt=consent: the identity page is the consent asked for (no second page)', async () => {
    const browser = new TestBrowser();
    const shop = await rpOf(SHOP);
    const first = await identityPage(browser, shop, { scope: 'openid gender' });
    await share(browser, shop, await consentPage(browser, shop, first.page), []);
    // The grant covers the scopes now; the RP asks for consent anyway.
    const { page, checks } = await identityPage(browser, shop, { scope: 'openid gender', prompt: 'consent' });
    const done = await share(browser, shop, await consentPage(browser, shop, page), []);
    expect(await redeem(shop, done.url, checks)).toMatchObject({ gender: 'male' });
  });

  it('between the answer and the choice the table holds nothing of the person in plain', async () => {
    const browser = new TestBrowser(undefined, { 'accept-language': 'en' });
    const bank = await rpOf(BANK);
    const { page } = await identityPage(browser, bank, { scope: 'openid name address birthdate gender' });
    const consent = await consentPage(browser, bank, page);
    expect(consent.html).toContain(people.alice.facts.address);
    const dump = await tableDump(table);
    // The verified identity is there, sealed, in the interaction's item.
    expect(dump.text).toContain('pendingIdentity');
    expect(leaksIn(dump.text, personalDataNeedles(people.alice))).toEqual([]);
    expect(leaksIn(JSON.stringify(logger.lines), personalDataNeedles(people.alice))).toEqual([]);
  });

  it('a substitute character: the page says so, the RP gets the value and where the substitute stands', async () => {
    const browser = new TestBrowser(undefined, { 'accept-language': 'en' });
    const bank = await rpOf(BANK);
    const person = people.substitutes;
    const signer = new VirtualCardSigner(cardIdentityOf(person));
    cards.push(signer);
    const { page, checks } = await identityPage(browser, bank, { scope: 'openid name birthdate' }, signer);
    const consent = await consentPage(browser, bank, page, identityCard(person));
    const [name, birthdate] = consentRows(consent.html);
    expect(name).toMatchObject({ value: person.facts.name });
    expect(birthdate).toMatchObject({ value: '2000-02-29' });
    expect(consent.html).toMatch(/aria-describedby="claim-0-note"/);
    expect(consent.html).toMatch(/id="claim-0-note">A character the card cannot hold/);
    expect(consent.html).not.toMatch(/aria-describedby="claim-1-note"/);
    const claims = await redeem(bank, (await share(browser, bank, consent, [])).url, checks);
    expect(claims).toMatchObject({ name: person.facts.name, myna_substitute_characters: { name: [1] } });
  });

  it('needs a card login in this authorization even with an OP session (no single sign-on)', async () => {
    const browser = new TestBrowser();
    const bank = await rpOf(BANK);
    // A plain sign-in opens the OP session…
    const first = await authorize(browser, bank, { scope: 'openid' });
    const signedIn = await cardLogin(browser, bank, await loginPageOf(first.step));
    expect(signedIn.url.searchParams.get('code')).toBeTruthy();
    // …which a plain request uses at once, but an identity request asks for the card again.
    expect(
      (await authorize(browser, bank, { scope: 'openid' })).step.url.searchParams.get('code'),
    ).toBeTruthy();
    const identity = await authorize(browser, bank, { scope: 'openid name' });
    expect(identity.step.html).toContain('data-purpose="sign-in"');
  });

  it('prompt=none: an identity request answers login_required even with an OP session', async () => {
    const browser = new TestBrowser();
    const bank = await rpOf(BANK);
    const signedIn = await cardLogin(
      browser,
      bank,
      await loginPageOf((await authorize(browser, bank, {})).step),
    );
    expect(signedIn.url.searchParams.get('code')).toBeTruthy();
    const silent = await authorize(browser, bank, { scope: 'openid name', prompt: 'none' });
    expect(silent.step.url.searchParams.get('error')).toBe('login_required');
    // The step cannot be asked for by name.
    const named = await authorize(browser, bank, { scope: 'openid name', prompt: 'identity' });
    expect(named.step.url.searchParams.get('error')).toBe('invalid_request');
  });

  it('an RP asking for nothing of the identity never reaches the step', async () => {
    const browser = new TestBrowser();
    const bank = await rpOf(BANK);
    const { step } = await authorize(browser, bank, { scope: 'openid' });
    // The card login leads straight back to the RP with its code: no identity page.
    const done = await cardLogin(browser, bank, await loginPageOf(step));
    expect(done.url.searchParams.get('code')).toBeTruthy();
  });
});

describe('refusals', () => {
  it('another card than the one that signed in: CARD_MISMATCH, and the page may try again', async () => {
    const { browser, page, reply } = await answerIdentity(identityCard(people.bob));
    expect(reply.status).toBe(400);
    expect(reply.error).toEqual({
      code: 'CARD_MISMATCH',
      message:
        'The signing certificate is not from the card you signed in with. Please verify with that card.',
    });
    expect(reply.nonce).toMatch(CHALLENGE_NONCE);
    const retry = await postAnswer(
      browser,
      page,
      await aliceIdentity.verifyIdentity(op.url, reply.nonce as string),
    );
    expect(retry.redirectTo).toMatch(/^\/interaction\/[^/]+$/);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({
        event: 'identity.refused',
        fields: expect.objectContaining({ code: 'CARD_MISMATCH' }),
      }),
    );
  });

  it('a signing certificate of another card than its user-auth one (the link source says so): CARD_MISMATCH', async () => {
    const { reply } = await answerIdentity(identityCard(people.otherCard));
    expect(reply.error?.code).toBe('CARD_MISMATCH');
  });

  it('a revoked signing certificate (the person moved): SIGNING_REVOKED, saying why', async () => {
    const { reply } = await answerIdentity(identityCard(people.moved), {
      params: { scope: 'openid address' },
    });
    expect(reply.error?.code).toBe('SIGNING_REVOKED');
    expect(reply.error?.message).toMatch(/name or address changes/);
  });

  it('an unknown revocation status of the signing certificate: refused unless identity.allowUnknownRevocation (not the login’s setting)', async () => {
    // No signing CRL: the signing certificate's status is unknown, the user-auth one's good.
    const loginOnly = await startIdentityOp({
      table: await newTable(),
      clients: CLIENTS,
      signingCrl: 'none',
      allowUnknownRevocation: { login: true },
    });
    const identityToo = await startIdentityOp({
      table: await newTable(),
      clients: CLIENTS,
      signingCrl: 'none',
      allowUnknownRevocation: { identity: true },
    });
    try {
      const refused = await answerIdentity(aliceIdentity, { server: loginOnly });
      expect(refused.reply.error?.code).toBe('SIGNING_REVOCATION_UNKNOWN');
      const accepted = await answerIdentity(aliceIdentity, { server: identityToo });
      expect(accepted.reply.redirectTo).toMatch(/^\/interaction\/[^/]+$/);
    } finally {
      await loginOnly.close();
      await identityToo.close();
    }
  });

  it('the answers of one identity step are limited as the login’s: then TOO_MANY_ATTEMPTS', async () => {
    const browser = new TestBrowser();
    const bank = await rpOf(BANK);
    const { page } = await identityPage(browser, bank, { scope: 'openid name' });
    let nonce = page.nonce;
    for (let answer = 0; answer < LOGIN_LIMITS.answersPerInteraction; answer += 1) {
      const reply = await postAnswer(
        browser,
        page,
        await aliceIdentity.verifyIdentity('https://evil.example', nonce),
      );
      expect(reply.error?.code).toBe('IDENTITY_SIGNATURE_INVALID');
      nonce = reply.nonce as string;
    }
    const over = await postAnswer(browser, page, await aliceIdentity.verifyIdentity(op.url, nonce));
    expect({ status: over.status, code: over.error?.code }).toEqual({
      status: 429,
      code: 'TOO_MANY_ATTEMPTS',
    });
  });

  it('the answer consumes the challenge: the same answer again is CHALLENGE_UNAVAILABLE', async () => {
    const browser = new TestBrowser();
    const bank = await rpOf(BANK);
    const { page } = await identityPage(browser, bank, { scope: 'openid name' });
    const answer = await aliceIdentity.verifyIdentity(op.url, page.nonce);
    expect((await postAnswer(browser, page, answer)).redirectTo).toBeDefined();
    expect((await postAnswer(browser, page, answer)).error?.code).toBe('CHALLENGE_UNAVAILABLE');
  });

  it('a signature over another origin: IDENTITY_SIGNATURE_INVALID', async () => {
    const { reply } = await answerIdentity(aliceIdentity, { origin: 'https://evil.example' });
    expect(reply.error?.code).toBe('IDENTITY_SIGNATURE_INVALID');
  });

  it('a login answer is refused at the identity step, and an identity answer at the login', async () => {
    const browser = new TestBrowser();
    const bank = await rpOf(BANK);
    const { page } = await identityPage(browser, bank, { scope: 'openid name' });
    const asLogin = await browser.fetchFrom(page.document, page.loginUrl.href.replace(/identity$/, 'login'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(await login.sign(op.url, page.nonce)),
    });
    expect(((await asLogin.json()) as { error: { code: string } }).error.code).toBe('INTERACTION_MISMATCH');
  });

  it('the choice needs a verified answer first, the interaction cookie and the OP’s own origin', async () => {
    const browser = new TestBrowser(undefined, { 'accept-language': 'en' });
    const bank = await rpOf(BANK);
    const { page } = await identityPage(browser, bank, { scope: 'openid name' });
    const confirmUrl = page.loginUrl.href.replace(/identity$/, 'identity-confirm');
    const early = await browser.submitForm(page.document, confirmUrl, {}, () => false);
    expect(await early.response?.text()).toContain('<code>INTERACTION_MISMATCH</code>');
    const consent = await consentPage(browser, bank, page);
    const evil = {
      url: new URL('https://evil.example/form'),
      referrerPolicy: 'strict-origin-when-cross-origin',
    };
    const forged = await browser.submitForm(evil, confirmUrl, { claim: 'name' }, () => false);
    expect(forged.response?.status).toBe(403);
    const otherBrowser = await new TestBrowser().submitForm(consent.document, confirmUrl, {}, () => false);
    expect(await otherBrowser.response?.text()).toContain('INTERACTION_EXPIRED');
  });

  it('"do not share" ends the sign-in with access_denied at the RP', async () => {
    const browser = new TestBrowser();
    const bank = await rpOf(BANK);
    const { page } = await identityPage(browser, bank, { scope: 'openid name' });
    const consent = await consentPage(browser, bank, page);
    const abort = /formaction="([^"]+)"/.exec(consent.html)?.[1] as string;
    expect(abort).toMatch(/\/abort$/);
    const done = await browser.submitForm(consent.document, abort, { claim: 'name' }, atCallback(bank));
    expect(done.url.searchParams.get('error')).toBe('access_denied');
  });
});

describe('remembered identity consent', () => {
  const GENDER_OPTIONAL = { scope: 'openid name', claims: JSON.stringify({ id_token: { gender: null } }) };

  it('a flagged client: the claims agreed to before are released after the card, without the page', async () => {
    const browser = new TestBrowser();
    const club = await rpOf(CLUB);
    const first = await identityPage(browser, club, GENDER_OPTIONAL);
    const consent = await consentPage(browser, club, first.page);
    const firstClaims = await redeem(
      club,
      (await share(browser, club, consent, ['gender'])).url,
      first.checks,
    );
    expect(firstClaims).toMatchObject({ name: people.alice.facts.name, gender: 'male' });
    // Again: a card login and the signing password as always, then straight back to the RP.
    const again = await identityPage(browser, club, GENDER_OPTIONAL);
    const reply = await postAnswer(
      browser,
      again.page,
      await aliceIdentity.verifyIdentity(op.url, again.page.nonce),
    );
    expect(reply.redirectTo).not.toMatch(/^\/interaction\//);
    const back = await browser.navigate(
      new URL(reply.redirectTo as string, again.page.document.url),
      atCallback(club),
      {
        by: 'script',
        document: again.page.document,
      },
    );
    expect(await redeem(club, back.url, again.checks)).toMatchObject({
      name: people.alice.facts.name,
      gender: 'male',
    });
    // A claim not agreed to before: the page again.
    const more = await identityPage(browser, club, { ...GENDER_OPTIONAL, scope: 'openid name birthdate' });
    const asked = await consentPage(browser, club, more.page);
    expect(consentRows(asked.html).map((row) => row.claim)).toEqual(['name', 'birthdate', 'gender']);
  });

  it('skips the page only when it would ask nothing else: not for prompt=consent or a scope the grant lacks', async () => {
    const browser = new TestBrowser(undefined, { 'accept-language': 'en' });
    const library = await rpOf(LIBRARY);
    const first = await identityPage(browser, library, { scope: 'openid name' });
    await share(browser, library, await consentPage(browser, library, first.page), []);
    // The same request again: remembered, straight back to the RP (a third-party client too).
    const same = await identityPage(browser, library, { scope: 'openid name' });
    const reply = await postAnswer(
      browser,
      same.page,
      await aliceIdentity.verifyIdentity(op.url, same.page.nonce),
    );
    expect(reply.redirectTo).not.toMatch(/^\/interaction\//);
    await browser.navigate(new URL(reply.redirectTo as string, same.page.document.url), atCallback(library), {
      by: 'script',
      document: same.page.document,
    });
    const asks = [
      { params: { scope: 'openid name', prompt: 'consent' }, scope: undefined },
      { params: { scope: 'openid name myna_certificate_serial' }, scope: 'scope_myna_certificate_serial' },
      { params: { scope: 'openid name offline_access', prompt: 'consent' }, scope: 'scope_offline_access' },
    ] as const;
    for (const { params, scope } of asks) {
      const { page, checks } = await identityPage(browser, library, params);
      const shown = await consentPage(browser, library, page);
      expect(consentRows(shown.html).map((row) => row.claim)).toEqual(['name']);
      if (scope) expect(shown.html).toContain(escapeHtml(message('en', scope)));
      // The raw-serial scope of this flagged client: the signing serial goes too, a line of its own.
      expect(shown.html.includes('id="disclosure-serial"')).toBe(scope === 'scope_myna_certificate_serial');
      const tokens = await client.authorizationCodeGrant(
        library.config,
        (await share(browser, library, shown, [])).url,
        { ...checks, idTokenExpected: true },
      );
      expect(tokens.claims()?.name).toBe(people.alice.facts.name);
      // What is granted is what this page listed and the person agreed to.
      expect(tokens.scope?.split(' ').sort()).toEqual(params.scope.split(' ').sort());
    }
  });

  it('a disclosure not listed when the person agreed (the client flagged for the evidence since): the page again', async () => {
    const browser = new TestBrowser(undefined, { 'accept-language': 'en' });
    const gallery = await rpOf(GALLERY);
    const params = { scope: 'openid name' };
    const certificateLine = 'id="disclosure-certificate"';
    const first = await identityPage(browser, gallery, params);
    const consent = await consentPage(browser, gallery, first.page);
    expect(consent.html).not.toContain(certificateLine);
    await share(browser, gallery, consent, []);
    expect(await releasedWithoutPage(browser, gallery, params)).not.toHaveProperty('myna_identity_evidence');
    // The operator flags the client: the RP would get (and the OP keep) the whole certificate.
    // Written through the OP's own adapter (oidc-provider's Client.adapter, not in its typings),
    // which drops its cached metadata at once (op/storage-reads.ts).
    const clients = (op.provider.Client as unknown as { readonly adapter: Adapter }).adapter;
    await clients.upsert(GALLERY.client_id, {
      ...GALLERY,
      myna_identity_evidence: true,
      myna_retain_identity_evidence: true,
    });
    const { page, checks } = await identityPage(browser, gallery, params);
    const shown = await consentPage(browser, gallery, page);
    expect(shown.html).toContain(certificateLine);
    expect(shown.html).toContain(
      escapeHtml(fill(message('en', 'identityConsentKept'), { n: IDENTITY_DEFAULTS.evidenceRetentionDays })),
    );
    const claims = await redeem(gallery, (await share(browser, gallery, shown, [])).url, checks);
    expect(claims).toMatchObject({
      name: people.alice.facts.name,
      myna_identity_evidence: expect.any(String),
    });
    // Agreed to with the certificate listed: remembered again.
    expect(await releasedWithoutPage(browser, gallery, params)).toMatchObject({
      myna_identity_evidence: expect.any(String),
    });
  });

  it('a declined claim is asked again, remembered once agreed to; an unflagged client asks every time', async () => {
    const browser = new TestBrowser();
    const club = await rpOf(CLUB);
    const first = await identityPage(browser, club, GENDER_OPTIONAL);
    await share(browser, club, await consentPage(browser, club, first.page), []);
    const again = await identityPage(browser, club, GENDER_OPTIONAL);
    const askedAgain = await consentPage(browser, club, again.page);
    expect(consentRows(askedAgain.html)).toHaveLength(2);
    // Agreed to this time: the earlier "no" is withdrawn, the choice remembered.
    await share(browser, club, askedAgain, ['gender']);
    expect(await releasedWithoutPage(browser, club, GENDER_OPTIONAL)).toMatchObject({ gender: 'male' });
    const bank = await rpOf(BANK);
    for (let round = 0; round < 2; round += 1) {
      const { page } = await identityPage(browser, bank, { scope: 'openid name' });
      const shown = await consentPage(browser, bank, page);
      expect(consentRows(shown.html).map((row) => row.claim)).toEqual(['name']);
      await share(browser, bank, shown, []);
    }
  });
});

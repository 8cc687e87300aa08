/**
 * Identity verification end to end in real Chromium: an RP (openid-client) asks for identity
 * claims, the person signs in with the user-auth PIN and then verifies with the signing password,
 * both typed into the reader-helper's real PIN window (zenity on a private Xvfb, through xdotool;
 * the page never has a field for either), sees exactly what would be shared, unticks what is
 * optional and the RP gets that, validated. Also: a wrong and a blocked signing password, a
 * revoked signing certificate, a signing certificate of another card, another card put in between
 * sign-in and verification, an RP that asks for nothing of the kind (never asked for the
 * password), kanji that a careless encoder breaks. The last test dumps the table and every OP and
 * helper log line after all of these and finds none of the facts, signing certificates or serials.
 * Fails loudly (never skips) without Chromium, Xvfb, zenity or xdotool.
 */
import { randomBytes, verify, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { compactVerify, createRemoteJWKSet } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import type { Page } from 'playwright-core';
import type { DevIdentity } from '../../dev-pki/hierarchy.js';
import { claimLabel } from '../../functions/identity/consent-items.js';
import { fill, message } from '../../functions/op/login-page/messages.js';
import { SIGNING_PIN } from '../../protocol/jpki-profile.js';
import { IDENTITY_SIGNED_DATA_LABEL } from '../../protocol/signed-data.js';
import { cardIdentityOf } from '../../reader-helper/virtual-card/identity.js';
import { VirtualJpkiCard } from '../../reader-helper/virtual-card/virtual-jpki-card.js';
import { useLocalTables } from '../storage/local-table.js';
import { signInWithHelperWindow } from '../support/browser.js';
import { cardWithSpentTries, pinTriesLeft } from '../support/card.js';
import {
  consentRows,
  type IdentityPeople,
  type IdentityWorld,
  identityPeople,
  KANJI_FACTS,
  RpFlow,
  shareOnConsentPage,
  startIdentityWorld,
  verifyIdentityWithHelperWindow,
} from '../support/identity-world.js';
import { leaksIn, personalDataNeedles, tableDump } from '../support/privacy-scan.js';

const en = message.bind(undefined, 'en');

/** A first-party client asking for identity claims (redirect URIs are answered in the browser). */
function identityClient(id: string, name: string, extra: Partial<ClientMetadata> = {}): ClientMetadata {
  return {
    client_id: id,
    client_secret: randomBytes(24).toString('base64url'),
    redirect_uris: [`https://${id}.example/cb`],
    client_name: name,
    myna_first_party: true,
    ...extra,
  };
}

// The facts an RP may ask for are the identity scopes it is registered for.
// A third-party client: the identity consent page is its only consent page.
const BANK = identityClient('bank', 'Example Bank', {
  myna_first_party: false,
  scope: 'openid name birthdate address gender',
  myna_purpose: 'Opening your account (犯収法)',
});
const BAR = identityClient('bar', 'Example Bar', { scope: 'openid birthdate' });
const SHOP = identityClient('shop', 'Example Shop', { scope: 'openid name address gender' });
const FORUM = identityClient('forum', 'Example Forum');
// Keeps its own 犯収法 records (the evidence bundle), and the operator keeps one too (retention).
const BROKER = identityClient('broker', 'Example Broker', {
  scope: 'openid name birthdate',
  myna_identity_evidence: true,
  myna_retain_identity_evidence: true,
});
const CLIENTS = [BANK, BAR, SHOP, FORUM, BROKER];

const newTable = useLocalTables();
let people: IdentityPeople;
let world: IdentityWorld;
let table: Awaited<ReturnType<typeof newTable>>;
/** The people whose cards took part in a flow (the privacy test looks for all of them). */
const used = new Set<DevIdentity>();
/** How many flows released identity claims to an RP (so the privacy test cannot pass on nothing). */
let released = 0;

beforeAll(async () => {
  people = await identityPeople();
  table = await newTable();
  world = await startIdentityWorld({ table, people, clients: CLIENTS });
}, 90_000);

afterAll(async () => {
  await world?.close();
});

/** Puts `person`'s card in the reader. */
function insertCardOf(person: DevIdentity): void {
  used.add(person);
  world.insert(cardIdentityOf(person));
}

/**
 * Starts `client`'s authorization request with `params` in a fresh context (browser language
 * `locale`, default en-US) and signs in with the card in the reader.
 */
async function signedIn(
  metadata: ClientMetadata,
  params: Record<string, string>,
  pin: string,
  locale?: string,
): Promise<RpFlow> {
  const flow = await RpFlow.start(
    await (await world.newContext(locale)).newPage(),
    await world.relyingParty(metadata),
    metadata.redirect_uris?.[0] as string,
    params,
  );
  await signInWithHelperWindow(flow.page, world.helper.person, pin, 20_000);
  return flow;
}

/** Waits until the page's alert says exactly `text`. */
async function alertShows(page: Page, text: string): Promise<void> {
  const alert = page.locator('#alert');
  await alert.filter({ hasText: text }).waitFor({ timeout: 20_000 });
  expect(await alert.textContent()).toBe(text);
}

/**
 * The OP refused the card's answer with `code`: the page says so (the text and the code), shows
 * no consent, and the RP has been sent nothing. Closes the flow.
 */
async function expectRefused(flow: RpFlow, code: 'SIGNING_REVOKED' | 'CARD_MISMATCH'): Promise<void> {
  await alertShows(flow.page, fill(en('withCode'), { message: en(code), code }));
  expect(await consentRows(flow.page, { waitMs: 0 })).toEqual([]);
  expect(flow.callbacks).toEqual([]);
  await flow.close();
}

/** The PIN windows opened from now on, as "purpose:secret". */
function windowsFrom(start: number): string[] {
  return world.pinRequests.slice(start).map((request) => `${request.purpose}:${request.secret}`);
}

/** Everything an RP got: the ID token's claims and userinfo's, merged (sub, iss… left out). */
function identityClaimsOf(result: { idToken: Record<string, unknown>; userinfo: Record<string, unknown> }) {
  const protocolClaims = new Set([
    'iss',
    'sub',
    'aud',
    'exp',
    'iat',
    'auth_time',
    'nonce',
    'acr',
    'amr',
    'azp',
    'at_hash',
    'sid',
    'jti',
  ]);
  const pick = (claims: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(claims).filter(([name]) => !protocolClaims.has(name)));
  return { ...pick(result.userinfo), ...pick(result.idToken) };
}

describe('identity verification with the signing certificate, in Chromium with the helper window', () => {
  it('an RP asking for name and birthdate gets exactly those, after the person saw them and agreed', async () => {
    insertCardOf(people.alice);
    const start = world.pinRequests.length;
    const flow = await signedIn(BANK, { scope: 'openid name birthdate' }, people.alice.userAuthPin);
    await verifyIdentityWithHelperWindow(flow.page, world.helper.person, people.alice.signingPin);
    const rows = await consentRows(flow.page);
    expect(rows).toEqual([
      {
        label: claimLabel('name', 'en'),
        value: people.alice.facts.name,
        required: true,
        checked: true,
        substituted: false,
      },
      {
        label: claimLabel('birthdate', 'en'),
        value: '1990-01-01',
        required: true,
        checked: true,
        substituted: false,
      },
    ]);
    expect(await flow.page.locator('.purpose').textContent()).toBe(
      fill(en('identityConsentPurpose'), {
        rp: BANK.client_name as string,
        purpose: BANK.myna_purpose as string,
      }),
    );
    expect(await flow.page.locator('input[type=password], input[type=text]').count()).toBe(0);
    await shareOnConsentPage(flow.page);
    const result = await flow.redeem();
    released += 1;
    expect(identityClaimsOf(result)).toEqual({ name: people.alice.facts.name, birthdate: '1990-01-01' });
    expect(windowsFrom(start)).toEqual(['sign-in:user-auth-pin', 'verify-identity:signing-password']);
    await flow.close();
  }, 90_000);

  it('an RP asking only for age_over_20 gets true and no date of birth', async () => {
    insertCardOf(people.alice);
    const claims = JSON.stringify({ id_token: { age_over_20: { essential: true } } });
    const flow = await signedIn(BAR, { claims }, people.alice.userAuthPin);
    await verifyIdentityWithHelperWindow(flow.page, world.helper.person, people.alice.signingPin);
    const rows = await consentRows(flow.page);
    expect(rows).toEqual([
      {
        label: claimLabel('age_over_20', 'en'),
        value: 'Yes',
        required: true,
        checked: true,
        substituted: false,
      },
    ]);
    await shareOnConsentPage(flow.page);
    const result = await flow.redeem();
    released += 1;
    expect(identityClaimsOf(result)).toEqual({ age_over_20: true });
    expect(JSON.stringify(result)).not.toContain('1990');
    await flow.close();
  }, 90_000);

  it('an optional claim the person unticks does not reach the RP', async () => {
    insertCardOf(people.alice);
    const claims = JSON.stringify({ id_token: { name: { essential: true }, address: null, gender: null } });
    const flow = await signedIn(SHOP, { claims }, people.alice.userAuthPin);
    await verifyIdentityWithHelperWindow(flow.page, world.helper.person, people.alice.signingPin);
    const rows = await consentRows(flow.page);
    expect(rows.map(({ required }) => required)).toEqual([true, false, false]);
    // The required one cannot be unticked.
    await expect(
      flow.page.getByRole('checkbox', { name: /Name/ }).uncheck({ timeout: 2_000 }),
    ).rejects.toThrow();
    await shareOnConsentPage(flow.page, { untick: [/Address/] });
    const result = await flow.redeem();
    released += 1;
    expect(identityClaimsOf(result)).toEqual({ name: people.alice.facts.name, gender: 'male' });
    await flow.close();
  }, 90_000);

  it('a wrong signing password shows the tries left, spends one try only; the right one then verifies', async () => {
    used.add(people.alice);
    const card = new VirtualJpkiCard(cardIdentityOf(people.alice));
    world.insert(card);
    const flow = await signedIn(BANK, { scope: 'openid name' }, people.alice.userAuthPin);
    await verifyIdentityWithHelperWindow(flow.page, world.helper.person, 'WRONG0PASSWORD');
    await alertShows(
      flow.page,
      fill(en('triesLeft'), { message: en('IDENTITY_PIN_INCORRECT'), n: SIGNING_PIN.maxTries - 1 }),
    );
    // Nothing was retried behind the person's back: the card itself counts one wrong try.
    expect(await pinTriesLeft(card, SIGNING_PIN)).toBe(SIGNING_PIN.maxTries - 1);
    await verifyIdentityWithHelperWindow(flow.page, world.helper.person, people.alice.signingPin, {
      button: 'retry',
    });
    await shareOnConsentPage(flow.page);
    expect(identityClaimsOf(await flow.redeem())).toEqual({ name: people.alice.facts.name });
    released += 1;
    await flow.close();
  }, 90_000);

  it('a blocked signing password: the page says so and no password window ever opens', async () => {
    used.add(people.alice);
    world.insert(await cardWithSpentTries(cardIdentityOf(people.alice), SIGNING_PIN.maxTries, SIGNING_PIN));
    const start = world.pinRequests.length;
    const flow = await signedIn(BANK, { scope: 'openid name' }, people.alice.userAuthPin);
    await flow.page
      .getByRole('button', { name: en('identityStart'), exact: true })
      .click({ timeout: 20_000 });
    await alertShows(flow.page, en('IDENTITY_PIN_BLOCKED'));
    expect(await world.helper.person.noDialogWithin(1_500)).toBe(true);
    expect(windowsFrom(start)).toEqual(['sign-in:user-auth-pin']);
    expect(await flow.page.getByRole('button', { name: en('identityStart'), exact: true }).count()).toBe(0);
    expect(flow.callbacks).toEqual([]);
    await flow.close();
  }, 90_000);

  it.each([
    ['a revoked signing certificate (revoked when the person moved)', 'moved', 'SIGNING_REVOKED'],
    [
      'a signing certificate of another card (the link source says whose it is)',
      'otherCard',
      'CARD_MISMATCH',
    ],
  ] as const)(
    '%s is refused, and the RP gets nothing',
    async (_what, who, code) => {
      insertCardOf(people[who]);
      const flow = await signedIn(BANK, { scope: 'openid name' }, people[who].userAuthPin);
      await verifyIdentityWithHelperWindow(flow.page, world.helper.person, people[who].signingPin);
      await expectRefused(flow, code);
    },
    90_000,
  );

  it('another card put on the reader between sign-in and verification is refused', async () => {
    insertCardOf(people.alice);
    const flow = await signedIn(BANK, { scope: 'openid name' }, people.alice.userAuthPin);
    await flow.page
      .getByRole('button', { name: en('identityStart'), exact: true })
      .waitFor({ timeout: 20_000 });
    insertCardOf(people.bob);
    await verifyIdentityWithHelperWindow(flow.page, world.helper.person, people.bob.signingPin);
    await expectRefused(flow, 'CARD_MISMATCH');
  }, 90_000);

  it('an RP that asks for no identity claim: sign-in only, the password is never asked for', async () => {
    insertCardOf(people.alice);
    const start = world.pinRequests.length;
    const flow = await signedIn(FORUM, { scope: 'openid' }, people.alice.userAuthPin);
    const result = await flow.redeem();
    expect(identityClaimsOf(result)).toEqual({});
    expect(windowsFrom(start)).toEqual(['sign-in:user-auth-pin']);
    expect(await world.helper.person.noDialogWithin(500)).toBe(true);
    await flow.close();
  }, 90_000);

  it('kanji outside everyday use, a surrogate pair and full-width spaces reach the RP exactly', async () => {
    insertCardOf(people.kanji);
    const claims = JSON.stringify({
      id_token: {
        verified_claims: {
          verification: { trust_framework: null },
          claims: { name: null, birthdate: null, address: null, gender: null },
        },
      },
    });
    const flow = await signedIn(BANK, { claims }, people.kanji.userAuthPin);
    await verifyIdentityWithHelperWindow(flow.page, world.helper.person, people.kanji.signingPin);
    const values = (await consentRows(flow.page)).map((row) => row.value);
    expect(values).toEqual([KANJI_FACTS.name, '2000-02-29', KANJI_FACTS.address, 'Female']);
    await shareOnConsentPage(flow.page);
    const { idToken } = await flow.redeem();
    released += 1;
    const verified = idToken.verified_claims as { claims: Record<string, unknown>; verification: object };
    expect(verified.claims).toEqual({
      name: KANJI_FACTS.name,
      birthdate: '2000-02-29',
      gender: 'female',
      address: { formatted: KANJI_FACTS.address, region: '大阪府', locality: '大阪市北区' },
    });
    // IDA's verification element; no certificate serial (the client is not flagged for the raw serial).
    const time = expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(verified.verification).toEqual({
      trust_framework: 'jp_aml',
      time,
      evidence: [
        {
          type: 'electronic_signature',
          signature_type: 'jpki_signing_certificate',
          issuer: 'J-LIS',
          created_at: time,
        },
      ],
    });
    await flow.close();
  }, 90_000);

  it('in Japanese: 「氏名: 個人　太郎」 on the page, the helper window in Japanese too', async () => {
    insertCardOf(people.alice);
    const start = world.pinRequests.length;
    const flow = await signedIn(BANK, { scope: 'openid name' }, people.alice.userAuthPin, 'ja-JP');
    await verifyIdentityWithHelperWindow(flow.page, world.helper.person, people.alice.signingPin, {
      locale: 'ja',
    });
    expect(await consentRows(flow.page, { locale: 'ja' })).toEqual([
      {
        label: claimLabel('name', 'ja'),
        value: people.alice.facts.name,
        required: true,
        checked: true,
        substituted: false,
      },
    ]);
    expect(await flow.page.locator('h1').textContent()).toBe(
      fill(message('ja', 'identityConsentTitle'), { rp: BANK.client_name as string }),
    );
    await shareOnConsentPage(flow.page, { locale: 'ja' });
    expect(identityClaimsOf(await flow.redeem())).toEqual({ name: people.alice.facts.name });
    released += 1;
    expect(world.pinRequests.slice(start).map((request) => request.language)).toEqual(['ja', 'ja']);
    await flow.close();
  }, 90_000);

  it('substitute characters: the page says so, and the RP learns where they stand', async () => {
    insertCardOf(people.substitutes);
    const { facts } = people.substitutes;
    const flow = await signedIn(BANK, { scope: 'openid name address' }, people.substitutes.userAuthPin);
    await verifyIdentityWithHelperWindow(flow.page, world.helper.person, people.substitutes.signingPin);
    const rows = await consentRows(flow.page);
    expect(rows.map(({ value, substituted }) => ({ value, substituted }))).toEqual([
      { value: facts.name, substituted: true },
      { value: facts.address, substituted: true },
    ]);
    await shareOnConsentPage(flow.page);
    const result = await flow.redeem();
    released += 1;
    // 渡辺　花子: 辺 (index 1) stands for the registered 邉; 東京都葛飾区…: 葛 (index 3 of the
    // address, 0 of its municipality).
    expect(identityClaimsOf(result)).toEqual({
      name: facts.name,
      address: { formatted: facts.address, region: '東京都', locality: '葛飾区' },
      myna_substitute_characters: { name: [1], address: { formatted: [3], locality: [0] } },
    });
    await flow.close();
  }, 90_000);

  it('a client keeping records gets an evidence bundle an auditor can check with the OP key and the certificate alone', async () => {
    insertCardOf(people.alice);
    const rp = await world.relyingParty(BROKER);
    const flow = await signedIn(BROKER, { scope: 'openid name birthdate' }, people.alice.userAuthPin);
    await verifyIdentityWithHelperWindow(flow.page, world.helper.person, people.alice.signingPin);
    await shareOnConsentPage(flow.page);
    const { idToken } = await flow.redeem();
    released += 1;
    const jwks = createRemoteJWKSet(new URL(rp.serverMetadata().jwks_uri as string));
    const { payload, protectedHeader } = await compactVerify(idToken.myna_identity_evidence as string, jwks);
    expect(protectedHeader.typ).toBe('myna-identity-evidence+jwt');
    const bundle = JSON.parse(new TextDecoder().decode(payload));
    expect(bundle).toMatchObject({
      iss: world.issuer,
      aud: BROKER.client_id,
      sub: idToken.sub,
      revocation_status: 'good',
      claims: ['name', 'birthdate'],
    });
    // What the card signed, readable, for this OP; the signature verifies under the certificate,
    // and the certificate under the signing CA.
    const signedData = Buffer.from(bundle.signed_data, 'base64url');
    expect(signedData.toString('utf8')).toMatch(
      new RegExp(
        `^${IDENTITY_SIGNED_DATA_LABEL}\n${new URL(world.issuer).origin.replace(/[.]/g, '\\.')}\n[A-Za-z0-9_-]+\n$`,
      ),
    );
    const certificate = new X509Certificate(Buffer.from(bundle.signing_certificate, 'base64url'));
    expect(certificate.raw.equals(Buffer.from(people.alice.signing.der))).toBe(true);
    expect(
      verify('sha256', signedData, certificate.publicKey, Buffer.from(bundle.signature, 'base64url')),
    ).toBe(true);
    expect(certificate.verify(new X509Certificate(Buffer.from(people.pki.signingCa.der)).publicKey)).toBe(
      true,
    );
    // The operator's retained record is named, not shown.
    expect(idToken.myna_identity_evidence_record).toEqual(expect.any(String));
    await flow.close();
  }, 90_000);

  it('"Do not share" on the consent page returns access_denied and nothing else to the RP', async () => {
    insertCardOf(people.alice);
    const flow = await signedIn(BANK, { scope: 'openid name birthdate' }, people.alice.userAuthPin);
    await verifyIdentityWithHelperWindow(flow.page, world.helper.person, people.alice.signingPin);
    await flow.page
      .getByRole('button', { name: en('identityConsentDeny'), exact: true })
      .click({ timeout: 20_000 });
    const callback = await flow.backAtRp();
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('code')).toBeNull();
    await flow.close();
  }, 90_000);

  it('after all these flows, neither the table nor any OP or helper log line holds a fact, a signing certificate or a serial', async () => {
    expect(released).toBeGreaterThanOrEqual(5);
    const dump = await tableDump(table);
    expect(dump.items).toBeGreaterThan(0);
    const logs = [...world.opLog.lines.map((line) => JSON.stringify(line)), ...world.helperLog].join('\n');
    // One audit line per released verification: the interaction, the client, the claim names.
    const audit = world.opLog.lines.filter((line) => line.event === 'identity.verified');
    expect(audit).toHaveLength(released);
    for (const { fields } of audit) {
      expect(Object.keys(fields ?? {}).sort()).toEqual(['claims', 'client', 'interaction']);
      expect(
        (fields as { claims: string[] }).claims.every((claim) =>
          /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)?$/.test(claim),
        ),
      ).toBe(true);
    }
    expect(world.helperLog.length).toBeGreaterThan(0);
    const needles = [...used].flatMap(personalDataNeedles);
    // The scan finds each kind of thing it looks for, planted in the dump as a careless program would write it.
    const { alice } = people;
    const pem = Buffer.from(alice.signing.der).toString('base64').replace(/.{64}/g, '$&\n');
    for (const planted of [
      JSON.stringify({ family: alice.facts.name.split('　')[0] }),
      '{"born":"1990年1月1日"}',
      `-----BEGIN CERTIFICATE-----\n${pem}\n-----END CERTIFICATE-----`,
      `serial=${BigInt(`0x${alice.signing.serialHex}`).toString(10)}`,
      `user-auth serial ${alice.userAuth.serialHex.toUpperCase()}`,
    ]) {
      expect(leaksIn(`${dump.text}\n${planted}`, needles)).not.toEqual([]);
    }
    expect(leaksIn(dump.text, needles)).toEqual([]);
    expect(leaksIn(logs, needles)).toEqual([]);
  }, 60_000);
});

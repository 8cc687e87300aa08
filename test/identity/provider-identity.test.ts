/**
 * Identity verification through the provider, as an RP (openid-client) and a browser see it: the
 * card login, the identity step (the card signs with its signing key), the claim-by-claim consent,
 * then the ID token and userinfo — which carry exactly the release, for that transaction only —
 * and a table and a log that hold none of the facts, the signing certificate or either serial.
 * The OP is the identity tests' (test/op/identity-op.ts: signing CA, empty CRLs, link file).
 */
import { createVerify, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import * as client from 'openid-client';
import {
  createDevIdentity,
  DEV_FACT_VARIANTS,
  type DevIdentity,
  type DevPki,
} from '../../dev-pki/hierarchy.js';
import type { DevCa } from '../../dev-pki/issue.js';
import { adapterFor } from '../../functions/op/adapter.js';
import type { OpServer } from '../../functions/op/local-server.js';
import { generateSecrets } from '../../functions/secrets/local-secrets.js';
import type { OpSecrets } from '../../functions/secrets/op-secrets.js';
import { IDENTITY_EVIDENCE_MODEL, IdentityEvidenceStore } from '../../functions/storage/identity-evidence.js';
import { createDynamoAdapter } from '../../functions/storage/oidc-adapter.js';
import { ReleaseHistory } from '../../functions/storage/release-history.js';
import { cardIdentityOf } from '../../reader-helper/virtual-card/identity.js';
import { startIdentityOp } from '../op/identity-op.js';
import { scanAll, type TestTable, useLocalTables } from '../storage/local-table.js';
import { devPki } from '../support/dev-pki.js';
import {
  authorizationRequest,
  formAction,
  loginPageOf,
  postAnswer,
  relyingParty,
  TestBrowser,
  VirtualCardSigner,
} from '../support/oidc-flow.js';
import { memoryLogger } from '../support/op-stack.js';

const newTable = useLocalTables();

const SHOP = {
  client_id: 'rp-shop',
  client_secret: 'rp-shop-secret-0123456789abcdef0123456',
  redirect_uris: ['https://shop.example/cb'],
  client_name: 'Shop',
  myna_purpose: 'Opening your account',
} satisfies ClientMetadata;
const BANK = {
  client_id: 'rp-bank',
  client_secret: 'rp-bank-secret-0123456789abcdef0123456',
  redirect_uris: ['https://bank.example/cb'],
  client_name: 'Bank',
  myna_first_party: true,
  myna_identity_evidence: true,
  myna_retain_identity_evidence: true,
} satisfies ClientMetadata;

let pki: DevPki;
let alice: DevIdentity;
/** A card whose name and address hold substitute characters, born 29 February 2000. */
let kanji: DevIdentity;
let table: TestTable;
let op: OpServer;
let secrets: OpSecrets;
const log = memoryLogger();
/** Everyone whose card signed in here (the last test looks for their facts). */
const signedIn = new Set<DevIdentity>();

beforeAll(async () => {
  pki = await devPki();
  alice = pki.identities.find((identity) => identity.label === 'alice') as DevIdentity;
  kanji = await createDevIdentity({
    label: 'kanji',
    userAuthCa: pki.userAuthCas[0] as DevCa,
    signingCa: pki.signingCa,
    now: new Date(),
    facts: DEV_FACT_VARIANTS.substitutes,
  });
  table = await newTable();
  secrets = await generateSecrets();
  op = await startIdentityOp({ table, clients: [SHOP, BANK], logger: log, secrets, moreCards: [kanji] });
});

afterAll(async () => {
  await op?.close();
});

/** The facts of alice's signing certificate as the development PKI wrote them. */
const facts = () => ({
  name: alice.facts.name,
  birthdate: `${alice.facts.birthDate.slice(1, 5)}-${alice.facts.birthDate.slice(5, 7)}-${alice.facts.birthDate.slice(7, 9)}`,
  address: alice.facts.address,
});

/**
 * One sign-in of `metadata` asking `params`: the card login, the identity step, the consent with
 * `claims` ticked among the optional ones (all kept when undefined); the code redeemed.
 */
async function identitySignIn(
  metadata: ClientMetadata,
  params: Record<string, string>,
  claims?: string[],
  person: DevIdentity = alice,
) {
  const rp = await relyingParty({
    issuer: op.url,
    clientId: metadata.client_id,
    clientSecret: metadata.client_secret as string,
  });
  const redirectUri = metadata.redirect_uris?.[0] as string;
  const { url, checks } = await authorizationRequest(rp, redirectUri, params);
  const browser = new TestBrowser();
  const card = new VirtualCardSigner(cardIdentityOf(person));
  signedIn.add(person);
  const atCallback = (next: URL) => next.href.startsWith(redirectUri);
  try {
    const login = await loginPageOf(await browser.navigate(url, atCallback));
    const loggedIn = await postAnswer(
      browser,
      login,
      await card.sign(login.document.url.origin, login.nonce),
    );
    if (!loggedIn.redirectTo) throw new Error(`login refused: ${JSON.stringify(loggedIn)}`);
    const step = await loginPageOf(
      await browser.navigate(new URL(loggedIn.redirectTo, login.document.url), atCallback, {
        by: 'script',
        document: login.document,
      }),
    );
    expect(step.loginUrl.pathname).toMatch(/\/identity$/);
    const verified = await postAnswer(
      browser,
      step,
      await card.verifyIdentity(step.document.url.origin, step.nonce),
    );
    if (!verified.redirectTo) throw new Error(`identity answer refused: ${JSON.stringify(verified)}`);
    const consent = await browser.navigate(new URL(verified.redirectTo, step.document.url), atCallback, {
      by: 'script',
      document: step.document,
    });
    if (!consent.response || !consent.document) throw new Error('no consent page');
    const html = await consent.response.text();
    const offered = [...html.matchAll(/name="claim" value="([^"]+)"/g)].map((match) => match[1] as string);
    const ticked = claims ?? offered;
    const done = await browser.submitForm(
      consent.document,
      formAction(html, 'identity-confirm'),
      ticked.map((claim) => ['claim', claim] as const),
      atCallback,
    );
    if (done.response)
      throw new Error(`stopped at ${done.url.href}: ${(await done.response.text()).slice(0, 300)}`);
    const tokens = await client.authorizationCodeGrant(rp, done.url, { ...checks, idTokenExpected: true });
    const sub = tokens.claims()?.sub as string;
    const userinfo = await client.fetchUserInfo(rp, tokens.access_token, sub);
    return { rp, tokens, idToken: tokens.claims() as Record<string, unknown>, userinfo, html, sub };
  } finally {
    await card.close();
  }
}

/** The identity claims of an ID token or userinfo: without the protocol claims. */
function identityPart(claims: Record<string, unknown>): Record<string, unknown> {
  const protocol = [
    'iss',
    'sub',
    'aud',
    'exp',
    'iat',
    'nonce',
    'auth_time',
    'acr',
    'amr',
    'at_hash',
    'azp',
    'sid',
  ];
  return Object.fromEntries(Object.entries(claims).filter(([name]) => !protocol.includes(name)));
}

describe('identity verification through the provider', () => {
  it('advertises the identity claims and IDA support in discovery', async () => {
    const discovery = (await (await fetch(`${op.url}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(discovery).toMatchObject({
      claims_parameter_supported: true,
      verified_claims_supported: true,
      trust_frameworks_supported: ['jp_aml'],
      evidence_supported: ['electronic_signature'],
    });
    expect(discovery.scopes_supported).toEqual(
      expect.arrayContaining(['name', 'address', 'birthdate', 'gender']),
    );
    expect(discovery.claims_supported).toEqual(
      expect.arrayContaining(['name', 'address', 'birthdate', 'gender', 'age_over_20', 'verified_claims']),
    );
    expect(discovery.claims_in_verified_claims_supported).toEqual(
      expect.arrayContaining(['name', 'address', 'birthdate', 'gender', 'age_over_18']),
    );
  });

  it('gives an RP asking `name birthdate` those two in the ID token and userinfo, nothing else', async () => {
    const { idToken, userinfo, html } = await identitySignIn(SHOP, { scope: 'openid name birthdate' });
    expect(html).toContain(facts().name);
    expect(html).toContain('Opening your account');
    const expected = { name: facts().name, birthdate: facts().birthdate };
    expect(identityPart(idToken)).toEqual(expected);
    expect(identityPart(userinfo)).toEqual(expected);
  });

  it('answers age_over_20 alone with true and no birth date anywhere', async () => {
    const { idToken, userinfo } = await identitySignIn(SHOP, {
      scope: 'openid',
      claims: JSON.stringify({ id_token: { age_over_20: { essential: true } } }),
    });
    expect(identityPart(idToken)).toEqual({ age_over_20: true });
    expect(identityPart(userinfo)).toEqual({});
    expect(JSON.stringify(idToken)).not.toContain(facts().birthdate);
  });

  it('leaves out an optional claim the user unticked; verified claims only in userinfo, and only for that access token', async () => {
    const { rp, tokens, idToken, userinfo, sub } = await identitySignIn(
      SHOP,
      {
        scope: 'openid offline_access',
        prompt: 'consent',
        claims: JSON.stringify({
          userinfo: {
            verified_claims: {
              verification: { trust_framework: { value: 'jp_aml' } },
              claims: { name: { essential: true }, gender: null, address: { locality: null } },
            },
          },
        }),
      },
      ['address.locality'],
    );
    expect(identityPart(idToken)).toEqual({});
    const verified = userinfo.verified_claims as { verification: Record<string, unknown>; claims: object };
    expect(verified.claims).toEqual({ name: facts().name, address: { locality: '千代田区' } });
    expect(verified.verification).toMatchObject({
      trust_framework: 'jp_aml',
      evidence: [{ type: 'electronic_signature', issuer: 'J-LIS' }],
    });
    expect(JSON.stringify(verified.verification)).not.toContain(alice.signing.serialHex);
    // A refreshed access token is another transaction's: no identity claims.
    const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token as string);
    expect(identityPart(await client.fetchUserInfo(rp, refreshed.access_token, sub))).toEqual({});
    expect(identityPart(refreshed.claims() ?? {})).toEqual({});
    const items = await scanAll(table);
    // The userinfo claims parked for the access token carry its grant: revoked with it.
    const parked = items.filter((item) => JSON.stringify(item.payload ?? {}).includes('sealedUserinfo'));
    expect(parked.length).toBeGreaterThan(0);
    for (const item of parked)
      expect((item.payload as { grantId?: unknown }).grantId).toEqual(expect.any(String));
    // The release history names the facts as released, never the claims parameter's vocabulary.
    const [entry] = items
      .filter((item) => String(item.pk).startsWith('ReleaseHistory#') && item.clientId === SHOP.client_id)
      .sort((a, b) => String(b.at).localeCompare(String(a.at)));
    expect(entry).toMatchObject({
      scopes: ['openid', 'offline_access'],
      claims: ['acr', 'amr', 'auth_time', 'sub'],
      identityClaims: ['name', 'address.locality'],
    });
  });

  it('gives a flagged RP the evidence bundle signed by the OP and the id of the retained record', async () => {
    const { idToken } = await identitySignIn(BANK, { scope: 'openid name address' });
    expect(identityPart(idToken)).toMatchObject({
      name: facts().name,
      address: { formatted: facts().address },
    });
    const bundle = idToken.myna_identity_evidence as string;
    expect(decodeProtectedHeader(bundle)).toMatchObject({ typ: 'myna-identity-evidence+jwt' });
    const jwks = createLocalJWKSet((await (await fetch(`${op.url}/jwks`)).json()) as JSONWebKeySet);
    const { payload } = await compactVerify(bundle, jwks);
    const evidence = JSON.parse(new TextDecoder().decode(payload));
    expect(evidence).toMatchObject({
      iss: op.url,
      aud: BANK.client_id,
      sub: idToken.sub,
      signing_certificate: Buffer.from(alice.signing.der).toString('base64url'),
      revocation_status: 'good',
      claims: ['name', 'address'],
    });
    expect(new TextDecoder().decode(Buffer.from(evidence.signed_data, 'base64url'))).toContain(
      `myna-oidc identity verification v1\n${op.url}\n`,
    );
    // What an auditor checks with the bundle alone: the card's signature over the signed data.
    const signing = new X509Certificate(Buffer.from(evidence.signing_certificate, 'base64url'));
    const verifier = createVerify('sha256').update(Buffer.from(evidence.signed_data, 'base64url'));
    expect(verifier.verify(signing.publicKey, Buffer.from(evidence.signature, 'base64url'))).toBe(true);
    // The OP's retained record holds the same bundle, opened only with the OP's secret.
    const store = new IdentityEvidenceStore(
      secrets.certificateKeySecret,
      adapterFor(createDynamoAdapter(table), IDENTITY_EVIDENCE_MODEL),
    );
    const record = await store.find(idToken.myna_identity_evidence_record as string);
    expect(record).toMatchObject({ clientId: BANK.client_id, bundle });
    // The account's release history links the record (id and dates, never its content).
    const link = (await scanAll(table)).find((item) => item.recordId === record?.recordId);
    const accountId = String(link?.pk).slice('ReleaseHistory#'.length);
    expect((await new ReleaseHistory(table).read(accountId)).evidence).toContainEqual({
      accountId,
      clientId: BANK.client_id,
      recordId: record?.recordId,
      createdAt: record?.createdAt,
      keptUntil: record?.expiresAt,
    });
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        event: 'identity.verified',
        fields: expect.objectContaining({ client: BANK.client_id, claims: ['name', 'address'] }),
      }),
    );
  });

  it('round-trips kanji and substitute characters exactly, saying where the substitutes stand', async () => {
    const { idToken } = await identitySignIn(
      SHOP,
      { scope: 'openid name address birthdate' },
      undefined,
      kanji,
    );
    expect(identityPart(idToken)).toEqual({
      name: '渡辺　花子',
      address: { formatted: '東京都葛飾区立石五丁目13番1号', region: '東京都', locality: '葛飾区' },
      birthdate: '2000-02-29',
      myna_substitute_characters: { name: [1], address: { formatted: [3], locality: [0] } },
    });
  });

  it('leaves none of the facts, the signing certificate or a serial in the table or the log', async () => {
    const items = JSON.stringify(await scanAll(table));
    const lines = JSON.stringify(log.lines);
    expect(signedIn.size).toBe(2);
    expect(items.length).toBeGreaterThan(1000);
    for (const person of signedIn) {
      const signingCertificate = Buffer.from(person.signing.der);
      const { name, birthDate, address } = person.facts;
      const secrets = [
        name,
        ...name.split(/[\s　]/),
        `${birthDate.slice(1, 5)}-${birthDate.slice(5, 7)}-${birthDate.slice(7, 9)}`,
        birthDate.slice(1),
        address,
        address.slice(3, 9),
        person.signing.serialHex,
        person.userAuth.serialHex,
        signingCertificate.toString('base64url').slice(100, 160),
        signingCertificate.toString('base64').slice(100, 160),
        signingCertificate.toString('hex').slice(200, 280),
      ];
      for (const secret of secrets) {
        expect(items).not.toContain(secret);
        expect(lines).not.toContain(secret);
      }
    }
  });
});

/**
 * The account services (accounts/account-services.ts) on a running OP with dynalite, the virtual
 * card and openid-client RPs over real HTTP: the overview matches what each RP received (its
 * `sub`'s fingerprint, scopes, times); withdraw queues a back-channel logout on the durable queue,
 * the RP's endpoint receives a logout token it verifies against the OP's JWKS, its refresh token
 * stops working and its next sign-in asks for consent again; sign-out everywhere ends every
 * session; the export is the overview; the erasure leaves no item naming the account.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import { AccountRecords } from '../../functions/accounts/account-records.js';
import type { AccountServices } from '../../functions/accounts/account-services.js';
import { ACCOUNT_EXPORT_FORMAT, ACCOUNT_EXPORT_VERSION } from '../../functions/accounts/account-services.js';
import { NO_PREDECESSORS } from '../../functions/accounts/account-store.js';
import { DynamoAccountStore } from '../../functions/accounts/dynamo-account-store.js';
import { accountServicesFor } from '../../functions/accounts/op-account-services.js';
import { parseCertificate, serialHex } from '../../functions/jpki/certificate.js';
import { type OpConfig, resolveOpConfig } from '../../functions/op/config.js';
import { type OpServer, startOpServer } from '../../functions/op/local-server.js';
import { AccountArtifacts } from '../../functions/storage/account-artifacts.js';
import { ReleaseHistory } from '../../functions/storage/release-history.js';
import { pseudonymFingerprint } from '../../functions/subject/pseudonym-fingerprint.js';
import { accountTestClients, BackchannelEndpoint, itemsNaming } from '../op/account-world.js';
import { scanAll, type TestTable, useLocalTables } from '../storage/local-table.js';
import { aliceCard } from '../support/card.js';
import {
  authorizationRequest,
  relyingParty,
  rpLogin,
  signIn,
  TestBrowser,
  VirtualCardSigner,
} from '../support/oidc-flow.js';
import { testOpConfig } from '../support/op-stack.js';

const newTable = useLocalTables();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type ClientName = 'news' | 'shop' | 'plain' | 'forum';

/** An OP with the account tests' clients, its account services, a browser and alice's card. */
async function world() {
  const table: TestTable = await newTable();
  const backchannel = new BackchannelEndpoint();
  await backchannel.start();
  cleanups.push(() => backchannel.close());
  const clients = accountTestClients(backchannel);
  let config: OpConfig | undefined;
  const op: OpServer = await startOpServer({
    config: async (url) => {
      config = await testOpConfig(url, {
        table,
        clients: Object.values(clients),
        privateRpHosts: ['127.0.0.1'],
      });
      return config;
    },
  });
  cleanups.push(() => op.close());
  const card = new VirtualCardSigner((await aliceCard()).identity);
  cleanups.push(() => card.close());
  const services: AccountServices = accountServicesFor(op.provider, resolveOpConfig(config as OpConfig));
  const rps = {} as Record<ClientName, client.Configuration>;
  for (const name of ['news', 'shop', 'plain', 'forum'] as const) {
    rps[name] = await relyingParty({
      issuer: op.url,
      clientId: clients[name].client_id,
      clientSecret: clients[name].client_secret as string,
    });
  }
  const browser = new TestBrowser();
  const login = (name: ClientName, scope = 'openid') =>
    rpLogin({
      rp: rps[name],
      browser,
      card,
      redirectUri: clients[name].redirect_uris?.[0] as string,
      scope,
      consent: true,
    });
  /** The one account on the table (the card's). */
  const accountId = async () => {
    const accounts = (await scanAll(table)).filter((item) => String(item.pk).startsWith('ACCOUNT#'));
    expect(accounts).toHaveLength(1);
    return String(accounts[0]?.accountId);
  };
  return { table, backchannel, clients, op, card, services, rps, browser, login, accountId };
}

/** Queue items of the durable back-channel logout queue. */
async function queued(table: TestTable) {
  return (await scanAll(table)).filter((item) => item.pk === 'BackchannelLogout');
}

describe('pseudonymFingerprint', () => {
  it('is the first 4 bytes of SHA-256 of the sub, grouped (the documented definition)', () => {
    // SHA-256("abc") = ba7816bf 8f01cfea …
    expect(pseudonymFingerprint('abc')).toBe('ba78-16bf');
    expect(pseudonymFingerprint('abd')).not.toBe('ba78-16bf');
  });
});

describe('AccountServices on a running OP', () => {
  it('overview: every service signed in to, with what it received and the fingerprint of the sub it holds', async () => {
    const w = await world();
    const news = await w.login('news');
    const shop = await w.login('shop');
    const again = await w.login('news');
    const accountId = await w.accountId();
    const overview = await w.services.overview(accountId);
    expect(overview.accountId).toBe(accountId);
    expect(overview.services.map((service) => service.clientId)).toEqual(['rp-news', 'rp-shop']);
    const [newsEntry, shopEntry] = overview.services;
    expect(newsEntry).toMatchObject({
      clientId: 'rp-news',
      name: 'Daily News',
      scopes: ['openid'],
      backchannelLogout: true,
      hasGrant: true,
      sessions: 1,
      identityReleases: [],
      pseudonymFingerprint: pseudonymFingerprint(news.tokens.claims()?.sub as string),
    });
    expect(newsEntry?.claims).toEqual(expect.arrayContaining(['sub', 'acr', 'amr', 'auth_time']));
    // Two sign-ins: first from the first ID token, last from the second one.
    const authTime = (tokens: typeof news.tokens) => Number(tokens.claims()?.iat) * 1000;
    expect(Math.abs((newsEntry?.firstSignInAt?.getTime() ?? 0) - authTime(news.tokens))).toBeLessThan(2000);
    expect(Math.abs((newsEntry?.lastSignInAt?.getTime() ?? 0) - authTime(again.tokens))).toBeLessThan(2000);
    expect(newsEntry?.lastSignInAt?.getTime()).toBeGreaterThan(newsEntry?.firstSignInAt?.getTime() ?? 0);
    expect(shopEntry).toMatchObject({
      clientId: 'rp-shop',
      name: 'Example Shop',
      logoUri: 'https://cdn.shop.example/logo.svg',
      backchannelLogout: false,
      pseudonymFingerprint: pseudonymFingerprint(shop.tokens.claims()?.sub as string),
    });
    // Pairwise: two services, two pseudonyms.
    expect(shopEntry?.pseudonymFingerprint).not.toBe(newsEntry?.pseudonymFingerprint);
    const { identity } = await aliceCard();
    const certificate = parseCertificate(identity.userAuthCertificate);
    expect(overview.certificates).toEqual([
      expect.objectContaining({
        issuedAt: new Date(certificate.notBefore.toISOString().slice(0, 10)),
        issueDateKnown: true,
        status: 'active',
      }),
    ]);
    expect(overview.certificates[0]?.caGeneration).toMatch(/\S/);
    // Nothing of the certificate beyond issue day and generation: no serial, no certificate key.
    expect(JSON.stringify(overview)).not.toContain(serialHex(certificate.serialNumber));
    expect(Object.keys(overview.certificates[0] ?? {})).not.toContain('certificateKey');
  });

  it('overview: identity releases by name and time, a service no longer registered, a revoked certificate', async () => {
    const w = await world();
    await w.login('news');
    const accountId = await w.accountId();
    const history = new ReleaseHistory(w.table);
    const at = new Date(Date.now() - 60_000);
    const released = { accountId, clientId: 'rp-news', at, scopes: ['openid'], claims: ['sub'] };
    await history.record({ ...released, identityClaims: ['birthdate', 'age_over_20'] });
    await history.record({ ...released, clientId: 'rp-gone', at: new Date(at.getTime() - 1000) });
    const [certificate] = (await new AccountRecords(w.table).holdings(accountId)).account?.certificates ?? [];
    const store = new DynamoAccountStore({
      ...w.table,
      secret: new Uint8Array(32),
      predecessors: NO_PREDECESSORS,
    });
    await store.markCertificateRevoked(accountId, certificate?.certificateKey as string, {
      reason: 'keyCompromise',
      revokedAt: new Date(),
    });
    const overview = await w.services.overview(accountId);
    expect(overview.services.map((service) => service.clientId)).toEqual(['rp-news', 'rp-gone']);
    expect(overview.services[0]?.identityReleases).toEqual([{ at, claims: ['birthdate', 'age_over_20'] }]);
    expect(overview.services[0]?.claims).toEqual(expect.arrayContaining(['age_over_20', 'birthdate', 'sub']));
    expect(overview.services[0]?.firstSignInAt).toEqual(at);
    // Not registered any more: shown by its id, without name or pseudonym (its sub cannot be made).
    expect(overview.services[1]).toEqual({
      clientId: 'rp-gone',
      firstSignInAt: new Date(at.getTime() - 1000),
      lastSignInAt: new Date(at.getTime() - 1000),
      scopes: ['openid'],
      claims: ['sub'],
      identityReleases: [],
      backchannelLogout: false,
      sharedIdentifier: false,
      hasGrant: false,
      sessions: 0,
      retainedEvidence: [],
    });
    expect(overview.certificates.map((linked) => linked.status)).toEqual(['revoked']);
  });

  it('overview and export: a public-subject service is flagged as holding the shared identifier, which links the card across an erasure', async () => {
    const w = await world();
    const news = await w.login('news');
    const forum = await w.login('forum');
    const accountId = await w.accountId();
    // The public subject type: the sub is the account id itself, the same for every such service.
    expect(forum.tokens.claims()?.sub).toBe(accountId);
    const overview = await w.services.overview(accountId);
    const entry = (clientId: string) => overview.services.find((service) => service.clientId === clientId);
    expect(entry('rp-forum')).toMatchObject({
      sharedIdentifier: true,
      pseudonymFingerprint: pseudonymFingerprint(forum.tokens.claims()?.sub as string),
    });
    expect(entry('rp-news')).toMatchObject({
      sharedIdentifier: false,
      pseudonymFingerprint: pseudonymFingerprint(news.tokens.claims()?.sub as string),
    });
    const exported = await w.services.exportAccount(accountId);
    expect(exported.services.map((service) => [service.clientId, service.sharedIdentifier])).toEqual(
      overview.services.map((service) => [service.clientId, service.sharedIdentifier]),
    );
    expect(exported.services.find((service) => service.clientId === 'rp-forum')?.sharedIdentifier).toBe(true);
    // Why the page says so: after an erasure the card's new account id (the forum's new sub) still
    // starts with the same certificate key, while the pairwise service's new sub is unrelated.
    await w.services.eraseAccount(accountId);
    const forumAgain = await w.login('forum');
    const newsAgain = await w.login('news');
    const newSub = forumAgain.tokens.claims()?.sub as string;
    expect(newSub).not.toBe(accountId);
    expect(newSub.split('.')[0]).toBe(accountId.split('.')[0]);
    expect(newsAgain.tokens.claims()?.sub).not.toBe(news.tokens.claims()?.sub);
  });

  it('withdraw: the RP gets a verified back-channel logout from the durable queue, its refresh token fails, its next sign-in asks consent', async () => {
    const w = await world();
    const news = await w.login('news');
    await w.login('shop');
    await w.login('plain');
    const refreshToken = news.tokens.refresh_token as string;
    expect(refreshToken).toBeTruthy();
    // The refresh token works before.
    const refreshed = await client.refreshTokenGrant(w.rps.news, refreshToken);
    const accountId = await w.accountId();

    const result = await w.services.withdraw(accountId, 'rp-news');
    expect(result).toEqual({ clientId: 'rp-news', grants: 1, sessions: 1, logoutQueued: true });
    // The queue's item (delivered at once, one attempt) names the sub the RP knows, no account.
    const items = await queued(w.table);
    expect(items).toEqual([
      expect.objectContaining({
        clientId: 'rp-news',
        state: 'delivered',
        sub: news.tokens.claims()?.sub,
        sid: news.tokens.claims()?.sid,
      }),
    ]);
    expect(JSON.stringify(items)).not.toContain(accountId);
    const tokens = await w.backchannel.verifiedFor('rp-news', w.op.url);
    expect(tokens).toHaveLength(1);
    expect(tokens[0]).toMatchObject({ sub: news.tokens.claims()?.sub, sid: news.tokens.claims()?.sid });

    // Both refresh tokens (the first was rotated or not) stop working.
    for (const token of [refreshToken, refreshed.refresh_token ?? refreshToken]) {
      await expect(client.refreshTokenGrant(w.rps.news, token)).rejects.toMatchObject({
        error: 'invalid_grant',
      });
    }
    // Withdrawn again: nothing left, nothing sent.
    expect(await w.services.withdraw(accountId, 'rp-news')).toEqual({
      clientId: 'rp-news',
      grants: 0,
      sessions: 0,
      logoutQueued: false,
    });
    expect(await queued(w.table)).toHaveLength(1);
    // The other services keep their grants and sessions.
    const overview = await w.services.overview(accountId);
    expect(overview.services.map((s) => [s.clientId, s.hasGrant, s.sessions])).toEqual([
      ['rp-plain', true, 1],
      ['rp-shop', true, 1],
      ['rp-news', false, 0],
    ]);

    // A third-party service withdrawn: its next sign-in (same browser, OP session) stops at consent.
    await w.services.withdraw(accountId, 'rp-shop');
    const { url } = await authorizationRequest(w.rps.shop, w.clients.shop.redirect_uris?.[0] as string);
    const stopped = await signIn({
      browser: w.browser,
      authorizationUrl: url,
      redirectUri: w.clients.shop.redirect_uris?.[0] as string,
      card: w.card,
      consent: false,
    });
    expect(stopped.callback).toBeUndefined();
    expect(stopped.page?.html).toContain('/confirm"');
  });

  it('signOutEverywhere: ends every session (session-bound refresh tokens fail) and notifies every service', async () => {
    const w = await world();
    const news = await w.login('news');
    await w.login('plain');
    const accountId = await w.accountId();
    expect(await w.services.signOutEverywhere(accountId)).toEqual({ sessions: 1, logoutsQueued: 1 });
    const sessions = (await new AccountArtifacts(w.table).find(accountId)).sessions;
    expect(sessions).toEqual([]);
    const tokens = await w.backchannel.verifiedFor('rp-news', w.op.url);
    expect(tokens).toEqual([
      expect.objectContaining({ sub: news.tokens.claims()?.sub, sid: news.tokens.claims()?.sid }),
    ]);
    await expect(
      client.refreshTokenGrant(w.rps.news, news.tokens.refresh_token as string),
    ).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    // The grants stay (a new sign-in needs a card signature, not a new consent).
    const overview = await w.services.overview(accountId);
    expect(overview.services.map((s) => [s.clientId, s.hasGrant, s.sessions])).toEqual([
      ['rp-plain', true, 0],
      ['rp-news', true, 0],
    ]);
  });

  it('exportAccount: a versioned document whose services and certificates are the overview', async () => {
    const w = await world();
    await w.login('news');
    await w.login('shop');
    const accountId = await w.accountId();
    const overview = await w.services.overview(accountId);
    const exported = await w.services.exportAccount(accountId);
    expect(exported.format).toBe(ACCOUNT_EXPORT_FORMAT);
    expect(exported.version).toBe(ACCOUNT_EXPORT_VERSION);
    expect(exported.accountId).toBe(accountId);
    expect(exported.services).toEqual(JSON.parse(JSON.stringify(overview.services)));
    expect(exported.certificates).toEqual(JSON.parse(JSON.stringify(overview.certificates)));
    expect(exported.releaseHistory.map((entry) => entry.clientId)).toEqual(['rp-news', 'rp-shop']);
    expect(exported.grants.map((grant) => grant.clientId).sort()).toEqual(['rp-news', 'rp-shop']);
    expect(exported.sessions).toEqual([expect.objectContaining({ clients: ['rp-news', 'rp-shop'] })]);
    expect(exported.account?.certificates).toHaveLength(1);
    expect(exported.retainedEvidence).toEqual([]);
    expect(exported.revocationAudits).toEqual([]);
    const { identity } = await aliceCard();
    const certificate = parseCertificate(identity.userAuthCertificate);
    expect(JSON.stringify(exported)).not.toContain(serialHex(certificate.serialNumber));
  });

  it('eraseAccount: notifies the services, then a dump of the table finds nothing of the account', async () => {
    const w = await world();
    const news = await w.login('news');
    await w.login('shop');
    await w.login('plain');
    const accountId = await w.accountId();
    const before = await scanAll(w.table);
    const account = before.find(
      (item) => String(item.pk).startsWith('ACCOUNT#') && item.accountId === accountId,
    ) as {
      certificates: Record<string, unknown>;
    };
    const certificateKeys = Object.keys(account.certificates);
    // Every id of the account's grants, sessions (and their uids) and tokens, from the dump itself.
    const ids = before
      .filter((item) => JSON.stringify(item).includes(accountId))
      .flatMap((item) => {
        const payload = (item.payload ?? {}) as Record<string, unknown>;
        return [payload.jti, payload.uid, payload.grantId].filter(
          (id): id is string => typeof id === 'string',
        );
      });
    expect(ids.length).toBeGreaterThan(5);
    expect(before.some((item) => String(item.pk).startsWith('ReleaseHistory#'))).toBe(true);

    const erased = await w.services.eraseAccount(accountId);
    expect(erased).toMatchObject({
      found: true,
      certificates: 1,
      grants: 3,
      sessions: 1,
      releases: 3,
      logoutsQueued: 1,
    });
    const tokens = await w.backchannel.verifiedFor('rp-news', w.op.url);
    expect(tokens).toEqual([expect.objectContaining({ sub: news.tokens.claims()?.sub })]);

    expect(await itemsNaming(w.table, [accountId, ...certificateKeys, ...ids])).toEqual([]);
    const after = await scanAll(w.table);
    expect(
      after.filter((item) =>
        /^(ReleaseHistory|ACCOUNT|CERT|AccountRef|Grant|Session|RefreshToken|AccessToken)#/.test(
          String(item.pk),
        ),
      ),
    ).toEqual([]);
    // The refresh token is gone with its grant.
    await expect(
      client.refreshTokenGrant(w.rps.news, news.tokens.refresh_token as string),
    ).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    expect(await w.services.overview(accountId)).toEqual({ accountId, services: [], certificates: [] });
    // The card's next sign-in makes a new account: the service sees a new pseudonym.
    const fresh = await w.login('news');
    expect(fresh.tokens.claims()?.sub).not.toBe(news.tokens.claims()?.sub);
    expect(await w.accountId()).not.toBe(accountId);
  });
});

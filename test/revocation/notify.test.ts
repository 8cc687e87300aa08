/**
 * The revocation notification job end to end: a local OP (dynalite), logins with a virtual card
 * at two RPs whose backchannel_logout_uri is an HTTP endpoint of this test, a CRL listing the
 * card's certificate imported into the table, then job runs. Checks the logout tokens with jose
 * against the OP's JWKS, the refresh token's death, the audit record, retries of an RP that is
 * down, runs killed half-way, and that a run with nothing new sends nothing.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import * as client from 'openid-client';
import type { DevIdentity, DevPki } from '../../dev-pki/hierarchy.js';
import { issueCrl } from '../../dev-pki/issue.js';
import { X509CrlReason } from '../../dev-pki/x509.js';
import type { OpLogger } from '../../functions/log/logger.js';
import type { OpServer } from '../../functions/op/local-server.js';
import { CrlStore } from '../../functions/revocation/crl-store.js';
import { BACKCHANNEL_LOGOUT_EVENT } from '../../functions/revocation/notification/logout-token.js';
import {
  InProcessLogoutTokenSigner,
  registeredClients,
} from '../../functions/revocation/notification/logout-token-signer.js';
import {
  listRevocationAudit,
  NotifyJob,
  type NotifyJobOptions,
  type NotifyStep,
} from '../../functions/revocation/notification/notify-job.js';
import { generateSecrets } from '../../functions/secrets/local-secrets.js';
import type { OpSecrets } from '../../functions/secrets/op-secrets.js';
import { ClientRegistry } from '../../functions/storage/client-registry.js';
import { type TestTable, useLocalTables } from '../storage/local-table.js';
import { aliceCard } from '../support/card.js';
import { devPki, userAuthAnchors } from '../support/dev-pki.js';
import {
  type BrowserDocument,
  relyingParty,
  rpLogin,
  TestBrowser,
  VirtualCardSigner,
} from '../support/oidc-flow.js';
import { memoryLogger, startTestOp } from '../support/op-stack.js';

const newTable = useLocalTables();

/** The test RP endpoint: records every POST; answers the queued statuses first, then 200. */
class RpEndpoint {
  readonly requests: { path: string; contentType?: string; token: string; status: number }[] = [];
  readonly #statuses = new Map<string, number[]>();
  #server?: Server;
  url = '';

  async start(): Promise<void> {
    this.#server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        const path = request.url ?? '/';
        const status = this.#statuses.get(path)?.shift() ?? 200;
        this.requests.push({
          path,
          contentType: request.headers['content-type'],
          token: new URLSearchParams(body).get('logout_token') ?? '',
          status,
        });
        response.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** The next answers to `path`. */
  answer(path: string, ...statuses: number[]): void {
    this.#statuses.set(path, statuses);
  }

  delivered(path: string) {
    return this.requests.filter((request) => request.path === path && request.status === 200);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server?.close(() => resolve()) ?? resolve());
  }
}

let pki: DevPki;
let alice: DevIdentity;
let card: VirtualCardSigner;
let rpEndpoint: RpEndpoint;
let crlDir: string;

beforeAll(async () => {
  pki = await devPki();
  alice = pki.identities[0] as DevIdentity;
  card = new VirtualCardSigner((await aliceCard()).identity);
  rpEndpoint = new RpEndpoint();
  await rpEndpoint.start();
  crlDir = await mkdtemp(join(tmpdir(), 'myna-notify-'));
});
afterAll(async () => {
  await card?.close();
  await rpEndpoint?.close();
  await rm(crlDir, { recursive: true, force: true });
});

function clients(prefix: string): ClientMetadata[] {
  return ['a', 'b'].map((name) => ({
    client_id: `${prefix}-${name}`,
    client_secret: `${prefix}-${name}-secret-0123456789abcdef0123456789`,
    redirect_uris: [`https://${prefix}-${name}.example/cb`],
    post_logout_redirect_uris: [`https://${prefix}-${name}.example/bye`],
    backchannel_logout_uri: `${rpEndpoint.url}/${prefix}/${name}`,
    myna_first_party: true,
  }));
}

interface Scenario {
  readonly table: TestTable;
  readonly op: OpServer;
  readonly secrets: OpSecrets;
  readonly browser: TestBrowser;
  readonly logins: {
    clientId: string;
    path: string;
    rp: client.Configuration;
    sub: string;
    sid: string;
    idToken: string;
    refreshToken: string;
  }[];
  job(options?: Partial<NotifyJobOptions>): NotifyJob;
  close(): Promise<void>;
}

/**
 * An OP with two back-channel RPs, alice logged in at both (one browser session), and a CRL
 * listing her card's serial imported: her CA's, or `crlCa`'s (another generation, same DN).
 */
async function scenario(
  prefix: string,
  opLogger: OpLogger = memoryLogger(),
  crlCa: DevIdentity['userAuthCa'] = alice.userAuthCa,
): Promise<Scenario> {
  const table = await newTable();
  const secrets = await generateSecrets();
  const registered = clients(prefix);
  const op = await startTestOp({
    table,
    clients: registered,
    secrets,
    logger: opLogger,
    privateRpHosts: ['127.0.0.1'],
  });
  const browser = new TestBrowser();
  const logins = [];
  for (const metadata of registered) {
    const rp = await relyingParty({
      issuer: op.url,
      clientId: metadata.client_id,
      clientSecret: metadata.client_secret as string,
    });
    const { tokens } = await rpLogin({
      rp,
      browser,
      card,
      redirectUri: (metadata.redirect_uris as string[])[0] as string,
    });
    const claims = tokens.claims() as { sub: string; sid?: string };
    expect(claims.sid).toEqual(expect.any(String));
    expect(tokens.refresh_token).toEqual(expect.any(String));
    logins.push({
      clientId: metadata.client_id,
      path: new URL(metadata.backchannel_logout_uri as string).pathname,
      rp,
      sub: claims.sub,
      sid: claims.sid as string,
      idToken: tokens.id_token as string,
      refreshToken: tokens.refresh_token as string,
    });
  }
  // J-LIS lists the card's certificate: import the CRL into the table (as `revocation import` does).
  const now = new Date();
  const path = join(crlDir, `${prefix}.crl`);
  await writeFile(
    path,
    await issueCrl({
      ca: crlCa,
      thisUpdate: new Date(now.getTime() - 60_000),
      nextUpdate: new Date(now.getTime() + 86_400_000),
      crlNumber: 7,
      entries: [{ serialHex: alice.userAuth.serialHex, revokedAt: now, reason: X509CrlReason.keyCompromise }],
    }),
  );
  await new CrlStore(table).importFile(path, {
    anchors: userAuthAnchors(pki),
    secret: secrets.certificateKeySecret,
    now,
  });
  return {
    table,
    op,
    secrets,
    browser,
    logins,
    job: (options = {}) =>
      new NotifyJob({
        ...table,
        issuer: op.url,
        secrets,
        // The signer Lambda shares the job's clock (it checks that iat is now).
        signer: new InProcessLogoutTokenSigner({
          issuer: op.url,
          secrets,
          findClient: registeredClients(new ClientRegistry(table)),
          ...(options.now ? { now: options.now } : {}),
        }),
        logger: memoryLogger(),
        privateRpHosts: ['127.0.0.1'],
        retryDelayMs: 10,
        ...options,
      }),
    close: () => op.close(),
  };
}

/** An onStep hook that throws ("the process is killed") at the n-th occurrence of `step`. */
function killAt(step: NotifyStep, n = 1): NotifyJobOptions['onStep'] {
  let seen = 0;
  return (current) => {
    if (current === step && ++seen === n) throw new Error(`killed after ${step}`);
  };
}

describe('revocation notification job', () => {
  it("leaves alice's account alone when another CA generation's CRL lists her serial", async () => {
    const [older] = pki.userAuthCas;
    expect(alice.userAuthCa).not.toBe(older);
    const s = await scenario('generation', memoryLogger(), older);
    try {
      const summary = await s.job().run();
      expect(summary).toMatchObject({ keysChecked: 1, certificatesRevoked: 0, notificationsQueued: 0 });
      expect(rpEndpoint.requests.filter((request) => request.path.startsWith('/generation/'))).toEqual([]);
      const login = s.logins[0] as Scenario['logins'][number];
      await expect(client.refreshTokenGrant(login.rp, login.refreshToken)).resolves.toMatchObject({
        access_token: expect.any(String),
      });
    } finally {
      await s.close();
    }
  });

  it('sends jose-valid logout tokens to both RPs, kills the refresh tokens, writes an audit record', async () => {
    const s = await scenario('ok');
    try {
      const summary = await s.job().run();
      expect(summary).toMatchObject({
        certificatesRevoked: 1,
        notificationsQueued: 2,
        delivered: 2,
        failed: 0,
      });
      const jwks = createRemoteJWKSet(new URL(s.logins[0]?.rp.serverMetadata().jwks_uri as string));
      for (const login of s.logins) {
        const [request, ...more] = rpEndpoint.delivered(login.path);
        expect(more).toEqual([]);
        expect(request?.contentType).toBe('application/x-www-form-urlencoded');
        const { payload, protectedHeader } = await jwtVerify(request?.token as string, jwks, {
          issuer: s.op.url,
          audience: login.clientId,
          typ: 'logout+jwt',
          maxTokenAge: '2 minutes',
        });
        expect(protectedHeader.alg).toBe('RS256');
        expect(payload.events).toEqual({ [BACKCHANNEL_LOGOUT_EVENT]: {} });
        expect(payload.sub).toBe(login.sub);
        expect(payload.sid).toBe(login.sid);
        expect(payload.jti).toEqual(expect.any(String));
        expect(payload).not.toHaveProperty('nonce');
        // The refresh token of the revoked card stops working.
        const refused = await client.refreshTokenGrant(login.rp, login.refreshToken).catch((error) => error);
        expect(refused).toMatchObject({ error: 'invalid_grant' });
      }
      const [audit, ...others] = await listRevocationAudit(s.table.client, s.table.tableName);
      expect(others).toEqual([]);
      expect(audit).toMatchObject({
        state: 'revoked',
        reason: 'keyCompromise',
        accountId: expect.any(String),
        certificateKey: expect.any(String),
        revokedAt: expect.any(String),
        detectedAt: expect.any(String),
        clients: {
          'ok-a': expect.objectContaining({ state: 'delivered' }),
          'ok-b': expect.objectContaining({ state: 'delivered' }),
        },
      });
      const text = JSON.stringify(audit).toLowerCase();
      const serial = alice.userAuth.serialHex.toLowerCase().replace(/^0+/, '');
      expect(text).not.toContain(serial);
      expect(text).not.toContain(BigInt(`0x${serial}`).toString());

      // Nothing new: a second run sends nothing.
      const before = rpEndpoint.requests.length;
      expect(await s.job().run()).toMatchObject({
        certificatesRevoked: 0,
        notificationsQueued: 0,
        delivered: 0,
      });
      expect(rpEndpoint.requests.length).toBe(before);
    } finally {
      await s.close();
    }
  }, 60_000);

  it('retries an RP that is down on a later run and delivers once, with the same jti', async () => {
    const s = await scenario('down');
    try {
      rpEndpoint.answer('/down/a', 503);
      const first = await s.job({ attemptsPerRun: 1, retryAfterSeconds: 60 }).run();
      expect(first).toMatchObject({ delivered: 1, retrying: 1 });
      expect(rpEndpoint.delivered('/down/a')).toHaveLength(0);
      // Not due yet: nothing is sent.
      expect(await s.job().run()).toMatchObject({ delivered: 0, retrying: 0 });
      const later = new Date(Date.now() + 90_000);
      expect(await s.job({ now: () => later }).run()).toMatchObject({ delivered: 1 });
      const toA = rpEndpoint.requests.filter((request) => request.path === '/down/a');
      expect(toA.map((request) => request.status)).toEqual([503, 200]);
      expect(decodeJwt(toA[0]?.token as string).jti).toBe(decodeJwt(toA[1]?.token as string).jti);
      expect(rpEndpoint.delivered('/down/b')).toHaveLength(1);
      expect(await s.job({ now: () => later }).run()).toMatchObject({ delivered: 0 });
    } finally {
      await s.close();
    }
  }, 60_000);

  it('gives up a delivery, unsent, when maxAttempts was lowered below what it already used', async () => {
    const s = await scenario('lower');
    try {
      rpEndpoint.answer('/lower/a', 503);
      expect(await s.job({ attemptsPerRun: 1 }).run()).toMatchObject({ delivered: 1, retrying: 1 });
      const later = new Date(Date.now() + 90_000);
      const log = memoryLogger();
      expect(await s.job({ now: () => later, maxAttempts: 1, logger: log }).run()).toMatchObject({
        delivered: 0,
        failed: 1,
        failedAttempts: 0,
      });
      expect(rpEndpoint.requests.filter((r) => r.path === '/lower/a').map((r) => r.status)).toEqual([503]);
      expect(log.lines).toContainEqual({
        level: 'warn',
        event: 'backchannel.delivery_abandoned',
        fields: { client_id: 'lower-a', attempts: 1, reason: 'no attempt left of 1' },
      });
    } finally {
      await s.close();
    }
  }, 60_000);

  it('retries within a run with backoff when the RP answers 503 once', async () => {
    const s = await scenario('blip');
    try {
      rpEndpoint.answer('/blip/b', 503);
      expect(await s.job().run()).toMatchObject({ delivered: 2, retrying: 0 });
      expect(rpEndpoint.requests.filter((r) => r.path === '/blip/b').map((r) => r.status)).toEqual([
        503, 200,
      ]);
    } finally {
      await s.close();
    }
  }, 60_000);

  it('finishes a run killed half-way on the next runs without duplicate deliveries', async () => {
    const s = await scenario('kill');
    try {
      // Killed after the work items were queued, before grants were revoked and anything was sent.
      await expect(s.job({ onStep: killAt('queued') }).run()).rejects.toThrow(/killed/);
      expect(rpEndpoint.requests.filter((r) => r.path.startsWith('/kill/'))).toHaveLength(0);
      // Killed right after the first delivery was recorded.
      await expect(s.job({ onStep: killAt('delivered') }).run()).rejects.toThrow(/killed/);
      expect(rpEndpoint.requests.filter((r) => r.path.startsWith('/kill/'))).toHaveLength(1);
      expect(await s.job().run()).toMatchObject({ certificatesRevoked: 0, delivered: 1 });
      expect(await s.job().run()).toMatchObject({ delivered: 0, notificationsQueued: 0 });
      for (const login of s.logins) {
        expect(rpEndpoint.requests.filter((r) => r.path === login.path)).toHaveLength(1);
        const refused = await client.refreshTokenGrant(login.rp, login.refreshToken).catch((error) => error);
        expect(refused).toMatchObject({ error: 'invalid_grant' });
      }
      const [audit] = await listRevocationAudit(s.table.client, s.table.tableName);
      expect(audit).toMatchObject({ state: 'revoked', clients: { 'kill-a': { state: 'delivered' } } });
    } finally {
      await s.close();
    }
  }, 60_000);

  it('refuses RPs on private addresses unless allow-listed; logs every failed attempt, no personal data', async () => {
    const s = await scenario('ssrf');
    try {
      const log = memoryLogger();
      const summary = await s
        .job({ privateRpHosts: [], logger: log, attemptsPerRun: 2, maxAttempts: 2 })
        .run();
      expect(summary).toMatchObject({ certificatesRevoked: 1, delivered: 0, failed: 2, failedAttempts: 4 });
      expect(rpEndpoint.requests.filter((r) => r.path.startsWith('/ssrf/'))).toEqual([]);
      const refused = expect.stringMatching(/^127\.0\.0\.1 is a private or special-use address$/);
      expect(log.lines.filter((line) => line.event === 'backchannel.delivery_failed')).toEqual(
        ['ssrf-a', 'ssrf-a', 'ssrf-b', 'ssrf-b'].map((clientId, index) => ({
          level: 'warn',
          event: 'backchannel.delivery_failed',
          fields: { client_id: clientId, reason: refused, attempt: (index % 2) + 1 },
        })),
      );
      expect(log.lines.filter((line) => line.event === 'backchannel.delivery_abandoned')).toHaveLength(2);
      const text = JSON.stringify(log.lines);
      for (const login of s.logins) {
        expect(text).not.toContain(login.sub);
        expect(text).not.toContain(login.sid);
      }
      const [audit] = await listRevocationAudit(s.table.client, s.table.tableName);
      expect(audit).toMatchObject({
        clients: { 'ssrf-a': { state: 'failed', attempts: 2 }, 'ssrf-b': { state: 'failed', attempts: 2 } },
      });
      // Given up: a later run, even allow-listed, sends nothing.
      const later = new Date(Date.now() + 86_400_000);
      expect(await s.job({ now: () => later }).run()).toMatchObject({ delivered: 0, failed: 0 });
    } finally {
      await s.close();
    }
  }, 60_000);

  it('queues RP-initiated logout deliveries: one attempt at once, the job retries with the same jti', async () => {
    const opLog = memoryLogger();
    const s = await scenario('rpi', opLog);
    try {
      rpEndpoint.answer('/rpi/a', 503);
      const [first, second] = s.logins as [Scenario['logins'][0], Scenario['logins'][0]];
      const bye = 'https://rpi-a.example/bye';
      const question = await s.browser.follow(
        client.buildEndSessionUrl(first.rp, { id_token_hint: first.idToken, post_logout_redirect_uri: bye }),
        () => false,
      );
      const html = (await question.response?.text()) ?? '';
      const confirmed = await s.browser.submitForm(
        question.document as BrowserDocument,
        /action="([^"]+)"/.exec(html)?.[1] as string,
        { xsrf: /name="xsrf" value="([^"]+)"/.exec(html)?.[1] as string, logout: 'yes' },
        (next) => next.href.startsWith(bye),
      );
      expect(confirmed.url.href.startsWith(bye)).toBe(true);
      const sent = () => rpEndpoint.requests.filter((r) => r.path.startsWith('/rpi/'));
      expect(
        sent()
          .map((r) => `${r.path} ${r.status}`)
          .sort(),
      ).toEqual(['/rpi/a 503', '/rpi/b 200']);
      expect(opLog.lines).toContainEqual({
        level: 'warn',
        event: 'backchannel.delivery_failed',
        fields: { client_id: 'rpi-a', reason: 'back-channel logout endpoint answered 503', attempt: 1 },
      });

      // The scheduled job's later run retries the RP that was down, with the same logout token id.
      const later = new Date(Date.now() + 90_000);
      expect(await s.job({ now: () => later }).run()).toMatchObject({ delivered: 1, failedAttempts: 0 });
      const toA = sent().filter((r) => r.path === '/rpi/a');
      expect(toA.map((r) => r.status)).toEqual([503, 200]);
      expect(decodeJwt(toA[0]?.token as string).jti).toBe(decodeJwt(toA[1]?.token as string).jti);
      const jwks = createRemoteJWKSet(new URL(first.rp.serverMetadata().jwks_uri as string));
      for (const [login, request] of [
        [first, toA[1]],
        [second, sent().find((r) => r.path === '/rpi/b')],
      ] as const) {
        const { payload } = await jwtVerify(request?.token as string, jwks, {
          issuer: s.op.url,
          audience: login.clientId,
          typ: 'logout+jwt',
        });
        expect(payload).toMatchObject({
          sub: login.sub,
          sid: login.sid,
          events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
        });
      }
      expect(await s.job({ now: () => later }).run()).toMatchObject({ delivered: 0 });
    } finally {
      await s.close();
    }
  }, 60_000);
});

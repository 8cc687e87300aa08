/**
 * The login limits under attack (issue 13 §1), against a real OP on 127.0.0.1 with dynalite and
 * the scripted browser: forged answers, challenge re-issue loops and interaction floods from one
 * address are refused after their limit with 429, Retry-After and a "wait N s" text, while the
 * relying party is sent nothing; the counters hold no client address. Each test fails on an OP
 * without limits (every request would be answered as before).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import type * as client from 'openid-client';
import { LOGIN_LIMITS } from '../../functions/defaults.js';
import type { OpConfig } from '../../functions/op/config.js';
import { addressBucket } from '../../functions/op/interactions/limits.js';
import { readLambdaEnv } from '../../functions/op/lambda-env.js';
import { loginLimitSettings } from '../../functions/op/limit-settings.js';
import { type OpServer, startOpServer } from '../../functions/op/local-server.js';
import { generateSecrets } from '../../functions/secrets/local-secrets.js';
import { DynamoRateCounter } from '../../functions/storage/rate-counter.js';
import { scanAll, type TestTable, useLocalTables } from '../storage/local-table.js';
import { aliceCard } from '../support/card.js';
import {
  authorizationRequest,
  type BrowserDocument,
  formAction,
  httpTransportFrom,
  loginPageOf,
  postAnswer,
  relyingParty,
  rpLogin,
  TestBrowser,
  VirtualCardSigner,
} from '../support/oidc-flow.js';
import { memoryLogger, TEST_CLIENTS, testOpConfig } from '../support/op-stack.js';

const newTable = useLocalTables();
const A = TEST_CLIENTS.firstParty;
const REDIRECT_URI = A.redirect_uris[0] as string;

let op: OpServer | undefined;
let card: VirtualCardSigner | undefined;
afterEach(async () => {
  await op?.close();
  await card?.close();
  op = undefined;
  card = undefined;
});

async function startOp(table: TestTable, limits?: OpConfig['limits']) {
  const logger = memoryLogger();
  op = await startOpServer({
    config: async (url) => ({ ...(await testOpConfig(url, { table, logger })), limits }),
  });
  const rp = await relyingParty({ issuer: op.url, clientId: A.client_id, clientSecret: A.client_secret });
  return { op, rp, logger };
}

/** A browser on the login page of a new sign-in of `rp`. */
async function atLoginPage(rp: client.Configuration, browser = new TestBrowser()) {
  const { url } = await authorizationRequest(rp, REDIRECT_URI);
  const step = await browser.navigate(url, (next) => next.href.startsWith(REDIRECT_URI));
  return { browser, page: await loginPageOf(step) };
}

describe('card answers per sign-in', () => {
  it('refuses forged answers after the limit: 300 posted, 5 verified, the rest 429 with Retry-After', async () => {
    const { rp } = await startOp(await newTable());
    const { browser, page } = await atLoginPage(rp);
    const { identity } = await aliceCard();
    card = new VirtualCardSigner(identity);
    // A real certificate with a forged signature: each answer that gets through is fully verified.
    const { certificate } = await card.sign(page.document.url.origin, page.nonce);
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof postAnswer>> | undefined;
    for (let i = 0; i < 300; i++) {
      last = await postAnswer(browser, page, {
        certificate,
        signature: randomBytes(256).toString('base64url'),
      });
      statuses.push(last.status);
    }
    const verified = statuses.filter((status) => status === 400).length;
    expect(verified).toBe(LOGIN_LIMITS.answersPerInteraction);
    expect(statuses.slice(0, verified).every((status) => status === 400)).toBe(true);
    expect(statuses.slice(verified).every((status) => status === 429)).toBe(true);
    expect(last?.error?.code).toBe('TOO_MANY_ATTEMPTS');
    expect(last?.nonce).toBeUndefined();
    const seconds = Number(/([0-9]+)/.exec(last?.error?.message ?? '')?.[1]);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(600);
  });

  it('tells the browser how long to wait (Retry-After, ja and en text) and the RP nothing', async () => {
    const { rp, logger } = await startOp(await newTable(), { answersPerInteraction: 1 });
    for (const [language, text] of [
      ['ja', /試行回数が多すぎます。[0-9]+秒待って/],
      ['en', /Too many attempts\. Wait [0-9]+ seconds/],
    ] as const) {
      const { browser, page } = await atLoginPage(
        rp,
        new TestBrowser(undefined, { 'accept-language': language }),
      );
      const forged = { certificate: 'AAAA', signature: 'AAAA' };
      expect((await postAnswer(browser, page, forged)).status).toBe(400);
      const response = await browser.fetchFrom(page.document, page.loginUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(forged),
      });
      expect(response.status).toBe(429);
      const retryAfter = Number(response.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('TOO_MANY_ATTEMPTS');
      expect(body.error.message).toMatch(text);
      expect(body.error.message).toContain(String(retryAfter));
      expect(response.headers.get('location')).toBeNull();
    }
    expect(logger.lines).toContainEqual({
      level: 'info',
      event: 'login.limited',
      fields: { limit: 'answer', retryAfterSeconds: expect.any(Number) },
    });
  });

  it('lets a person who gets it right within the limit sign in', async () => {
    const { rp } = await startOp(await newTable(), { answersPerInteraction: 2 });
    const { identity } = await aliceCard();
    card = new VirtualCardSigner(identity);
    const { tokens } = await rpLogin({ rp, browser: new TestBrowser(), card, redirectUri: REDIRECT_URI });
    expect(tokens.id_token).toBeDefined();
  });
});

describe('a sign-in cancelled at the login prompt', () => {
  it('gives no challenge and verifies no answer after the abort: the counts are not reset', async () => {
    const { rp } = await startOp(await newTable(), { answersPerInteraction: 2 });
    const { browser, page } = await atLoginPage(rp);
    /** Posts a forged answer as the login script does; the error code the OP answered (JSON or page). */
    const forgedAnswer = async () => {
      const response = await browser.fetchFrom(page.document, page.loginUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ certificate: 'AAAA', signature: 'AAAA' }),
      });
      const text = await response.text();
      return response.headers.get('content-type')?.startsWith('application/json')
        ? (JSON.parse(text) as { error?: { code?: string } }).error?.code
        : /<code>([A-Z_]+)<\/code>/.exec(text)?.[1];
    };
    const before = [await forgedAnswer(), await forgedAnswer(), await forgedAnswer()];
    const verified = before[0];
    expect(before).toEqual([verified, verified, 'TOO_MANY_ATTEMPTS']);
    // A script posts the cancel form (oidc-provider saves the result, replacing the item) and never
    // follows the redirect to the RP, then reloads the page and answers again.
    const aborted = await browser.submitForm(
      page.document,
      formAction(page.html, 'abort'),
      {},
      (next) => !next.pathname.includes('/interaction/'),
    );
    expect(aborted.response).toBeUndefined();
    const reloaded = await browser.navigate(page.document.url, () => false);
    expect(await reloaded.response?.text()).not.toContain('data-nonce=');
    const after: (string | undefined)[] = [];
    for (let i = 0; i < 5; i++) after.push(await forgedAnswer());
    expect(after).not.toContain(verified);
    expect(after.every((code) => code !== undefined)).toBe(true);
  });
});

describe('challenges per sign-in', () => {
  /** POSTs for a new challenge as the page's script does; the status. */
  const renew = async (browser: TestBrowser, document: BrowserDocument) => {
    const response = await browser.fetchFrom(document, `${document.url.pathname}/challenge`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: '{}',
    });
    return response;
  };

  it('refuses a challenge re-issue loop (reloads, each renewing its challenge as the script does) after the limit', async () => {
    const { rp } = await startOp(await newTable());
    const { browser, page } = await atLoginPage(rp);
    const statuses: number[] = [];
    for (let i = 0; i < 50; i++) {
      // The page at its URL (with its ticket) always shows the first challenge, for nothing;
      // the script then asks for a new one, since a reloaded page's may have been answered.
      const reloaded = await browser.navigate(page.document.url, () => false);
      expect(reloaded.response?.status).toBe(200);
      const response = await renew(browser, reloaded.document ?? page.document);
      statuses.push(response.status);
      if (response.status === 429) expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // The interaction was stored with its first challenge.
    const issued = 1 + statuses.filter((status) => status === 200).length;
    expect(issued).toBe(LOGIN_LIMITS.challengesPerInteraction);
    expect(statuses.slice(issued - 1).every((status) => status === 429)).toBe(true);
  });

  it('refuses the loop through the page without its ticket (each load a new challenge) after the limit', async () => {
    const { rp } = await startOp(await newTable());
    const { browser, page } = await atLoginPage(rp);
    const bare = new URL(page.document.url.pathname, page.document.url);
    const statuses: number[] = [];
    for (let i = 0; i < 50; i++) {
      const response = await browser.navigate(bare, () => false);
      statuses.push(response.response?.status ?? 0);
      if (response.response?.status === 429) {
        expect(Number(response.response.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(await response.response.text()).toContain('TOO_MANY_ATTEMPTS');
      }
    }
    const issued = 1 + statuses.filter((status) => status === 200).length;
    expect(issued).toBe(LOGIN_LIMITS.challengesPerInteraction);
    expect(statuses.slice(issued - 1).every((status) => status === 429)).toBe(true);
  });
});

describe('authorization requests per client address', () => {
  it('refuses many sign-ins from one address, not from another, and stores no address', async () => {
    const table = await newTable();
    const { rp } = await startOp(table, { interactionsPerAddressPerMinute: 5 });
    const flooding = new TestBrowser(httpTransportFrom({ localAddress: '127.0.0.2' }));
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const { url } = await authorizationRequest(rp, REDIRECT_URI);
      const response = await flooding.request(url);
      statuses.push(response.status);
      if (response.status === 429) {
        // A page for the person at the browser; no redirect, so the RP learns nothing, and none
        // of oidc-provider's cookies for the interaction it stored meanwhile (routes.ts).
        expect(response.headers.get('location')).toBeNull();
        expect(response.headers.get('set-cookie')).toBeNull();
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      }
    }
    expect(statuses.slice(0, 5).every((status) => status === 303)).toBe(true);
    expect(statuses.slice(5).every((status) => status === 429)).toBe(true);
    // Counted alongside its interaction's write only while the address was seen far from its
    // limit: the refused requests stored no interaction.
    const interactions = (await scanAll(table)).filter((item) => String(item.pk).startsWith('Interaction#'));
    expect(interactions).toHaveLength(5);
    // Another address is not affected.
    const { page } = await atLoginPage(rp, new TestBrowser(httpTransportFrom({ localAddress: '127.0.0.3' })));
    expect(page.nonce).toBeTruthy();
    const stored = JSON.stringify(await scanAll(table));
    expect(stored).toContain('RateLimit#address#');
    expect(stored).not.toContain('127.0.0.2');
    expect(stored).not.toContain('127.0.0.3');
  });

  it('refuses a request counted alongside its work once other instances took the address to its limit: no cookie, no redirect', async () => {
    const table = await newTable();
    const secrets = await generateSecrets();
    // Two instances of one OP (one table, one set of secrets), as Lambda runs them.
    const instances: OpServer[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        instances.push(
          await startOpServer({
            config: async (url) => ({
              ...(await testOpConfig(url, { table, secrets })),
              limits: { interactionsPerAddressPerMinute: 3 },
            }),
          }),
        );
      }
      const [first, second] = instances as [OpServer, OpServer];
      const rpOf = (server: OpServer) =>
        relyingParty({ issuer: server.url, clientId: A.client_id, clientSecret: A.client_secret });
      const flooding = new TestBrowser(httpTransportFrom({ localAddress: '127.0.0.5' }));
      const rpFirst = await rpOf(first);
      for (let i = 0; i < 3; i++) {
        const { url } = await authorizationRequest(rpFirst, REDIRECT_URI);
        expect((await flooding.request(url)).status).toBe(303);
      }
      // The second instance has not seen the address: it counts the request while the
      // interaction oidc-provider stored is written, finds it over the limit, and answers only the
      // refusal.
      const { url } = await authorizationRequest(await rpOf(second), REDIRECT_URI);
      const refused = await flooding.request(url);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('set-cookie')).toBeNull();
      expect(refused.headers.get('location')).toBeNull();
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      // What counting alongside costs: that interaction was stored, and is never handed out.
      const interactions = (await scanAll(table)).filter((item) =>
        String(item.pk).startsWith('Interaction#'),
      );
      expect(interactions).toHaveLength(4);
      // The second instance has seen it now: the next request is counted first, stores nothing.
      expect(
        (await flooding.request((await authorizationRequest(await rpOf(second), REDIRECT_URI)).url)).status,
      ).toBe(429);
      const after = (await scanAll(table)).filter((item) => String(item.pk).startsWith('Interaction#'));
      expect(after).toHaveLength(4);
    } finally {
      for (const instance of instances) await instance.close();
    }
  });

  it('counts a browser with an OP session before oidc-provider works: over the limit, no code is issued', async () => {
    const table = await newTable();
    const secrets = await generateSecrets();
    // Two instances of one OP, as Lambda runs them; the browser signs in through the second.
    const instances: OpServer[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        instances.push(
          await startOpServer({
            config: async (url) => ({
              ...(await testOpConfig(url, { table, secrets })),
              limits: { interactionsPerAddressPerMinute: 3 },
            }),
          }),
        );
      }
      const [first, second] = instances as [OpServer, OpServer];
      const rpOf = (server: OpServer) =>
        relyingParty({ issuer: server.url, clientId: A.client_id, clientSecret: A.client_secret });
      const { identity } = await aliceCard();
      card = new VirtualCardSigner(identity);
      const browser = new TestBrowser(httpTransportFrom({ localAddress: '127.0.0.4' }));
      const rpSecond = await rpOf(second);
      await rpLogin({ rp: rpSecond, browser, card, redirectUri: REDIRECT_URI });
      // The address reaches its limit through the first instance; the second last saw it at 1 of 3,
      // so it would count a browser without a session alongside the request's work.
      const rpFirst = await rpOf(first);
      for (let i = 0; i < 2; i++) {
        expect((await browser.request((await authorizationRequest(rpFirst, REDIRECT_URI)).url)).status).toBe(
          303,
        );
      }
      const codes = async () =>
        (await scanAll(table)).filter((item) => String(item.pk).startsWith('AuthorizationCode#')).length;
      const before = await codes();
      // With its OP session this request could issue a code at once: counted first, refused, no code.
      const refused = await browser.request((await authorizationRequest(rpSecond, REDIRECT_URI)).url);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('location')).toBeNull();
      expect(await codes()).toBe(before);
    } finally {
      for (const instance of instances) await instance.close();
    }
  });

  it('never reads X-Forwarded-For (a client cannot choose its address)', async () => {
    const { rp } = await startOp(await newTable(), { interactionsPerAddressPerMinute: 2 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const { url } = await authorizationRequest(rp, REDIRECT_URI);
      // Not a header a browser sets: an attacker's script rotating addresses it claims.
      const browser = new TestBrowser(httpTransportFrom({ localAddress: '127.0.0.4' }), {
        'x-forwarded-for': `198.51.100.${i}`,
      });
      statuses.push((await browser.request(url)).status);
    }
    expect(statuses).toEqual([303, 303, 429, 429]);
  });
});

describe('behind a proxy that names the client (CloudFront with origin verification)', () => {
  it('counts per address in the configured header, without its port', async () => {
    const table = await newTable();
    const logger = memoryLogger();
    op = await startOpServer({
      config: async (url) => ({
        ...(await testOpConfig(url, { table, logger })),
        limits: { interactionsPerAddressPerMinute: 2 },
        clientAddressHeader: 'CloudFront-Viewer-Address',
      }),
    });
    const rp = await relyingParty({ issuer: op.url, clientId: A.client_id, clientSecret: A.client_secret });
    // What CloudFront adds to the requests it forwards (here every request arrives from 127.0.0.1).
    const viewer = (address: string) => new TestBrowser(undefined, { 'cloudfront-viewer-address': address });
    const statusFrom = async (browser: TestBrowser) =>
      (await browser.request((await authorizationRequest(rp, REDIRECT_URI)).url)).status;
    const statuses: number[] = [];
    for (const port of [50001, 50002, 50003]) statuses.push(await statusFrom(viewer(`203.0.113.7:${port}`)));
    expect(statuses).toEqual([303, 303, 429]);
    expect(await statusFrom(viewer('2001:db8::7:443'))).toBe(303);
  });

  it('counts an IPv6 client by its /64 and an IPv4-mapped one as its IPv4 address', async () => {
    const table = await newTable();
    op = await startOpServer({
      config: async (url) => ({
        ...(await testOpConfig(url, { table })),
        limits: { interactionsPerAddressPerMinute: 2 },
        clientAddressHeader: 'CloudFront-Viewer-Address',
      }),
    });
    const rp = await relyingParty({ issuer: op.url, clientId: A.client_id, clientSecret: A.client_secret });
    const statusFrom = async (address: string) =>
      (
        await new TestBrowser(undefined, { 'cloudfront-viewer-address': address }).request(
          (
            await authorizationRequest(rp, REDIRECT_URI)
          ).url,
        )
      ).status;
    // Three addresses of one /64 share its bucket; the next /64 has its own.
    expect(await statusFrom('2001:db8:1:2::a:443')).toBe(303);
    expect(await statusFrom('2001:db8:1:2:ffff:ffff:ffff:ffff:443')).toBe(303);
    expect(await statusFrom('2001:db8:1:2:abcd::1:443')).toBe(429);
    expect(await statusFrom('2001:db8:1:3::a:443')).toBe(303);
    expect(await statusFrom('203.0.113.9:443')).toBe(303);
    expect(await statusFrom('::ffff:203.0.113.9:443')).toBe(303);
    expect(await statusFrom('203.0.113.9:443')).toBe(429);
  });
});

describe('addressBucket', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::FFFF:cb00:7107', '203.0.113.7'],
    ['2001:db8:1:2::a', '2001:db8:1:2::/64'],
    ['2001:DB8:1:2:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['[2001:db8::1]', '2001:db8:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['', ''],
  ])('counts %j as %j', (address, bucket) => {
    expect(addressBucket(address)).toBe(bucket);
  });
});

describe('the rate counter', () => {
  it('counts concurrent hits exactly and starts a new window once the old one is over', async () => {
    const table = await newTable();
    let now = 1_700_000_000_000;
    const counter = new DynamoRateCounter({ ...table, now: () => now });
    const hits = await Promise.all(Array.from({ length: 20 }, () => counter.hit('test', 'k', 60)));
    expect(hits.map((hit) => hit.hits).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    expect(hits.every((hit) => hit.resetsInSeconds === 60)).toBe(true);
    now += 59_000;
    expect(await counter.hit('test', 'k', 60)).toEqual({ hits: 21, resetsInSeconds: 1 });
    now += 1_000;
    expect(await counter.hit('test', 'k', 60)).toEqual({ hits: 1, resetsInSeconds: 60 });
    expect(await counter.hit('test', 'other', 60)).toEqual({ hits: 1, resetsInSeconds: 60 });
  });
});

describe('configuration', () => {
  it('takes each limit from OpConfig.limits or OP_LIMIT_*, and refuses a limit that is not a positive integer', () => {
    expect(loginLimitSettings()).toEqual(LOGIN_LIMITS);
    expect(loginLimitSettings({ answersPerInteraction: 3 })).toEqual({
      ...LOGIN_LIMITS,
      answersPerInteraction: 3,
    });
    expect(() => loginLimitSettings({ challengesPerInteraction: 0 })).toThrow(
      'limits.challengesPerInteraction must be a positive integer',
    );
    const env = {
      OP_ISSUER: 'https://login.example.jp',
      OP_TABLE_NAME: 't',
      OP_SECRET_ID: 's',
      OP_TRUST_ANCHORS_FILE: 'a.pem',
    };
    expect(readLambdaEnv(env).limits).toEqual({});
    expect(
      readLambdaEnv({
        ...env,
        OP_LIMIT_ANSWERS_PER_INTERACTION: '3',
        OP_LIMIT_INTERACTIONS_PER_ADDRESS_PER_MINUTE: '500',
      }).limits,
    ).toEqual({ answersPerInteraction: 3, interactionsPerAddressPerMinute: 500 });
    expect(() => readLambdaEnv({ ...env, OP_LIMIT_CHALLENGES_PER_INTERACTION: 'many' })).toThrow(
      'OP_LIMIT_CHALLENGES_PER_INTERACTION must be an integer',
    );
  });
});

/**
 * Host header attacks on the local server: a request whose Host, X-Forwarded-Host or
 * X-Forwarded-Proto names another origin — or whose request target is in absolute form — must not
 * change any URL the OP builds: discovery's endpoints, the redirects of a whole login, the
 * interaction's return URL. (The Lambda path: test/op/lambda.test.ts.)
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { OpServer } from '../../functions/op/local-server.js';
import { useLocalTables } from '../storage/local-table.js';
import { aliceCard } from '../support/card.js';
import {
  httpTransport,
  relyingParty,
  rpLogin,
  TestBrowser,
  VirtualCardSigner,
} from '../support/oidc-flow.js';
import { startTestOp, TEST_CLIENTS } from '../support/op-stack.js';

const EVIL = 'evil.example';
/** What an attacker (or a confused proxy) sends to make the OP name another host. */
const FORGED = { host: EVIL, 'x-forwarded-host': EVIL, 'x-forwarded-proto': 'https' };

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

/** GET `target` (origin or absolute form) from the OP's socket with `headers`, as sent. */
function rawGet(target: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port: op.port, path: target, headers }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () =>
        resolve({ status: incoming.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      incoming.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** Every string in a JSON value that looks like a URL. */
function urlsIn(value: unknown): string[] {
  if (typeof value === 'string') return /^[a-z]+:\/\//i.test(value) ? [value] : [];
  if (Array.isArray(value)) return value.flatMap(urlsIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(urlsIn);
  return [];
}

describe('discovery names only the issuer, whatever the request says', () => {
  it.each([
    ['forged Host and X-Forwarded-Host/-Proto', '/.well-known/openid-configuration', FORGED],
    ['an absolute-form request target', `http://${EVIL}/.well-known/openid-configuration`, { host: EVIL }],
  ])('%s', async (_name, target, headers) => {
    const answer = await rawGet(target, headers);
    expect(answer.status).toBe(200);
    const urls = urlsIn(JSON.parse(answer.body));
    expect(urls.length).toBeGreaterThanOrEqual(8);
    for (const url of urls) expect(new URL(url).origin).toBe(op.url);
    expect(answer.body).not.toContain(EVIL);
  });
});

describe('a whole login with forged headers on every request', () => {
  it('redirects only to the OP and the RP, and the code is redeemed', async () => {
    const A = TEST_CLIENTS.firstParty;
    const locations: string[] = [];
    const bodies: string[] = [];
    // The attacker's client adds the forged headers to every request it sends to the OP.
    const forging = async (url: string, init: RequestInit) => {
      if (new URL(url).origin !== op.url) throw new Error(`the flow left the OP for ${url}`);
      const headers = new Headers(init.headers);
      for (const [name, value] of Object.entries(FORGED)) headers.set(name, value);
      const response = await httpTransport(url, { ...init, headers });
      const location = response.headers.get('location');
      if (location) locations.push(location);
      const body = await response.clone().text();
      bodies.push(body);
      // The login script's answer names the interaction's return URL (built from the request).
      const redirectTo = /"redirectTo":"([^"]+)"/.exec(body)?.[1];
      if (redirectTo) locations.push(redirectTo);
      return response;
    };
    const rp = await relyingParty({
      issuer: op.url,
      clientId: A.client_id,
      clientSecret: A.client_secret,
      transport: forging,
    });
    const { tokens } = await rpLogin({
      rp,
      browser: new TestBrowser(forging),
      card,
      redirectUri: A.redirect_uris[0] as string,
    });
    expect(tokens.claims()?.iss).toBe(op.url);
    // /auth → interaction, the login's return URL (absolute), resume → the RP's callback.
    expect(locations).toHaveLength(3);
    expect(locations[1]).toMatch(new RegExp(`^${op.url}/auth/`));
    for (const location of locations) {
      expect([op.url, new URL(A.redirect_uris[0] as string).origin]).toContain(
        new URL(location, op.url).origin,
      );
    }
    expect(bodies.join('\n')).not.toContain(EVIL);
  });
});

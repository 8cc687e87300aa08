/**
 * The Lambda handler driven with API Gateway HTTP API v2 events: every request of a full login —
 * discovery, authorization redirect with cookies, login page, card login, token — goes through it.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import { issueCrl } from '../../dev-pki/issue.js';
import { X509CrlReason } from '../../dev-pki/x509.js';
import { parseCertificate } from '../../functions/jpki/certificate.js';
import { createLambdaHandler, revocationSource } from '../../functions/op/lambda.js';
import { readLambdaEnv } from '../../functions/op/lambda-env.js';
import { CrlStore } from '../../functions/revocation/crl-store.js';
import { useLocalTables } from '../storage/local-table.js';
import { aliceCard } from '../support/card.js';
import { devPki, userAuthAnchors } from '../support/dev-pki.js';
import {
  relyingParty,
  rpLogin,
  TestBrowser,
  type Transport,
  VirtualCardSigner,
} from '../support/oidc-flow.js';
import { memoryLogger, TEST_CLIENTS, testOpConfig } from '../support/op-stack.js';

const ISSUER = 'https://login.example.jp';
const newTable = useLocalTables();
let card: VirtualCardSigner;
let handler: Awaited<ReturnType<typeof createLambdaHandler>>;
const events: { rawPath: string; cookies?: string[] }[] = [];

interface V2Result {
  statusCode: number;
  headers?: Record<string, string>;
  cookies?: string[];
  body?: string;
  isBase64Encoded?: boolean;
}

/** A fetch-like transport that turns each request into an API Gateway v2 event for `handler`. */
const lambdaTransport: Transport = async (url, init) => {
  const target = new URL(url);
  const headers: Record<string, string> = { host: target.host, 'x-forwarded-proto': 'https' };
  let cookies: string[] | undefined;
  new Headers(init.headers).forEach((value, name) => {
    if (name === 'cookie') cookies = value.split('; ');
    else headers[name] = value;
  });
  const body = typeof init.body === 'string' ? init.body : init.body ? String(init.body) : undefined;
  const event = {
    version: '2.0',
    routeKey: '$default',
    rawPath: target.pathname,
    rawQueryString: target.search.slice(1),
    ...(cookies ? { cookies } : {}),
    headers,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: target.host,
      domainPrefix: 'login',
      http: {
        method: init.method ?? 'GET',
        path: target.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: '192.0.2.1',
        userAgent: 'test',
      },
      requestId: `req-${events.length}`,
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(body === undefined ? {} : { body, isBase64Encoded: false }),
  };
  events.push(event);
  const result = (await handler(event, {})) as V2Result;
  const responseHeaders = new Headers(result.headers);
  for (const cookie of result.cookies ?? []) responseHeaders.append('set-cookie', cookie);
  const text = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : result.body;
  const empty = [204, 304].includes(result.statusCode) || text === undefined || text === '';
  return new Response(empty ? null : text, { status: result.statusCode, headers: responseHeaders });
};

beforeAll(async () => {
  card = new VirtualCardSigner((await aliceCard()).identity);
  handler = await createLambdaHandler(await testOpConfig(ISSUER, { table: await newTable() }));
});
afterAll(() => card?.close());

const A = TEST_CLIENTS.firstParty;

/** The first-party test client, talking to the OP only through Lambda events. */
function firstPartyRp() {
  return relyingParty({
    issuer: ISSUER,
    clientId: A.client_id,
    clientSecret: A.client_secret,
    transport: lambdaTransport,
  });
}

describe('Lambda handler (API Gateway HTTP API v2)', () => {
  it('answers discovery with the configured issuer', async () => {
    const response = await lambdaTransport(`${ISSUER}/.well-known/openid-configuration`, {});
    expect(response.status).toBe(200);
    const metadata = (await response.json()) as { issuer: string; token_endpoint: string };
    expect(metadata.issuer).toBe(ISSUER);
    expect(metadata.token_endpoint).toBe(`${ISSUER}/token`);
  });

  it('redirects an authorization request to the interaction and sets its cookies', async () => {
    const rp = await firstPartyRp();
    const url = client.buildAuthorizationUrl(rp, {
      redirect_uri: A.redirect_uris[0] as string,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const response = await lambdaTransport(url.href, {});
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toMatch(/^\/interaction\/[A-Za-z0-9_-]+$/);
    const cookies = response.headers.getSetCookie();
    expect(cookies.some((cookie) => cookie.startsWith('_interaction='))).toBe(true);
    expect(cookies.every((cookie) => /;\s*secure/i.test(cookie) && /samesite=lax/i.test(cookie))).toBe(true);
  });

  it('runs a whole login through events, cookies in event.cookies, and redeems the code at /token', async () => {
    const rp = await firstPartyRp();
    const { tokens } = await rpLogin({
      rp,
      browser: new TestBrowser(lambdaTransport),
      card,
      redirectUri: A.redirect_uris[0] as string,
    });
    expect(tokens.claims()?.iss).toBe(ISSUER);
    expect(tokens.claims()?.amr).toEqual(['sc', 'pin', 'hwk']);
    expect(events.some((event) => event.rawPath === '/token')).toBe(true);
    expect(events.some((event) => event.rawPath.endsWith('/login') && (event.cookies?.length ?? 0) > 0)).toBe(
      true,
    );
  });
});

describe('the revocation source of OP_REVOCATION_POLICY', () => {
  const env = {
    OP_ISSUER: ISSUER,
    OP_SECRET_ID: 'arn:secret',
    OP_TRUST_ANCHORS_FILE: 'trust.pem',
  };

  it('crl (the default) reads the CRLs imported into the table; none answers good and warns', async () => {
    const table = await newTable();
    const pki = await devPki();
    const anchors = userAuthAnchors(pki);
    const identity = pki.identities[2] as (typeof pki.identities)[number];
    const secret = new Uint8Array(32).fill(7);
    const dir = await mkdtemp(join(tmpdir(), 'myna-lambda-crl-'));
    try {
      const now = new Date();
      const path = join(dir, 'revoked.crl');
      await writeFile(
        path,
        await issueCrl({
          ca: identity.userAuthCa,
          thisUpdate: new Date(now.getTime() - 60_000),
          nextUpdate: new Date(now.getTime() + 86_400_000),
          crlNumber: 1,
          entries: [
            { serialHex: identity.userAuth.serialHex, revokedAt: now, reason: X509CrlReason.superseded },
          ],
        }),
      );
      await new CrlStore(table).importFile(path, { anchors, secret, now });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const certificate = parseCertificate(identity.userAuth.der);
    const query = { certificate, issuer: anchors.findSigner(certificate) as never, now: new Date() };
    const settings = readLambdaEnv({ ...env, OP_TABLE_NAME: table.tableName });
    const crl = await revocationSource(settings, anchors, table.client, secret);
    await expect(crl.status(query)).resolves.toMatchObject({ status: 'revoked', reason: 'superseded' });

    const logger = memoryLogger();
    const none = await revocationSource(
      readLambdaEnv({ ...env, OP_TABLE_NAME: table.tableName, OP_REVOCATION_POLICY: 'none' }),
      anchors,
      table.client,
      secret,
      logger,
    );
    await expect(none.status(query)).resolves.toEqual({ status: 'good' });
    expect(logger.lines).toEqual([expect.objectContaining({ level: 'warn', event: 'revocation.disabled' })]);
  });
});

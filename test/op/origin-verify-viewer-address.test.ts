/**
 * The per-address limit behind CloudFront (WAF option): the OP takes the client's address from
 * CloudFront-Viewer-Address, in CloudFront's real formats (`198.51.100.7:46532`, IPv6 unbracketed
 * `2001:db8::1:443` and bracketed `[2001:db8::1]:443`), and only because origin verification
 * proved that the request came through CloudFront — configured as the Lambda configures itself
 * (clientAddressHeaderFor of its environment). A stand-in CloudFront proxy in front of the
 * guarded OP adds the two headers CloudFront adds to every forwarded request (origin-verify and
 * the viewer's address:port with a fresh source port), as the stack's origin request policy has it
 * forward them (test/infra/stack.test.ts); each viewer is a browser on its own loopback address.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as client from 'openid-client';
import { createOpApp } from '../../functions/op/app.js';
import { viewerAddress } from '../../functions/op/interactions/request.js';
import {
  CLOUDFRONT_VIEWER_ADDRESS_HEADER,
  clientAddressHeaderFor,
  lambdaOriginGuard,
  ORIGIN_VERIFY_HEADER,
  ORIGIN_VERIFY_SECRET_ENV,
} from '../../functions/op/origin-verify.js';
import { fakeSecretsManager } from '../infra/fake-secrets-manager.js';
import { useLocalTables } from '../storage/local-table.js';
import { authorizationRequest, httpTransportFrom, relyingParty, TestBrowser } from '../support/oidc-flow.js';
import { TEST_CLIENTS, testOpConfig } from '../support/op-stack.js';

const SECRET = 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:MynaOidcOriginVerify-abc';
const ORIGIN_VERIFY_VALUE = 'Current0riginVerifyValue0123456789abcdefABCDEFGH';
const A = TEST_CLIENTS.firstParty;
const REDIRECT_URI = A.redirect_uris[0] as string;
const PER_ADDRESS = 2;

/** Who each loopback address stands for, as CloudFront writes the viewer (`%port`: the source port). */
const VIEWERS: Record<string, string> = {
  '127.0.0.1': '203.0.113.1:%port', // the RP's own discovery request
  '127.0.0.2': '198.51.100.7:%port',
  '127.0.0.3': '[2001:db8::1]:443',
  '127.0.0.4': '2001:db8::1:%port', // the same IPv6 client, in CloudFront's unbracketed form
  '127.0.0.5': '2001:db8:0:1::5:443', // another /64
  '127.0.0.6': '198.51.100.8:%port',
};

const newTable = useLocalTables();

async function listen(server: Server, host = '127.0.0.1'): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return `http://${host}:${(server.address() as AddressInfo).port}`;
}

/** Forwards every request to `origin` as CloudFront does: Host dropped, its two headers added. */
function fakeCloudFront(origin: string): Server {
  const target = new URL(origin);
  return createServer((viewer: IncomingMessage, answer) => {
    const headers = { ...viewer.headers };
    delete headers.host;
    const address = VIEWERS[viewer.socket.remoteAddress ?? ''] ?? '192.0.2.1:%port';
    headers[ORIGIN_VERIFY_HEADER] = ORIGIN_VERIFY_VALUE;
    headers[CLOUDFRONT_VIEWER_ADDRESS_HEADER] = address.replace('%port', String(viewer.socket.remotePort));
    const forwarded = httpRequest(
      { host: target.hostname, port: target.port, method: viewer.method, path: viewer.url, headers },
      (response) => {
        answer.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(answer);
      },
    );
    forwarded.on('error', () => answer.writeHead(502).end());
    viewer.pipe(forwarded);
  });
}

describe('the per-address limit behind CloudFront with origin verification', () => {
  const env = { [ORIGIN_VERIFY_SECRET_ENV]: SECRET };
  let origin: Server;
  let edge: Server;
  let originUrl: string;
  let rp: client.Configuration;

  beforeAll(async () => {
    origin = createServer();
    originUrl = await listen(origin);
    edge = fakeCloudFront(originUrl);
    const issuer = await listen(edge);
    const { listener } = await createOpApp({
      ...(await testOpConfig(issuer, { table: await newTable() })),
      limits: { interactionsPerAddressPerMinute: PER_ADDRESS },
      clientAddressHeader: clientAddressHeaderFor(env),
    });
    const fake = fakeSecretsManager({ [SECRET]: ORIGIN_VERIFY_VALUE });
    origin.on('request', await lambdaOriginGuard(listener, env, () => fake.client));
    rp = await relyingParty({ issuer, clientId: A.client_id, clientSecret: A.client_secret });
  });
  afterAll(async () => {
    for (const server of [edge, origin]) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  /** Status of a new authorization request by the browser on `localAddress`. */
  async function statusFrom(localAddress: string, headers?: Record<string, string>): Promise<number> {
    const { url } = await authorizationRequest(rp, REDIRECT_URI);
    return (await new TestBrowser(httpTransportFrom({ localAddress }), headers).request(url)).status;
  }

  it('counts an IPv4 viewer by its address, whatever its source port', async () => {
    const statuses = [];
    for (let i = 0; i <= PER_ADDRESS; i++) statuses.push(await statusFrom('127.0.0.2'));
    expect(statuses).toEqual([303, 303, 429]);
  });

  it('reads bracketed and unbracketed IPv6 values as one client, and another /64 apart', async () => {
    expect(await statusFrom('127.0.0.3')).toBe(303);
    expect(await statusFrom('127.0.0.4')).toBe(303);
    expect(await statusFrom('127.0.0.3')).toBe(429);
    expect(await statusFrom('127.0.0.4')).toBe(429);
    expect(await statusFrom('127.0.0.5')).toBe(303);
  });

  it('never counts a CloudFront-Viewer-Address sent straight to the origin: it is refused first', async () => {
    const { url } = await authorizationRequest(rp, REDIRECT_URI);
    const direct = new URL(new URL(url).pathname + new URL(url).search, originUrl);
    for (let i = 0; i < 5; i++) {
      const response = await fetch(direct, {
        redirect: 'manual',
        headers: { [CLOUDFRONT_VIEWER_ADDRESS_HEADER]: '198.51.100.8:1234' },
      });
      expect(response.status).toBe(403);
    }
    // 198.51.100.8 still has its whole allowance through CloudFront.
    expect([
      await statusFrom('127.0.0.6'),
      await statusFrom('127.0.0.6'),
      await statusFrom('127.0.0.6'),
    ]).toEqual([303, 303, 429]);
  });
});

describe('the OP without origin verification', () => {
  it('takes no client address from a header at all, so a forged CloudFront-Viewer-Address changes nothing', async () => {
    expect(clientAddressHeaderFor({})).toBeUndefined();
    const server = createServer();
    const issuer = await listen(server);
    const { listener } = await createOpApp({
      ...(await testOpConfig(issuer, { table: await newTable() })),
      limits: { interactionsPerAddressPerMinute: PER_ADDRESS },
      clientAddressHeader: clientAddressHeaderFor({}),
    });
    server.on('request', listener);
    try {
      const rp = await relyingParty({ issuer, clientId: A.client_id, clientSecret: A.client_secret });
      const statuses = [];
      for (let i = 0; i <= PER_ADDRESS; i++) {
        const { url } = await authorizationRequest(rp, REDIRECT_URI);
        // Not a header a browser sets: a client rotating the addresses it claims.
        const browser = new TestBrowser(httpTransportFrom({ localAddress: '127.0.0.9' }), {
          [CLOUDFRONT_VIEWER_ADDRESS_HEADER]: `198.51.100.${i}:443`,
        });
        statuses.push((await browser.request(url)).status);
      }
      expect(statuses).toEqual([303, 303, 429]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('viewerAddress', () => {
  it.each([
    ['198.51.100.7:46532', '198.51.100.7'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['2001:db8::1:443', '2001:db8::1'],
    ['2001:0db8:85a3:0000:0000:8a2e:0370:7334:46532', '2001:0db8:85a3:0000:0000:8a2e:0370:7334'],
    ['::ffff:198.51.100.7:443', '::ffff:198.51.100.7'],
    // A repeated header, comma-joined: the last value is the one the proxy added.
    ['203.0.113.66:1, 198.51.100.7:46532', '198.51.100.7'],
  ])('reads %j as %j', (value, address) => {
    expect(viewerAddress(value)).toBe(address);
  });

  it.each([
    '198.51.100.7',
    '[2001:db8::1]',
    'unknown',
    'rp.example:443',
    '198.51.100.7:port',
    '[::1:443',
    '',
  ])('refuses %j (no address:port)', (value) => {
    expect(viewerAddress(value)).toBeUndefined();
  });
});

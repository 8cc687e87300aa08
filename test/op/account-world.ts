/**
 * What the "My account" tests share: a relying party's back-channel logout endpoint on loopback
 * that records every logout token and verifies it as an RP must (jose against the OP's JWKS,
 * OIDC Back-Channel Logout 1.0 §2.6), the clients the tests sign in to (one with back-channel
 * logout and refresh tokens, one plain, one third-party with a logo, one with the public subject
 * type), their sign-ins, and a dump
 * of the table that lists every item naming the account.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from '@jest/globals';
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import * as client from 'openid-client';
import { BACKCHANNEL_LOGOUT_EVENT } from '../../functions/revocation/notification/logout-token.js';
import { scanAll, type TestTable } from '../storage/local-table.js';
import { relyingParty, rpLogin, TestBrowser, type VirtualCardSigner } from '../support/oidc-flow.js';

/** Records the POSTs of back-channel logouts at http://127.0.0.1:<port>/<client id>. */
export class BackchannelEndpoint {
  readonly tokens: { clientId: string; token: string }[] = [];
  #server?: Server;
  url = '';

  async start(): Promise<void> {
    this.#server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        const token = new URLSearchParams(body).get('logout_token');
        if (request.method === 'POST' && token)
          this.tokens.push({ clientId: (request.url ?? '/').slice(1), token });
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Forgets the tokens received so far (each test has its own OP, with its own keys). */
  reset(): void {
    this.tokens.length = 0;
  }

  /** The endpoint URL for `clientId`. */
  uriFor(clientId: string): string {
    return `${this.url}/${clientId}`;
  }

  /**
   * The claims of every logout token `clientId` received, each verified as a relying party
   * verifies one: signature against the OP's JWKS, `typ` logout+jwt, issuer, audience, the
   * back-channel event, no nonce.
   */
  async verifiedFor(clientId: string, issuer: string): Promise<JWTPayload[]> {
    const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
    const verified: JWTPayload[] = [];
    for (const { token } of this.tokens.filter((entry) => entry.clientId === clientId)) {
      const { payload, protectedHeader } = await jwtVerify(token, jwks, {
        issuer,
        audience: clientId,
        typ: 'logout+jwt',
        maxTokenAge: '5 min',
      });
      if (!(BACKCHANNEL_LOGOUT_EVENT in ((payload.events as object | undefined) ?? {}))) {
        throw new Error('not a back-channel logout event');
      }
      if ('nonce' in payload || protectedHeader.alg === 'none') throw new Error('not a logout token');
      verified.push(payload);
    }
    return verified;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server?.close(() => resolve()) ?? resolve());
  }
}

/**
 * The clients of the account tests: `news` (back-channel logout, refresh tokens), `shop` (third
 * party, logo), `plain`, `forum` (subject type public: its sub is the account id).
 */
export function accountTestClients(backchannel: BackchannelEndpoint): {
  readonly news: ClientMetadata;
  readonly shop: ClientMetadata;
  readonly plain: ClientMetadata;
  readonly forum: ClientMetadata;
} {
  return {
    news: {
      client_id: 'rp-news',
      client_secret: 'rp-news-secret-0123456789abcdef0123456789',
      client_name: 'Daily News',
      'client_name#ja': '毎日ニュース',
      redirect_uris: ['https://news.example/cb'],
      grant_types: ['authorization_code', 'refresh_token'],
      backchannel_logout_uri: backchannel.uriFor('rp-news'),
      myna_first_party: true,
    },
    shop: {
      client_id: 'rp-shop',
      client_secret: 'rp-shop-secret-0123456789abcdef0123456',
      client_name: 'Example Shop',
      redirect_uris: ['https://shop.example/cb'],
      logo_uri: 'https://cdn.shop.example/logo.svg',
    },
    plain: {
      client_id: 'rp-plain',
      client_secret: 'rp-plain-secret-0123456789abcdef012345',
      client_name: 'Plain RP',
      redirect_uris: ['https://plain.example/cb'],
      myna_first_party: true,
    },
    forum: {
      client_id: 'rp-forum',
      client_secret: 'rp-forum-secret-0123456789abcdef01234',
      client_name: 'Town Forum',
      redirect_uris: ['https://forum.example/cb'],
      subject_type: 'public',
      myna_first_party: true,
    },
  };
}

/** Every item of the table whose attributes name any of `needles` (as JSON text). */
export async function itemsNaming(table: TestTable, needles: readonly string[]): Promise<string[]> {
  return (await scanAll(table))
    .map((item) => JSON.stringify(item))
    .filter((text) => needles.some((needle) => text.includes(needle)));
}

/** A relying party's sign-in of `metadata`'s client with `card` (openid-client; consent given where asked). */
export async function rpSignIn(
  issuer: string,
  card: VirtualCardSigner,
  metadata: ClientMetadata,
  browser = new TestBrowser(),
): Promise<{
  rp: client.Configuration;
  tokens: Awaited<ReturnType<typeof rpLogin>>['tokens'];
  sub: string;
  redirectUri: string;
  clientId: string;
}> {
  const rp = await relyingParty({
    issuer,
    clientId: metadata.client_id,
    clientSecret: metadata.client_secret as string,
  });
  const redirectUri = (metadata.redirect_uris as string[])[0] as string;
  const { tokens } = await rpLogin({ rp, browser, card, redirectUri, consent: true });
  return { rp, tokens, sub: tokens.claims()?.sub as string, redirectUri, clientId: metadata.client_id };
}

/**
 * What a relying party sees once its access is withdrawn: a logout token for the `sub` it holds
 * (verified as it verifies one), and its refresh token refused with invalid_grant.
 */
export async function expectWithdrawn(
  backchannel: BackchannelEndpoint,
  issuer: string,
  login: Awaited<ReturnType<typeof rpSignIn>>,
): Promise<void> {
  const [logout] = await backchannel.verifiedFor(login.clientId, issuer);
  expect(logout?.sub).toBe(login.sub);
  await expect(
    client.refreshTokenGrant(login.rp, login.tokens.refresh_token as string),
  ).rejects.toMatchObject({
    error: 'invalid_grant',
  });
}

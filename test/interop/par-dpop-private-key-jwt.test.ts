/**
 * A FAPI-2-style confidential client with openid-client: pushed authorization request (PAR),
 * private_key_jwt client authentication and DPoP-bound tokens, the sign-in through the real card
 * page in Chromium. Checks the DPoP binding (cnf.jkt), that the token is refused as a Bearer
 * token, userinfo and refresh with DPoP, and that the client cannot skip PAR.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import * as client from 'openid-client';
import { JPKI_ACR } from '../../functions/op/claims.js';
import { useLocalTables } from '../storage/local-table.js';
import { freePort } from '../support/browser.js';
import { backAtRp, type InteropOp, signInOnCardPage, startInteropOp, step } from '../support/interop-op.js';

const RP = 'openid-client (PAR + DPoP + private_key_jwt)';
const HOST = '127.0.0.7';
const CLIENT_ID = 'fapi-rp';

const newTable = useLocalTables();
let op: InteropOp;
let callbackServer: Server;
let redirectUri: string;
let config: client.Configuration;

beforeAll(async () => {
  const port = await freePort();
  redirectUri = `http://${HOST}:${port}/cb`;
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  op = await startInteropOp({
    table: await newTable(),
    clients: [
      {
        client_id: CLIENT_ID,
        client_name: 'FAPI RP',
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256', use: 'sig' }] },
        redirect_uris: [redirectUri],
        require_pushed_authorization_requests: true,
        dpop_bound_access_tokens: true,
        myna_first_party: true,
      },
    ],
    privateRpHosts: [],
  });
  // The redirect URI only has to answer; the test reads the callback URL from the browser.
  callbackServer = createServer((_request, response) => response.end('callback'));
  await new Promise<void>((resolve) => callbackServer.listen(port, HOST, resolve));
  config = await client.discovery(
    new URL(op.issuer),
    CLIENT_ID,
    { token_endpoint_auth_signing_alg: 'ES256' },
    client.PrivateKeyJwt(privateKey),
    { execute: [client.allowInsecureRequests] },
  );
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => {
    callbackServer?.close(resolve);
    callbackServer?.closeAllConnections();
  });
  await op?.close();
});

describe('PAR + DPoP + private_key_jwt with openid-client', () => {
  it('signs in; the tokens are DPoP-bound and work only with the DPoP proof', async () => {
    const keyPair = await client.randomDPoPKeyPair('ES256');
    const dpop = client.getDPoPHandle(config, keyPair);
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier);
    const authorizationUrl = await step(RP, 'pushed authorization request', () =>
      client.buildAuthorizationUrlWithPAR(
        config,
        {
          redirect_uri: redirectUri,
          scope: 'openid',
          state,
          code_challenge: codeChallenge,
          code_challenge_method: 'S256',
        },
        { DPoP: dpop },
      ),
    );
    expect(authorizationUrl.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    const page = await (await op.newContext()).newPage();
    await page.goto(authorizationUrl.href);
    await step(RP, 'sign in on the card page', () => signInOnCardPage(page));
    await step(RP, 'callback', () => backAtRp(page, `${redirectUri}?**`));
    const tokens = await step(RP, 'code exchange with DPoP', () =>
      client.authorizationCodeGrant(
        config,
        new URL(page.url()),
        { pkceCodeVerifier: codeVerifier, expectedState: state, idTokenExpected: true },
        undefined,
        { DPoP: dpop },
      ),
    );
    await page.context().close();
    expect(tokens.token_type).toBe('dpop');
    const claims = tokens.claims();
    expect(claims).toMatchObject({
      iss: op.issuer,
      aud: CLIENT_ID,
      acr: JPKI_ACR,
      amr: ['sc', 'pin', 'hwk'],
    });

    const introspection = await step(RP, 'introspection', () =>
      client.tokenIntrospection(config, tokens.access_token),
    );
    const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey));
    expect(introspection).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt } });

    const userinfo = await step(RP, 'userinfo with DPoP', () =>
      client.fetchUserInfo(config, tokens.access_token, claims?.sub as string, { DPoP: dpop }),
    );
    expect(userinfo).toEqual({ sub: claims?.sub });
    const asBearer = await fetch(config.serverMetadata().userinfo_endpoint as string, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(asBearer.status).toBe(401);
    await asBearer.arrayBuffer();

    const refreshed = await step(RP, 'refresh with DPoP', () =>
      client.refreshTokenGrant(config, tokens.refresh_token as string, undefined, { DPoP: dpop }),
    );
    expect(refreshed.token_type).toBe('dpop');
    expect(refreshed.access_token).not.toBe(tokens.access_token);
  }, 60_000);

  it('an authorization request without PAR is refused', async () => {
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const response = await fetch(url, { redirect: 'manual' });
    await response.arrayBuffer();
    const location = new URL(response.headers.get('location') ?? '', op.issuer);
    expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toMatch(/pushed authorization request/i);
  });
});

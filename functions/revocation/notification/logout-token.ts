/**
 * OpenID Connect Back-Channel Logout 1.0 logout tokens, signed with the OP's active signing key
 * (as oidc-provider signs its own: the client's id_token_signed_response_alg, default RS256), and
 * their delivery: POST application/x-www-form-urlencoded `logout_token=…`, 200 or 204 expected,
 * only to public addresses unless the RP's host is allow-listed (private-network.ts).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { importJWK, SignJWT } from 'jose';
import { LOGOUT_TOKEN_TTL_SECONDS } from '../../defaults.js';
import { activeSigningJwk, type SigningSecrets } from '../../secrets/op-secrets.js';
import { type PrivateRpHosts, RpAddressRefusedError } from './private-network.js';

/** The event claim that makes a JWT a logout token. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** What one logout token says. */
export interface LogoutTokenClaims {
  readonly issuer: string;
  readonly clientId: string;
  readonly sub?: string;
  readonly sid?: string;
  readonly jti: string;
  readonly now: Date;
  /** The client's id_token_signed_response_alg (default RS256). */
  readonly alg?: string;
}

/** Signs a logout token (typ logout+jwt, no nonce) with the active key of the algorithm. */
export async function signLogoutToken(secrets: SigningSecrets, claims: LogoutTokenClaims): Promise<string> {
  const alg = claims.alg ?? 'RS256';
  const jwk = activeSigningJwk(secrets, alg);
  if (!jwk?.kid) throw new Error(`no active signing key for ${alg}`);
  const iat = Math.floor(claims.now.getTime() / 1000);
  return new SignJWT({
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    ...(claims.sub === undefined ? {} : { sub: claims.sub }),
    ...(claims.sid === undefined ? {} : { sid: claims.sid }),
  })
    .setProtectedHeader({ alg, kid: jwk.kid, typ: 'logout+jwt' })
    .setIssuer(claims.issuer)
    .setAudience(claims.clientId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + LOGOUT_TOKEN_TTL_SECONDS)
    .setJti(claims.jti)
    .sign(await importJWK(jwk, alg));
}

/** Options of deliverLogoutToken. */
export interface DeliveryOptions {
  /** Time allowed for the whole exchange, ms. */
  readonly timeoutMs: number;
  /** Hosts that may be on private addresses; all others must resolve to public ones. */
  readonly privateRpHosts: PrivateRpHosts;
}

/**
 * POSTs the logout token (no redirects followed); throws unless the RP answers 200 or 204, with
 * a message that says why (HTTP status, timeout, refused address, connection error) and never
 * the token.
 */
export async function deliverLogoutToken(
  uri: string,
  token: string,
  options: DeliveryOptions,
): Promise<void> {
  const url = new URL(uri);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`back-channel logout URI has scheme ${url.protocol}`);
  }
  const lookup = options.privateRpHosts.lookupFor(url);
  const body = new URLSearchParams({ logout_token: token }).toString();
  const status = await new Promise<number>((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
        },
        ...(lookup ? { lookup } : {}),
        signal: AbortSignal.timeout(options.timeoutMs),
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    request.on('error', (error: Error & { code?: string }) => {
      if (error instanceof RpAddressRefusedError) reject(error);
      else if (error.name === 'AbortError' || error.name === 'TimeoutError') {
        reject(new Error(`back-channel logout endpoint did not answer within ${options.timeoutMs} ms`));
      } else reject(new Error(`back-channel logout endpoint unreachable: ${error.code ?? error.name}`));
    });
    request.end(body);
  });
  if (status !== 200 && status !== 204) {
    throw new Error(`back-channel logout endpoint answered ${status}`);
  }
}

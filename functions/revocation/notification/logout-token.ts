/**
 * OpenID Connect Back-Channel Logout 1.0 logout tokens: their claims (logoutTokenPayload — signed by
 * a LogoutTokenSigner, logout-token-signer.ts, with the OP's active key, as the specification asks)
 * and their delivery: POST application/x-www-form-urlencoded `logout_token=…`, 200 or 204 expected,
 * only to public addresses unless the RP's host is allow-listed (private-network.ts).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { LOGOUT_TOKEN_TTL_SECONDS } from '../../defaults.js';
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
}

/** The JWT claims set of a logout token: iss, aud, iat, exp (LOGOUT_TOKEN_TTL_SECONDS), jti, events, sub/sid. */
export function logoutTokenPayload(claims: LogoutTokenClaims): Record<string, unknown> {
  const iat = Math.floor(claims.now.getTime() / 1000);
  return {
    iss: claims.issuer,
    aud: claims.clientId,
    iat,
    exp: iat + LOGOUT_TOKEN_TTL_SECONDS,
    jti: claims.jti,
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    ...(claims.sub === undefined ? {} : { sub: claims.sub }),
    ...(claims.sid === undefined ? {} : { sid: claims.sid }),
  };
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

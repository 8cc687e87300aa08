/**
 * OpenID Connect Back-Channel Logout 1.0 logout tokens, signed with the OP's active signing key
 * (as oidc-provider signs its own: the client's id_token_signed_response_alg, default RS256), and
 * their delivery: POST application/x-www-form-urlencoded `logout_token=…`, 200 or 204 expected.
 */
import { importJWK, SignJWT } from 'jose';
import type { OpSecrets } from '../../secrets/op-secrets.js';

/** The event claim that makes a JWT a logout token. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** How long a logout token is valid, in seconds. */
const LOGOUT_TOKEN_TTL_SECONDS = 120;

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
export async function signLogoutToken(secrets: OpSecrets, claims: LogoutTokenClaims): Promise<string> {
  const alg = claims.alg ?? 'RS256';
  const key = secrets.jwks.keys.find((candidate) => candidate.status === 'active' && candidate.alg === alg);
  if (!key) throw new Error(`no active ${alg} signing key`);
  const { status: _status, ...jwk } = key;
  const iat = Math.floor(claims.now.getTime() / 1000);
  return new SignJWT({
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    ...(claims.sub === undefined ? {} : { sub: claims.sub }),
    ...(claims.sid === undefined ? {} : { sid: claims.sid }),
  })
    .setProtectedHeader({ alg, kid: key.kid, typ: 'logout+jwt' })
    .setIssuer(claims.issuer)
    .setAudience(claims.clientId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + LOGOUT_TOKEN_TTL_SECONDS)
    .setJti(claims.jti)
    .sign(await importJWK(jwk, alg));
}

/** POSTs the logout token; throws with the HTTP status (or the network error) unless 200/204. */
export async function deliverLogoutToken(
  uri: string,
  token: string,
  options: { fetch?: typeof fetch; timeoutMs: number },
): Promise<void> {
  const response = await (options.fetch ?? fetch)(uri, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ logout_token: token }).toString(),
    signal: AbortSignal.timeout(options.timeoutMs),
  });
  await response.arrayBuffer().catch(() => undefined);
  if (response.status !== 200 && response.status !== 204) {
    throw new Error(`back-channel logout endpoint answered ${response.status}`);
  }
}

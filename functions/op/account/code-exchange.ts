/**
 * The account page's login, as an RP would do it but in-process: the authorization request
 * (code flow, PKCE S256, state, `prompt=login`, `max_age=0`) and, at the callback, the code
 * exchanged through oidc-provider's own model — found, checked as the token endpoint checks it
 * (client, redirect URI, expiry, PKCE) plus the card login's `acr` and freshness, then consumed
 * once (the storage's conditional consume, awaited here: of two concurrent callbacks one wins,
 * the other is refused). The code and its grant are then destroyed: the page issues no token, so
 * nothing of the login outlives the callback but the OP session oidc-provider keeps for the
 * browser. A code that comes back with a state the browser did not start is destroyed unused.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import { TTL } from '../../defaults.js';
import { JPKI_ACR } from '../claims.js';
import { ACCOUNT_CLIENT_ID, accountCallbackUrl } from './account-client.js';
import { AccountError } from './account-error.js';

/** What the browser keeps between the authorization request and the callback (a cookie). */
export interface PendingAccountLogin {
  readonly state: string;
  readonly codeVerifier: string;
}

/** A new state and PKCE verifier (each 256 random bits, base64url). */
export function newPendingLogin(): PendingAccountLogin {
  return {
    state: randomBytes(32).toString('base64url'),
    codeVerifier: randomBytes(32).toString('base64url'),
  };
}

/** The S256 code challenge of `verifier` (RFC 7636 §4.2). */
function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** True when the two strings are equal, in time independent of where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The authorization URL of the account page's login (relative to the issuer). */
export function accountAuthorizationUrl(
  provider: Provider,
  issuer: string,
  pending: PendingAccountLogin,
  locale: string,
): string {
  const params = new URLSearchParams({
    client_id: ACCOUNT_CLIENT_ID,
    response_type: 'code',
    redirect_uri: accountCallbackUrl(issuer),
    scope: 'openid',
    state: pending.state,
    code_challenge: s256(pending.codeVerifier),
    code_challenge_method: 'S256',
    prompt: 'login',
    max_age: '0',
    ui_locales: locale,
  });
  return `${provider.pathFor('authorization')}?${params}`;
}

/** What the callback proved: the account signed in with the card, and when. */
export interface AccountLogin {
  readonly accountId: string;
  /** Epoch seconds of the card login. */
  readonly authTime: number;
}

/** A card login older than this, seconds, is not fresh (an interaction lasts at most this long). */
const FRESH_LOGIN_SECONDS = TTL.Interaction;

/**
 * Exchanges the callback's `code` for the account it was issued to; throws AccountError
 * LOGIN_CODE_INVALID (unknown, expired, used, another client or callback, PKCE mismatch) or
 * LOGIN_NOT_FRESH (another acr, or a login older than the interaction could be).
 */
export async function exchangeAccountCode(
  provider: Provider,
  issuer: string,
  code: string,
  codeVerifier: string,
  now = Date.now(),
): Promise<AccountLogin> {
  const found = await provider.AuthorizationCode.find(code);
  if (
    !found?.isValid ||
    found.clientId !== ACCOUNT_CLIENT_ID ||
    found.redirectUri !== accountCallbackUrl(issuer) ||
    found.codeChallengeMethod !== 'S256' ||
    typeof found.codeChallenge !== 'string' ||
    !constantTimeEqual(found.codeChallenge, s256(codeVerifier)) ||
    typeof found.accountId !== 'string'
  ) {
    throw new AccountError('LOGIN_CODE_INVALID');
  }
  const authTime = found.authTime;
  if (found.acr !== JPKI_ACR || typeof authTime !== 'number' || now / 1000 - authTime > FRESH_LOGIN_SECONDS) {
    throw new AccountError('LOGIN_NOT_FRESH');
  }
  try {
    await found.consume();
  } catch (error) {
    // A concurrent callback consumed it first (the adapter maps that to InvalidGrant, storage-errors.ts).
    if (error instanceof errors.InvalidGrant) throw new AccountError('LOGIN_CODE_INVALID', { cause: error });
    throw error;
  }
  // Consumed once; then neither the code nor its grant is needed (no token is issued from them).
  await destroyWithGrant(provider, found);
  return { accountId: found.accountId, authTime };
}

/**
 * Destroys `code` and its grant when it is one of the account page's codes, which a callback
 * refused before exchanging it (a state this browser did not start): it then works nowhere,
 * neither at a later callback nor, with its verifier, anywhere else. Another client's code, or
 * none, is left alone.
 */
export async function discardAccountCode(provider: Provider, code: string): Promise<void> {
  const found = await provider.AuthorizationCode.find(code);
  if (found?.clientId === ACCOUNT_CLIENT_ID) await destroyWithGrant(provider, found);
}

async function destroyWithGrant(
  provider: Provider,
  code: InstanceType<Provider['AuthorizationCode']>,
): Promise<void> {
  await code.destroy();
  if (code.grantId) await (await provider.Grant.find(code.grantId))?.destroy();
}

/**
 * The account page's own client: the OP signs people in to "My account" (`<issuer>/account`)
 * through its own authorization endpoint, like any relying party, so the page gets the same login
 * page, helper, checks and `acr` as an RP login. The client is static (oidc-provider's `clients`
 * configuration: never stored, never listed by `myna-oidc clients`) and
 * - first-party (no consent screen);
 * - `myna_fresh_login`: no single sign-on into it from an RP login, and no RP is given the
 *   `auth_time` of an account-page login (fresh-login.ts); every request also carries
 *   `prompt=login` and `max_age=0`;
 * - never served by the token endpoint: the page exchanges its code in-process (code-exchange.ts,
 *   PKCE S256), so the client authenticates with `private_key_jwt` against an empty key set —
 *   no credential exists, and the token, introspection and revocation endpoints answer
 *   `invalid_client` to anyone who presents its id (a code that leaked with its verifier buys
 *   no token). The code grant is its only grant type.
 */
import type { ClientMetadata } from 'oidc-provider';
import { FIRST_PARTY_FLAG, FRESH_LOGIN_FLAG } from '../client-flags.js';

/** The client id of the account page (reserved: a registered client cannot take it, static clients win). */
export const ACCOUNT_CLIENT_ID = 'myna-account';
/** The account page's path on the issuer. */
export const ACCOUNT_PATH = '/account';
/** Where the account page's login returns with its code. */
export const ACCOUNT_CALLBACK_PATH = `${ACCOUNT_PATH}/callback`;

/** The account page's login callback URL at `issuer`. */
export function accountCallbackUrl(issuer: string): string {
  return `${issuer}${ACCOUNT_CALLBACK_PATH}`;
}

/** The static client metadata of the account page at `issuer`. */
export function accountClient(issuer: string): ClientMetadata {
  return {
    client_id: ACCOUNT_CLIENT_ID,
    client_name: 'My account',
    'client_name#ja': 'マイアカウント',
    client_uri: `${issuer}${ACCOUNT_PATH}`,
    redirect_uris: [accountCallbackUrl(issuer)],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [] },
    scope: 'openid',
    [FIRST_PARTY_FLAG]: true,
    [FRESH_LOGIN_FLAG]: true,
  };
}

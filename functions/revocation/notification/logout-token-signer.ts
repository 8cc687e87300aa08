/**
 * The logout-token signer: the only code outside the OP that holds the token-signing keys, and it
 * signs nothing but well-formed Back-Channel Logout 1.0 logout tokens. Logout tokens must be signed
 * with the keys the OP signs ID tokens with (the RP verifies both against the one JWKS), so the
 * notification job — the process that talks to every RP's network — does not get those keys: it
 * sends the claims it wants signed to the signer (on AWS its own Lambda, lambda-logout-token-
 * signer.ts and logout-signer-handler.ts; in the OP and the local `myna-oidc revocation notify`
 * this same class in-process), and whoever takes the job over can at most have logout tokens
 * signed, never an ID token, an access token or a request object.
 *
 * A payload is signed only when (checkLogoutTokenPayload):
 * - its claims are logout-token claims only — iss, aud, iat, exp, jti, events, sub, sid — so no
 *   `nonce` (which the specification forbids in logout tokens), no auth_time, at_hash, azp, acr,
 *   amr or any personal claim an ID token could carry;
 * - `events` is exactly `{ "http://schemas.openid.net/event/backchannel-logout": {} }`;
 * - `iss` is the OP's issuer; `aud` one client id, registered and with a backchannel_logout_uri;
 * - it names `sub` or `sid` (or both), and carries a `jti`;
 * - `iat` is now (within the clock skew) and `exp` at most LOGOUT_TOKEN_TTL_SECONDS after it;
 * - `alg` is one the OP signs with.
 * The header is the signer's own: `typ: logout+jwt` and the active key's `kid`.
 */
import { importJWK, type JWK, SignJWT } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import { DEFAULT_CLOCK_SKEW_SECONDS, LOGOUT_TOKEN_TTL_SECONDS } from '../../defaults.js';
import { activeSigningJwk, JWS_ALGORITHMS, type SigningSecrets } from '../../secrets/op-secrets.js';
import type { ClientRegistry } from '../../storage/client-registry.js';
import { BACKCHANNEL_LOGOUT_EVENT } from './logout-token.js';

/** What the caller asks the signer to sign. */
export interface LogoutTokenSigningRequest {
  /** The JWT claims set (logout-token.ts logoutTokenPayload builds it). */
  readonly payload: Record<string, unknown>;
  /** The client's id_token_signed_response_alg (RS256, PS256 or ES256). */
  readonly alg: string;
}

/** Signs logout tokens, and nothing else. */
export interface LogoutTokenSigner {
  /** The compact JWS; rejects with LogoutTokenRefusedError for anything that is not a logout token. */
  sign(request: LogoutTokenSigningRequest): Promise<string>;
}

/** Why a signing request was refused (stable codes). */
export type LogoutTokenRefusal = 'NOT_A_LOGOUT_TOKEN' | 'UNKNOWN_CLIENT' | 'UNSUPPORTED_ALGORITHM';

/** Raised for a request the signer will not sign; the message names the claim, never its value. */
export class LogoutTokenRefusedError extends Error {
  override name = 'LogoutTokenRefusedError';
  constructor(
    readonly code: LogoutTokenRefusal,
    message: string,
  ) {
    super(message);
  }
}

/** The claims a logout token may carry (Back-Channel Logout 1.0 §2.4). */
const LOGOUT_TOKEN_CLAIMS: ReadonlySet<string> = new Set([
  'iss',
  'aud',
  'iat',
  'exp',
  'jti',
  'events',
  'sub',
  'sid',
]);

/** Longest accepted sub, sid, jti and aud: longer is no identifier this OP issues. */
const MAX_IDENTIFIER_LENGTH = 255;

const notLogoutToken = (why: string): never => {
  throw new LogoutTokenRefusedError('NOT_A_LOGOUT_TOKEN', `not a logout token: ${why}`);
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function identifier(payload: Record<string, unknown>, claim: string, required: boolean): void {
  const value = payload[claim];
  if (value === undefined && !required) return;
  if (typeof value !== 'string' || value === '' || value.length > MAX_IDENTIFIER_LENGTH) {
    notLogoutToken(`${claim} must be a string of 1 to ${MAX_IDENTIFIER_LENGTH} characters`);
  }
}

/**
 * Throws LogoutTokenRefusedError(NOT_A_LOGOUT_TOKEN) unless `payload` is a logout token of `issuer`
 * issued at `nowSeconds` (see the module comment; the client check is the signer's).
 */
export function checkLogoutTokenPayload(
  payload: unknown,
  issuer: string,
  nowSeconds: number,
  clockSkewSeconds = DEFAULT_CLOCK_SKEW_SECONDS,
): asserts payload is Record<string, unknown> & { aud: string } {
  if (!isObject(payload)) return notLogoutToken('the payload is not a JSON object');
  for (const claim of Object.keys(payload)) {
    if (claim === 'nonce') notLogoutToken('a logout token must not carry a nonce');
    if (!LOGOUT_TOKEN_CLAIMS.has(claim)) notLogoutToken(`${claim} is not a logout token claim`);
  }
  const { events } = payload;
  if (events === undefined) notLogoutToken('the events claim is missing');
  const eventNames = isObject(events) ? Object.keys(events) : [];
  const event = isObject(events) ? events[BACKCHANNEL_LOGOUT_EVENT] : undefined;
  if (eventNames.length !== 1 || !isObject(event) || Object.keys(event).length !== 0) {
    notLogoutToken(`events must be exactly { "${BACKCHANNEL_LOGOUT_EVENT}": {} }`);
  }
  if (payload.iss !== issuer) notLogoutToken("iss is not the OP's issuer");
  identifier(payload, 'aud', true);
  identifier(payload, 'jti', true);
  identifier(payload, 'sub', false);
  identifier(payload, 'sid', false);
  if (payload.sub === undefined && payload.sid === undefined) notLogoutToken('it names neither sub nor sid');
  const { iat, exp } = payload;
  if (!Number.isInteger(iat) || Math.abs((iat as number) - nowSeconds) > clockSkewSeconds) {
    notLogoutToken('iat must be the current time');
  }
  if (!Number.isInteger(exp) || (exp as number) <= (iat as number)) notLogoutToken('exp must follow iat');
  if ((exp as number) - (iat as number) > LOGOUT_TOKEN_TTL_SECONDS) {
    notLogoutToken(`exp may be at most ${LOGOUT_TOKEN_TTL_SECONDS} s after iat`);
  }
}

/** Options of InProcessLogoutTokenSigner. */
export interface InProcessLogoutTokenSignerOptions {
  /** The OP's issuer: the only `iss` signed. */
  readonly issuer: string;
  /** The signing secret (the OP's token-signing keys). */
  readonly secrets: SigningSecrets;
  /** A registered client's metadata, or undefined (ClientRegistry.get, or the OP's client lookup). */
  readonly findClient: (clientId: string) => Promise<ClientMetadata | undefined>;
  readonly now?: () => Date;
  readonly clockSkewSeconds?: number;
}

/** The signer that holds the keys (in the signer Lambda, the OP and the local CLI). */
export class InProcessLogoutTokenSigner implements LogoutTokenSigner {
  readonly #o: InProcessLogoutTokenSignerOptions;
  /** Imported keys by kid (an RSA import costs ~20 µs on Node 24). */
  readonly #keys = new Map<string, ReturnType<typeof importJWK>>();

  constructor(options: InProcessLogoutTokenSignerOptions) {
    this.#o = options;
  }

  async sign({ payload, alg }: LogoutTokenSigningRequest): Promise<string> {
    const nowSeconds = Math.floor((this.#o.now?.() ?? new Date()).getTime() / 1000);
    checkLogoutTokenPayload(payload, this.#o.issuer, nowSeconds, this.#o.clockSkewSeconds);
    if (typeof alg !== 'string' || !(JWS_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new LogoutTokenRefusedError(
        'UNSUPPORTED_ALGORITHM',
        `logout tokens are signed with ${JWS_ALGORITHMS.join(', ')} only`,
      );
    }
    const client = await this.#o.findClient(payload.aud);
    if (typeof client?.backchannel_logout_uri !== 'string') {
      throw new LogoutTokenRefusedError(
        'UNKNOWN_CLIENT',
        'aud is not a client registered for back-channel logout',
      );
    }
    const jwk = activeSigningJwk(this.#o.secrets, alg) as (JWK & { kid: string }) | undefined;
    if (!jwk?.kid) throw new Error(`no active signing key for ${alg}`);
    const cacheKey = `${jwk.kid}/${alg}`;
    let key = this.#keys.get(cacheKey);
    if (!key) {
      key = importJWK(jwk, alg);
      this.#keys.set(cacheKey, key);
    }
    return new SignJWT(payload).setProtectedHeader({ alg, kid: jwk.kid, typ: 'logout+jwt' }).sign(await key);
  }
}

/** findClient over the client registry (the signer Lambda and the local CLI). */
export function registeredClients(registry: ClientRegistry): InProcessLogoutTokenSignerOptions['findClient'] {
  return (clientId) => registry.get(clientId);
}

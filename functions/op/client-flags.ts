/**
 * The OP's own client metadata, set by the operator (`myna-oidc clients add|update`), never through
 * dynamic registration, and the rules oidc-provider applies to it each time it loads a client
 * (`extraClientMetadata.validator`), so a rule holds for clients stored before it existed too.
 * - `myna_first_party` (boolean, default false): a service of the operator itself; consent is
 *   skipped (the grant is created automatically).
 * - `myna_raw_serial_claim` (boolean, default false): the client may receive the certificate's raw
 *   serial number in the ID token of a card login (see raw-serial.ts). The serial links a person
 *   across services like a second MyNumber, so every such client is logged as a warning at start-up.
 * - `myna_fresh_login` (boolean, default false): no single sign-on for this client — every
 *   authorization request needs a new card login (provider.ts adds the login check), so its ID
 *   tokens' `auth_time` is the time of its own card login, never the OP session's that other RPs
 *   see. For RPs that must not be linkable even by timing (README, "Single sign-on and timing").
 * - `myna_identity_evidence` (boolean, default false): an identity release to this client carries
 *   the evidence bundle (claim `myna_identity_evidence`, identity/evidence.ts) — for RPs that
 *   keep the record the Act on Prevention of Transfer of Criminal Proceeds asks of them.
 * - `myna_retain_identity_evidence` (boolean, default false): the OP itself keeps that evidence,
 *   encrypted, for `identity.evidenceRetentionDays` (storage/identity-evidence.ts) — for an operator
 *   that keeps records as the platform. Off by default: the OP keeps nothing of an identity.
 * - `myna_remember_identity_consent` (boolean, default false): the identity consent of a
 *   transaction may be remembered for this client's later ones (otherwise it is asked every time).
 * - `myna_purpose`, `myna_purpose#ja` (strings, at most 300 characters): why the RP asks for identity
 *   claims, shown on the identity consent page (English / Japanese).
 * - `client_name#ja`: the client's Japanese display name (kept; oidc-provider drops unknown keys).
 * - `myna_profile` (`fapi2` or absent): the client follows the FAPI 2.0 Security Profile; the OP
 *   then refuses to load it unless its metadata asks for PAR, private_key_jwt, DPoP-bound tokens,
 *   FAPI signing algorithms and https redirect URIs, and oidc-provider applies its FAPI 2.0 checks.
 *
 * Scopes a client can get are written into its `scope` metadata (RFC 7591) when it loads, so
 * oidc-provider answers `invalid_scope` instead of granting (and echoing in the token response) a
 * scope that gives the client nothing: the raw-serial scope only for flagged clients. The identity
 * scopes (`name address birthdate gender`, identity/vocabulary.ts) exist only on an OP with identity
 * verification (`clientScopeConfiguration`); there every client may ask for them unless its
 * registered `scope` leaves them out — which also keeps their facts out of its claims parameter.
 */
import type { ClientMetadata, Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { errors } from 'oidc-provider';
import { IDENTITY_SCOPES } from '../identity/vocabulary.js';
import type { OpLogger } from '../log/logger.js';
import { RAW_SERIAL_SCOPE } from './raw-serial.js';

export const FIRST_PARTY_FLAG = 'myna_first_party';
export const RAW_SERIAL_FLAG = 'myna_raw_serial_claim';
export const FRESH_LOGIN_FLAG = 'myna_fresh_login';
export const PROFILE_FIELD = 'myna_profile';
export const IDENTITY_EVIDENCE_FLAG = 'myna_identity_evidence';
export const RETAIN_IDENTITY_EVIDENCE_FLAG = 'myna_retain_identity_evidence';
export const REMEMBER_IDENTITY_CONSENT_FLAG = 'myna_remember_identity_consent';
/** Why the client asks for identity claims, in English; `#ja`: in Japanese. */
export const PURPOSE_FIELD = 'myna_purpose';
export const PURPOSE_JA_FIELD = 'myna_purpose#ja';
/** The longest purpose text, characters (as IDA's `purpose`). */
export const MAX_PURPOSE_CHARS = 300;

/** The boolean flags of the OP's client metadata. */
export const CLIENT_FLAGS = [
  FIRST_PARTY_FLAG,
  RAW_SERIAL_FLAG,
  FRESH_LOGIN_FLAG,
  IDENTITY_EVIDENCE_FLAG,
  RETAIN_IDENTITY_EVIDENCE_FLAG,
  REMEMBER_IDENTITY_CONSENT_FLAG,
] as const;
export type ClientFlag = (typeof CLIENT_FLAGS)[number];

/** The client profiles `myna_profile` may name. */
export const CLIENT_PROFILES = ['fapi2'] as const;
export type ClientProfile = (typeof CLIENT_PROFILES)[number];

/** The Japanese display name (OIDC Core §2 language tags), shown on Japanese pages. */
export const CLIENT_NAME_JA_FIELD = 'client_name#ja';

/**
 * The client metadata oidc-provider does not know but keeps (extraClientMetadata): the OP's flags,
 * and the Japanese name (oidc-provider would otherwise strip it as unrecognised).
 */
export const EXTRA_CLIENT_METADATA = [
  ...CLIENT_FLAGS,
  PROFILE_FIELD,
  CLIENT_NAME_JA_FIELD,
  PURPOSE_FIELD,
  PURPOSE_JA_FIELD,
] as const;

/** The scopes of every OP; the raw-serial scope is added for flagged clients. */
const BASE_SCOPES = ['openid', 'offline_access'] as const;
/**
 * The scopes every client may ask for on an OP with identity verification, the most a client can
 * be registered for (what the CLI validates against: it does not know the OP's trust anchors).
 */
export const STANDARD_SCOPES = [...BASE_SCOPES, ...IDENTITY_SCOPES] as const;

/** Signing algorithms FAPI 2.0 (§5.4) allows, for the client assertions of a fapi2 client. */
export const FAPI2_CLIENT_ASSERTION_ALGORITHMS = ['PS256', 'ES256', 'EdDSA'] as const;
/**
 * The FAPI 2.0 algorithms the OP can sign a fapi2 client's ID tokens with (it has RSA and P-256
 * keys, secrets/op-secrets.ts JWS_KEY_ALGORITHM; no Ed25519 key).
 */
export const FAPI2_ID_TOKEN_ALGORITHMS = ['PS256', 'ES256'] as const;

/** True when the client metadata has `flag` set to true. */
export function hasFlag(client: object | undefined, flag: ClientFlag): boolean {
  return (client as Record<string, unknown> | undefined)?.[flag] === true;
}

/** The client's profile, if any. */
export function profileOf(client: object | undefined): ClientProfile | undefined {
  const value = (client as Record<string, unknown> | undefined)?.[PROFILE_FIELD];
  return CLIENT_PROFILES.find((profile) => profile === value);
}

/**
 * oidc-provider's extraClientMetadata validator: checks one of EXTRA_CLIENT_METADATA on the client being
 * loaded (`metadata`: the client's metadata with the OP's client defaults applied) and, once per
 * client, writes its allowed scopes and checks its profile. Throws InvalidClientMetadata.
 */
export const validateClientFlag = clientFlagValidator(STANDARD_SCOPES);

/** The validator of the OP's client metadata for an OP whose clients may ask for `standardScopes`. */
function clientFlagValidator(standardScopes: readonly string[]) {
  return (
    _ctx: KoaContextWithOIDC | undefined,
    key: string,
    value: unknown,
    metadata: ClientMetadata,
  ): void => checkClientField(key, value, metadata, standardScopes);
}

/**
 * The provider's scopes and client validation for an OP with (or without) identity verification:
 * without it the identity scopes are neither advertised (`scopes_supported`) nor kept in a client's
 * `scope` (a stored registration that names them still loads, without them).
 */
export function clientScopeConfiguration(
  identityEnabled: boolean,
): Pick<Configuration, 'scopes' | 'extraClientMetadata'> {
  const standard = identityEnabled ? STANDARD_SCOPES : BASE_SCOPES;
  return {
    scopes: [...standard, RAW_SERIAL_SCOPE],
    extraClientMetadata: { properties: [...EXTRA_CLIENT_METADATA], validator: clientFlagValidator(standard) },
  };
}

/** Checks one field of EXTRA_CLIENT_METADATA (see validateClientFlag). */
function checkClientField(
  key: string,
  value: unknown,
  metadata: ClientMetadata,
  standardScopes: readonly string[],
): void {
  if (key === CLIENT_NAME_JA_FIELD || key === PURPOSE_FIELD || key === PURPOSE_JA_FIELD) {
    if (value !== undefined && (typeof value !== 'string' || value.trim() === '')) {
      throw new errors.InvalidClientMetadata(`${key} must be a non-empty string if provided`);
    }
    if (key !== CLIENT_NAME_JA_FIELD && typeof value === 'string' && [...value].length > MAX_PURPOSE_CHARS) {
      throw new errors.InvalidClientMetadata(`${key} must have at most ${MAX_PURPOSE_CHARS} characters`);
    }
    return;
  }
  if (key === PROFILE_FIELD) {
    if (value === undefined) return;
    if (profileOf(metadata) === undefined) {
      throw new errors.InvalidClientMetadata(`${key} must be ${CLIENT_PROFILES.join(' or ')}`);
    }
    checkFapi2(metadata);
    return;
  }
  if (value !== undefined && typeof value !== 'boolean') {
    throw new errors.InvalidClientMetadata(`${key} must be a boolean`);
  }
  if (key === RAW_SERIAL_FLAG) metadata.scope = allowedScope(metadata, standardScopes);
}

/** The client's registered scope (all when none) narrowed to what it can get. */
function allowedScope(metadata: ClientMetadata, standardScopes: readonly string[]): string {
  const allowed = hasFlag(metadata, RAW_SERIAL_FLAG)
    ? [...standardScopes, RAW_SERIAL_SCOPE]
    : [...standardScopes];
  const registered = typeof metadata.scope === 'string' ? metadata.scope.split(' ') : undefined;
  return (registered ? allowed.filter((scope) => registered.includes(scope)) : allowed).join(' ');
}

/** The FAPI 2.0 Security Profile's client requirements (§5.3.2, §5.4). */
function checkFapi2(metadata: ClientMetadata): void {
  const fail = (rule: string) => {
    throw new errors.InvalidClientMetadata(`${PROFILE_FIELD} fapi2 requires ${rule}`);
  };
  if (metadata.require_pushed_authorization_requests !== true) fail('require_pushed_authorization_requests');
  if (metadata.token_endpoint_auth_method !== 'private_key_jwt')
    fail('token_endpoint_auth_method private_key_jwt');
  if (metadata.dpop_bound_access_tokens !== true) fail('dpop_bound_access_tokens');
  const algorithms = {
    token_endpoint_auth_signing_alg: FAPI2_CLIENT_ASSERTION_ALGORITHMS,
    id_token_signed_response_alg: FAPI2_ID_TOKEN_ALGORITHMS,
  } as const;
  for (const [field, allowed] of Object.entries(algorithms)) {
    if (!allowed.some((alg) => alg === metadata[field])) {
      fail(`${field} ${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)}`);
    }
  }
  const uris = [
    ...(metadata.redirect_uris ?? []),
    ...((metadata.post_logout_redirect_uris as string[]) ?? []),
  ];
  if (uris.some((uri) => !uri.startsWith('https://'))) fail('https redirect URIs');
}

/** Logs one warning per client that may receive raw certificate serials; returns their ids. */
export function warnRawSerialClients(clients: readonly ClientMetadata[], logger: OpLogger): string[] {
  const flagged = clients
    .filter((client) => hasFlag(client, RAW_SERIAL_FLAG))
    .map((client) => client.client_id);
  for (const clientId of flagged) {
    logger.warn('client.raw_serial_claim_enabled', {
      clientId,
      message:
        'this client receives the raw certificate serial number, which identifies a person across services',
    });
  }
  return flagged;
}

/**
 * Which client metadata the OP accepts, decided in one place: the parts of the oidc-provider
 * configuration that its client schema reads (`CLIENT_CONFIGURATION`, `CLIENT_FEATURES`, spread
 * into the provider's configuration by provider.ts), and `validateClientMetadata`, which runs
 * oidc-provider's **own** client validation (`Provider.Client.validate`: schema, defaults,
 * sector_identifier_uri document, the OP's flags in client-flags.ts) on a provider built from
 * exactly those parts. The operator CLI calls it before writing, so a registration the OP would
 * reject at the first login is refused at once, with oidc-provider's own message.
 */
import Provider, { type Adapter, type Configuration, errors } from 'oidc-provider';
import { JWS_ALGORITHMS, providerJwks } from '../secrets/op-secrets.js';
import { initialSigningKeys } from '../secrets/signing-keys.js';
import { DEFAULT_SUBJECT_TYPE } from '../subject/subject-for.js';
import { JPKI_ACR } from './claims.js';
import { EXTRA_CLIENT_METADATA, profileOf, STANDARD_SCOPES, validateClientFlag } from './client-flags.js';
import { RAW_SERIAL_SCOPE } from './raw-serial.js';

/** How clients may authenticate at the token endpoint (what `clients add` can register). */
export const CLIENT_AUTH_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'none',
] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

/** Auth methods that use the client secret. */
export const SECRET_AUTH_METHODS: ReadonlySet<string> = new Set([
  'client_secret_basic',
  'client_secret_post',
]);

/** ID-token signing algorithms: those the OP always holds an active key for (op-secrets.ts). */
export const ID_TOKEN_SIGNING_ALGORITHMS = JWS_ALGORITHMS;

/** The client-related part of the provider configuration. */
export const CLIENT_CONFIGURATION = {
  acrValues: [JPKI_ACR],
  scopes: [...STANDARD_SCOPES, RAW_SERIAL_SCOPE],
  responseTypes: ['code'],
  subjectTypes: ['pairwise', 'public'],
  clientAuthMethods: [...CLIENT_AUTH_METHODS],
  enabledJWA: { idTokenSigningAlgValues: [...ID_TOKEN_SIGNING_ALGORITHMS] },
  clientDefaults: {
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
    subject_type: DEFAULT_SUBJECT_TYPE,
    // Back-channel logout with sid: ID tokens of clients with a backchannel_logout_uri carry
    // `sid`, so a logout token (RP-initiated logout, or the revocation job) names the session.
    backchannel_logout_session_required: true,
  },
  extraClientMetadata: { properties: [...EXTRA_CLIENT_METADATA], validator: validateClientFlag },
} satisfies Configuration;

/**
 * The features that change which client metadata is valid. FAPI 2.0 is on only for clients with
 * `myna_profile` fapi2 (oidc-provider then requires `aud` = issuer in client assertions, PKCE and
 * the redirect_uri parameter); client-flags.ts makes their metadata ask for PAR, private_key_jwt
 * and DPoP.
 */
export const CLIENT_FEATURES = {
  clientCredentials: { enabled: false },
  backchannelLogout: { enabled: true },
  rpInitiatedLogout: { enabled: true },
  pushedAuthorizationRequests: { enabled: true },
  dPoP: { enabled: true },
  fapi: {
    enabled: true,
    profile: (_ctx: unknown, client: object | undefined) =>
      profileOf(client) === 'fapi2' ? '2.0' : undefined,
  },
} satisfies Configuration['features'];

/** Metadata the OP would refuse; `message` is oidc-provider's own description. */
export class ClientMetadataError extends Error {
  override name = 'ClientMetadataError';
  readonly code = 'INVALID_CLIENT_METADATA';
}

/** The validating provider's storage: it never stores or finds anything. */
class NoStorage implements Adapter {
  async upsert(): Promise<void> {
    throw new TypeError('the client-metadata validator stores nothing');
  }
  async find(): Promise<undefined> {
    return undefined;
  }
  async findByUserCode(): Promise<undefined> {
    return undefined;
  }
  async findByUid(): Promise<undefined> {
    return undefined;
  }
  async consume(): Promise<void> {}
  async destroy(): Promise<void> {}
  async revokeByGrantId(): Promise<void> {}
}

let validator: Promise<Provider> | undefined;

/** A provider with the OP's client configuration, made once (key generation is slow). */
function validatorProvider(): Promise<Provider> {
  validator ??= (async () => {
    // Throw-away keys of the OP's algorithms: they decide which signing algorithms are valid.
    const jwks = providerJwks({ jwks: { keys: await initialSigningKeys() } });
    return new Provider('https://client-metadata.invalid', {
      ...CLIENT_CONFIGURATION,
      adapter: NoStorage,
      jwks: jwks as Configuration['jwks'],
      features: { ...CLIENT_FEATURES, devInteractions: { enabled: false } },
    });
  })();
  return validator;
}

/**
 * Validates `metadata` as the OP validates a client when it loads it, including fetching its
 * sector_identifier_uri. Throws ClientMetadataError with oidc-provider's message when the OP would
 * refuse it.
 */
export async function validateClientMetadata(metadata: Record<string, unknown>): Promise<void> {
  const provider = await validatorProvider();
  try {
    await provider.Client.validate(metadata as Parameters<typeof provider.Client.validate>[0]);
  } catch (error) {
    if (error instanceof errors.InvalidClientMetadata) {
      throw new ClientMetadataError(error.error_description ?? error.message, { cause: error });
    }
    // oidc-provider parses some URIs before checking them (the pairwise sector rule).
    const { code, input } = error as { code?: string; input?: string };
    if (code === 'ERR_INVALID_URL')
      throw new ClientMetadataError(`not a valid URI: ${input}`, { cause: error });
    throw error;
  }
}

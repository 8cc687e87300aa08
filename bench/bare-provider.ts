/**
 * The framework's floor for the login and cold-start benches: a bare oidc-provider with the same
 * signing keys, cookie keys and PKCE rule as the OP, and an interaction that logs a fixed account
 * in at once (no login page, no card, no challenge) and grants `openid`.
 */
import Provider, {
  type Adapter,
  type AdapterConstructor,
  type ClientMetadata,
  type Configuration,
} from 'oidc-provider';

/** The account every bare login signs in. */
export const BARE_ACCOUNT_ID = 'bench-account';

/**
 * The relying party of the benches, registered alike with the OP and the bare provider: code grant
 * only (no refresh token, which the bare provider would not issue either).
 */
export const BENCH_CLIENT = {
  client_id: 'bench-rp',
  client_secret: 'bench-rp-secret-0123456789abcdef0123456789',
  redirect_uris: ['https://rp.bench.example/cb'],
  grant_types: ['authorization_code'],
} satisfies ClientMetadata;

const INTERACTION = /^\/interaction\/([A-Za-z0-9_-]{1,64})$/;

/** What the bare provider is made of. */
export interface BareProviderOptions {
  readonly issuer: string;
  /** Private JWKS (as providerJwks gives it). */
  readonly jwks: { keys: object[] };
  readonly cookieKeys: readonly string[];
  /** Storage adapter; oidc-provider's in-memory adapter when absent. */
  readonly adapter?: AdapterConstructor | ((model: string) => Adapter);
  /** Static clients (with no adapter the clients must be given here). */
  readonly clients?: ClientMetadata[];
  /** Artifact lifetimes in seconds (oidc-provider's defaults, with a notice each, when absent). */
  readonly ttl?: Record<string, number>;
}

/** A bare provider whose interactions finish immediately with BARE_ACCOUNT_ID. */
export function createBareProvider(options: BareProviderOptions): Provider {
  const provider = new Provider(options.issuer, {
    ...(options.adapter ? { adapter: options.adapter } : {}),
    ...(options.clients ? { clients: options.clients } : {}),
    ...(options.ttl ? { ttl: options.ttl } : {}),
    findAccount: (_ctx, accountId) => ({ accountId, claims: () => ({ sub: accountId }) }),
    jwks: options.jwks as Configuration['jwks'],
    cookies: { keys: [...options.cookieKeys] },
    pkce: { required: () => true },
    responseTypes: ['code'],
    features: { devInteractions: { enabled: false } },
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  });
  provider.proxy = true;
  provider.use(async (ctx, next) => {
    if (ctx.method !== 'GET' || !INTERACTION.test(ctx.path)) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const grant = new provider.Grant({
      accountId: BARE_ACCOUNT_ID,
      clientId: String(details.params.client_id),
    });
    grant.addOIDCScope('openid');
    const grantId = await grant.save();
    const redirectTo = await provider.interactionResult(
      ctx.req,
      ctx.res,
      { login: { accountId: BARE_ACCOUNT_ID }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
    ctx.status = 303;
    ctx.redirect(redirectTo);
  });
  return provider;
}

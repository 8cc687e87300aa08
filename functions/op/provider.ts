/**
 * The OpenID Provider: oidc-provider configured for production use with card logins.
 *
 * Policies (documented here, tested in test/op):
 * - Code flow only, PKCE S256 required for every client (public and confidential, RFC 9700).
 * - Refresh tokens go to clients registered with the refresh_token grant when they obtained
 *   `offline_access` (needs prompt=consent, OIDC Core §11) — such tokens outlive the OP session —
 *   or, without offline_access, to confidential clients only, bound to the OP session (they stop
 *   working at logout). Public clients' refresh tokens rotate on every use.
 * - Subjects are pairwise by default (sector = host of the redirect URIs or of
 *   sector_identifier_uri); `public` must be asked for per client.
 * - Back-channel logout (OIDC Back-Channel Logout 1.0): clients may register a
 *   backchannel_logout_uri; sessions carry `sid` to them (backchannel_logout_session_required by
 *   default). The revocation job (revocation/notification/) sends logout tokens the same way.
 * - Claims: sub, acr, amr, auth_time — no personal data; the raw serial only as in raw-serial.ts.
 * - Lifetimes: code 60 s, access and ID token 10 min, interaction 10 min (the challenge inside it
 *   5 min), OP session 12 h in a browser-session cookie, grant and refresh token 14 days.
 * - `prompt=login` and `max_age` are honoured by oidc-provider's default policy; since the login
 *   interaction has no other way to finish than a fresh card signature, both force a new one.
 */
import Provider, { type Configuration, errors, type KoaContextWithOIDC } from 'oidc-provider';
import { providerJwks } from '../secrets/op-secrets.js';
import { pairwiseSubject } from '../subject/pairwise-subject.js';
import { adapterFor } from './adapter.js';
import { JPKI_ACR } from './claims.js';
import {
  CLIENT_FLAGS,
  FIRST_PARTY_FLAG,
  hasFlag,
  RAW_SERIAL_FLAG,
  warnRawSerialClients,
} from './client-flags.js';
import { type OpConfig, resolveOpConfig } from './config.js';
import { interactionRoutes, MYNA_RESULT } from './interactions/routes.js';
import { pageCsp } from './login-page/assets.js';
import { renderErrorPage, renderLogoutDonePage, renderLogoutPage } from './login-page/html.js';
import { negotiateLocale } from './login-page/locale.js';
import { RAW_SERIAL_CLAIM, RAW_SERIAL_MODEL, RAW_SERIAL_SCOPE, RawSerialCarrier } from './raw-serial.js';

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Artifact lifetimes in seconds (see the module comment). */
export const TTL = {
  AuthorizationCode: MINUTE,
  AccessToken: 10 * MINUTE,
  IdToken: 10 * MINUTE,
  Interaction: 10 * MINUTE,
  Session: 12 * HOUR,
  Grant: 14 * DAY,
  RefreshToken: 14 * DAY,
} as const;

function pageLocale(ctx: KoaContextWithOIDC) {
  const uiLocales = ctx.oidc?.params?.ui_locales;
  return negotiateLocale(typeof uiLocales === 'string' ? uiLocales : undefined, ctx.get('accept-language'));
}

/**
 * Creates the provider with the card-login interaction mounted, after checking the configuration
 * and warning about every registered client allowed to receive raw serials.
 */
export async function createProvider(input: OpConfig): Promise<Provider> {
  const config = resolveOpConfig(input);
  const { secrets, storage, logger } = config;
  const rawSerial = new RawSerialCarrier(
    secrets.subjectSecret,
    adapterFor(storage.adapter, RAW_SERIAL_MODEL),
  );
  const csp = pageCsp(config.helperPort);

  const configuration: Configuration = {
    adapter: storage.adapter,
    jwks: providerJwks(secrets) as Configuration['jwks'],
    cookies: { keys: [...secrets.cookieKeys] },
    acrValues: [JPKI_ACR],
    scopes: ['openid', 'offline_access', RAW_SERIAL_SCOPE],
    claims: {
      // acr and amr are asserted for every login, so they come with `openid` itself.
      openid: ['sub', 'acr', 'amr', 'auth_time'],
      sid: null,
      iss: null,
      [RAW_SERIAL_SCOPE]: [RAW_SERIAL_CLAIM],
    },
    // Scope claims in the ID token: the only one is the raw serial, which is never in userinfo.
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    pkce: { required: () => true },
    subjectTypes: ['pairwise', 'public'],
    pairwiseIdentifier: (_ctx, accountId, client) =>
      pairwiseSubject(secrets.subjectSecret, client.sectorIdentifier as string, accountId),
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
      subject_type: 'pairwise',
      // Back-channel logout with sid: ID tokens of clients with a backchannel_logout_uri carry
      // `sid`, so a logout token (RP-initiated logout, or the revocation job) names the session.
      backchannel_logout_session_required: true,
    },
    extraClientMetadata: {
      properties: [...CLIENT_FLAGS],
      validator(_ctx, key, value) {
        if (value !== undefined && typeof value !== 'boolean') {
          throw new errors.InvalidClientMetadata(`${key} must be a boolean`);
        }
      },
    },
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') &&
      (code.scopes.has('offline_access') || client.clientAuthMethod !== 'none'),
    ttl: {
      AuthorizationCode: TTL.AuthorizationCode,
      AccessToken: TTL.AccessToken,
      IdToken: TTL.IdToken,
      Interaction: TTL.Interaction,
      Session: TTL.Session,
      Grant: TTL.Grant,
      RefreshToken: TTL.RefreshToken,
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: false },
      introspection: { enabled: true, allowedPolicy: ownTokensOnly },
      revocation: { enabled: true, allowedPolicy: ownTokensOnly },
      userinfo: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.set('content-security-policy', csp);
          ctx.body = renderLogoutPage(pageLocale(ctx), form);
        },
        async postLogoutSuccessSource(ctx) {
          ctx.set('content-security-policy', csp);
          ctx.body = renderLogoutDonePage(pageLocale(ctx));
        },
      },
    },
    discovery: { ui_locales_supported: ['ja', 'en'], claim_types_supported: ['normal'] },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, accountId, token) {
      const account = await storage.accounts.find(accountId);
      if (!account) return undefined;
      return {
        accountId,
        async claims(use, scope) {
          const claims: { sub: string; [claim: string]: unknown } = { sub: accountId };
          const client = ctx.oidc.client;
          if (
            use === 'id_token' &&
            token?.kind === 'AuthorizationCode' &&
            client &&
            hasFlag(client, RAW_SERIAL_FLAG) &&
            scope.split(' ').includes(RAW_SERIAL_SCOPE)
          ) {
            const serial = await rawSerial.take(token.jti, client.clientId);
            if (serial) claims[RAW_SERIAL_CLAIM] = serial;
          }
          return claims;
        },
      };
    },
    async loadExistingGrant(ctx) {
      const client = ctx.oidc.client;
      const accountId = ctx.oidc.session?.accountId;
      if (!client || !accountId) return undefined;
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(client.clientId);
      const existing = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
      if (!hasFlag(client, FIRST_PARTY_FLAG)) return existing;
      // First-party clients skip consent: their grant always covers what they ask for.
      const grant = existing ?? new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId });
      grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(' '));
      await grant.save();
      return grant;
    },
    async renderError(ctx, out) {
      const locale = pageLocale(ctx);
      ctx.type = 'html';
      ctx.set('content-security-policy', csp);
      ctx.body = renderErrorPage(locale, String(out.error), String(out.error_description ?? out.error));
    },
  };

  const provider = new Provider(config.issuer, configuration);
  provider.proxy = true;

  provider.use(async (koaCtx, next) => {
    await next();
    // After the code of a card login is issued, park that login's sealed serial (raw-serial.ts).
    const { oidc } = koaCtx as unknown as Partial<KoaContextWithOIDC>;
    const myna = oidc?.result?.[MYNA_RESULT] as { sealedSerial?: string } | undefined;
    const code = oidc?.entities.AuthorizationCode;
    const sealed = myna?.sealedSerial;
    if (sealed && code && oidc?.route === 'resume') {
      await rawSerial.park(code.jti, sealed, TTL.AuthorizationCode);
    }
  });
  provider.use(interactionRoutes(provider, config, rawSerial));

  warnRawSerialClients(await storage.clients.list(), logger);
  return provider;
}

/**
 * Introspection and revocation answer a client only about its own tokens: this OP has no resource
 * servers that would need to introspect other clients' tokens, and a token must not tell one RP
 * anything about another RP's session.
 */
async function ownTokensOnly(_ctx: unknown, client: { clientId: string }, token: { clientId?: string }) {
  return token.clientId === client.clientId;
}

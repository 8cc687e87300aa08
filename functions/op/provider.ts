/**
 * The OpenID Provider: oidc-provider configured for production use with card logins.
 *
 * Policies (documented here, tested in test/op):
 * - Code flow only, PKCE S256 required for every client (public and confidential, RFC 9700).
 * - Refresh tokens go to clients registered with the refresh_token grant when they obtained
 *   `offline_access` (needs prompt=consent, OIDC Core §11) — such tokens outlive the OP session —
 *   or, without offline_access, to confidential clients only, bound to the OP session (they stop
 *   working at logout). Public clients' refresh tokens rotate on every use.
 * - Subjects are pairwise by default (sector = host name of the redirect URIs or of
 *   sector_identifier_uri, subject-for.ts); `public` must be asked for per client.
 * - Which client metadata is valid (scopes, auth methods, algorithms, defaults, the OP's flags,
 *   per-client FAPI 2.0) is configured in client-metadata.ts, which the CLI validates with too.
 *   A client asking for a scope it cannot get (the raw-serial scope, unflagged) gets invalid_scope.
 * - Back-channel logout (OIDC Back-Channel Logout 1.0): clients may register a
 *   backchannel_logout_uri; sessions carry `sid` to them (backchannel_logout_session_required by
 *   default). The revocation job (revocation/notification/) sends logout tokens the same way.
 * - Claims: sub, acr, amr, auth_time — no personal data; the raw serial only as in raw-serial.ts.
 * - Lifetimes: code 60 s, access and ID token 10 min, interaction 10 min (the challenge inside it
 *   5 min), OP session 12 h in a browser-session cookie, grant and refresh token 14 days.
 * - `prompt=login` and `max_age` are honoured by oidc-provider's default policy; since the login
 *   interaction has no other way to finish than a fresh card signature, both force a new one.
 *   A client flagged `myna_fresh_login` gets no single sign-on (fresh-login.ts), and no other RP
 *   gets the auth_time it saw.
 * - Requests are read as addressed to the issuer, whatever Host or X-Forwarded-* say
 *   (issuer-origin.ts); every answer gets the security headers of security-headers.ts.
 * - Cookies of an https issuer carry prefixes (cookieNames): `__Host-` where oidc-provider sets
 *   Path=/ (the session), `__Secure-` on the two it scopes to one interaction's path.
 */
import type Koa from 'koa';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { TTL } from '../defaults.js';
import type { OpLogger } from '../log/logger.js';
import { PrivateRpHosts } from '../revocation/notification/private-network.js';
import { providerJwks } from '../secrets/op-secrets.js';
import { type SubjectClient, subjectFor } from '../subject/subject-for.js';
import { adapterFor } from './adapter.js';
import { queueBackchannelLogouts } from './backchannel-logout.js';
import { cacheHeaders } from './cache-headers.js';
import { FIRST_PARTY_FLAG, hasFlag, RAW_SERIAL_FLAG, warnRawSerialClients } from './client-flags.js';
import { CLIENT_CONFIGURATION, CLIENT_FEATURES } from './client-metadata.js';
import { type OpConfig, resolveOpConfig } from './config.js';
import { freshLoginPolicy, recordFreshLogins } from './fresh-login.js';
import { interactionRoutes, MYNA_RESULT } from './interactions/routes.js';
import { pinRequestOrigin } from './issuer-origin.js';
import { pageHeaders } from './login-page/assets.js';
import { type ClientDisplay, clientDisplay } from './login-page/client-display.js';
import { renderErrorPage, renderLogoutDonePage, renderLogoutPage } from './login-page/html.js';
import { negotiateLocale } from './login-page/locale.js';
import { type Locale, oidcErrorMessage } from './login-page/messages.js';
import { privateRpFetch } from './private-rp-fetch.js';
import { RAW_SERIAL_CLAIM, RAW_SERIAL_MODEL, RAW_SERIAL_SCOPE, RawSerialCarrier } from './raw-serial.js';
import { securityHeaders } from './security-headers.js';
import { refuseConcurrentReplays, withOidcErrors } from './storage-errors.js';

/**
 * The cookie names of an https issuer (RFC 6265bis §4.1.3): browsers then take the cookies only
 * with Secure from that very host. oidc-provider scopes the interaction and resume cookies to one
 * interaction's path, which `__Host-` forbids (it requires Path=/), so those two are `__Secure-`.
 * An http issuer (the local stack) keeps oidc-provider's names: a prefixed cookie must be Secure,
 * which cookies of an http origin are not.
 */
function cookieNames(issuer: string): NonNullable<Configuration['cookies']>['names'] {
  if (new URL(issuer).protocol !== 'https:') return undefined;
  return {
    session: '__Host-session',
    interaction: '__Secure-interaction',
    resume: '__Secure-interaction_resume',
  };
}

/** The language of a page oidc-provider renders, and the client it is about (when known). */
function pageContext(ctx: KoaContextWithOIDC): { locale: Locale; client?: ClientDisplay } {
  const uiLocales = ctx.oidc?.params?.ui_locales;
  const locale = negotiateLocale(
    typeof uiLocales === 'string' ? uiLocales : undefined,
    ctx.get('accept-language'),
  );
  const client = ctx.oidc?.client;
  return client ? { locale, client: clientDisplay(client, locale) } : { locale };
}

/**
 * Creates the provider with the card-login interaction mounted, after checking the configuration;
 * warns (without holding the provider back) about every registered client allowed to receive raw
 * serials. `startupSettled` settles (never rejects) once that warning's client listing is over.
 */
export async function createProvider(
  input: OpConfig,
): Promise<{ readonly provider: Provider; readonly startupSettled: Promise<void> }> {
  const config = resolveOpConfig(input);
  const { secrets, storage, logger } = config;
  // Listed while the provider is built, for the start-up warning below.
  const registered = storage.clients.list();
  const rawSerial = new RawSerialCarrier(
    secrets.certificateKeySecret,
    adapterFor(storage.adapter, RAW_SERIAL_MODEL),
  );

  const configuration: Configuration = {
    adapter: withOidcErrors(storage.adapter),
    // Outgoing requests refuse private addresses except to the operator's allow-listed RP hosts.
    fetch: privateRpFetch(new PrivateRpHosts(config.privateRpHosts)),
    jwks: providerJwks(secrets) as Configuration['jwks'],
    cookies: { keys: [...secrets.cookieKeys], names: cookieNames(config.issuer) },
    // Scopes, auth methods, algorithms, client defaults and flags: client-metadata.ts.
    ...CLIENT_CONFIGURATION,
    claims: {
      // acr and amr are asserted for every login, so they come with `openid` itself.
      openid: ['sub', 'acr', 'amr', 'auth_time'],
      sid: null,
      iss: null,
      [RAW_SERIAL_SCOPE]: [RAW_SERIAL_CLAIM],
    },
    // Scope claims in the ID token: the only one is the raw serial, which is never in userinfo.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    pairwiseIdentifier: (_ctx, accountId, client) =>
      subjectFor(secrets.pairwiseSecret, client.metadata() as SubjectClient, accountId),
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
      ...CLIENT_FEATURES,
      devInteractions: { enabled: false },
      introspection: { enabled: true, allowedPolicy: ownTokensOnly },
      revocation: { enabled: true, allowedPolicy: ownTokensOnly },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          const { locale, client } = pageContext(ctx);
          ctx.set(pageHeaders(config.helperPort, client?.logoUri));
          ctx.body = renderLogoutPage(locale, form, client);
        },
        async postLogoutSuccessSource(ctx) {
          const { locale, client } = pageContext(ctx);
          ctx.set(pageHeaders(config.helperPort, client?.logoUri));
          ctx.body = renderLogoutDonePage(locale, client);
        },
      },
    },
    discovery: { ui_locales_supported: ['ja', 'en'], claim_types_supported: ['normal'] },
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
      policy: freshLoginPolicy(),
    },
    async findAccount(ctx, accountId, token) {
      // Resuming after a card login: that login's accountForLogin returned this very account, so it
      // is not read again (an erasure destroys the account's sessions and grants with it).
      const justLoggedIn = ctx.oidc.result?.login?.accountId === accountId;
      if (!justLoggedIn && !(await storage.accounts.find(accountId))) return undefined;
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
      const granted = grant.getOIDCScope();
      grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(' '));
      // A returning user's grant usually covers the request already: saving it unchanged would
      // write the same item (a grant keeps the expiry it was created with) and its index pointer.
      if (!existing || grant.getOIDCScope() !== granted) await grant.save();
      return grant;
    },
    async renderError(ctx, out) {
      // oidc-provider's error_description is English: a page shows its own text per error code.
      const { locale, client } = pageContext(ctx);
      const code = String(out.error);
      ctx.type = 'html';
      ctx.set(pageHeaders(config.helperPort, client?.logoUri));
      ctx.body = renderErrorPage({
        locale,
        code,
        text: oidcErrorMessage(locale, code),
        detail: out.error_description === undefined ? undefined : String(out.error_description),
        client,
      });
    },
  };

  const provider = new Provider(config.issuer, configuration);
  pinRequestOrigin(provider, config.issuer);
  refuseConcurrentReplays(provider);
  queueBackchannelLogouts(provider, config);
  recordFreshLogins(provider);

  provider.use(securityHeaders(config.issuer, config.helperPort));
  // Every 5xx is logged with its cause: oidc-provider's own routes report it as `server_error`,
  // everything else (the OP's middleware) reaches Koa's `error` event.
  provider.on('server_error', (ctx: KoaContextWithOIDC, error: unknown) =>
    logServerError(logger, ctx, error),
  );
  // (The provider is the Koa app; its types list only oidc-provider's own events.)
  (provider as unknown as NodeJS.EventEmitter).on('error', (error: unknown, ctx?: Koa.Context) => {
    const status = (error as { status?: unknown }).status;
    if (typeof status !== 'number' || status >= 500) logServerError(logger, ctx, error);
  });

  const { requestScope } = storage;
  if (requestScope) provider.use((_ctx, next) => requestScope.run(next));
  provider.use(cacheHeaders());
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

  // The first request needs no client list: the warning is logged once the Query answers (a
  // cold start does not wait for that round trip), and a failed listing is logged, not fatal.
  const startupSettled = registered.then(
    (clients) => void warnRawSerialClients(clients, logger),
    (error: unknown) =>
      logger.warn('client.list_failed', { error: error instanceof Error ? error.name : typeof error }),
  );
  return { provider, startupSettled };
}

/** The length of an error message kept in the log (storage and AWS messages are far shorter). */
const LOGGED_MESSAGE_CHARS = 300;

/**
 * Logs a 5xx: the route, method and path (never the query or body, which may carry a login hint
 * or a certificate) and the error chain's names, codes and messages. The OP's errors carry stable
 * codes and no personal data, and neither do storage and AWS errors.
 */
function logServerError(logger: OpLogger, ctx: Koa.Context | undefined, error: unknown): void {
  const causes: Record<string, unknown>[] = [];
  for (let cause = error; cause instanceof Error && causes.length < 4; cause = cause.cause) {
    const code = (cause as { code?: unknown }).code;
    causes.push({
      name: cause.name,
      ...(typeof code === 'string' ? { code } : {}),
      message: cause.message.slice(0, LOGGED_MESSAGE_CHARS),
    });
  }
  if (causes.length === 0) causes.push({ name: typeof error });
  const route = (ctx as Partial<KoaContextWithOIDC> | undefined)?.oidc?.route;
  logger.warn('http.server_error', {
    ...(route ? { route } : {}),
    ...(ctx ? { method: ctx.method, path: ctx.path } : {}),
    error: causes,
  });
}

/**
 * Introspection and revocation answer a client only about its own tokens: this OP has no resource
 * servers that would need to introspect other clients' tokens, and a token must not tell one RP
 * anything about another RP's session.
 */
async function ownTokensOnly(_ctx: unknown, client: { clientId: string }, token: { clientId?: string }) {
  return token.clientId === client.clientId;
}

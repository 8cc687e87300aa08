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
 *   Identity verification (issue #14, when the OP has signing trust anchors): the scopes `name
 *   address birthdate gender`, the `claims` parameter (checked by identity/identity-request.ts
 *   assertClaimsParameter) with OIDC for Identity Assurance `verified_claims`, derived age and
 *   address claims; the release of a transaction reaches its ID token and its access token's
 *   userinfo only, carried sealed (sealed-claims.ts, identity/provider-claims.ts).
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
import { accountServicesFor, recordCodeRelease } from '../accounts/op-account-services.js';
import type { ClaimsByScope } from '../accounts/release-of-code.js';
import { TTL } from '../defaults.js';
import { assertClaimsParameter } from '../identity/identity-request.js';
import { identityClaimsConfiguration, TransactionClaims } from '../identity/provider-claims.js';
import type { OpLogger } from '../log/logger.js';
import { PrivateRpHosts } from '../revocation/notification/private-network.js';
import { providerJwks } from '../secrets/op-secrets.js';
import { IDENTITY_EVIDENCE_MODEL, IdentityEvidenceStore } from '../storage/identity-evidence.js';
import { type SubjectClient, subjectFor } from '../subject/subject-for.js';
import { accountClient } from './account/account-client.js';
import { accountRoutes } from './account/routes.js';
import { adapterFor } from './adapter.js';
import { queueBackchannelLogouts } from './backchannel-logout.js';
import { cacheHeaders } from './cache-headers.js';
import { clientScopeConfiguration, FIRST_PARTY_FLAG, hasFlag, warnRawSerialClients } from './client-flags.js';
import { CLIENT_CONFIGURATION, CLIENT_FEATURES } from './client-metadata.js';
import { type OpConfig, resolveOpConfig } from './config.js';
import { freshLoginPolicy, recordFreshLogins } from './fresh-login.js';
import { mynaResultOf, withIdentityStep } from './interactions/identity-prompt.js';
import { interactionPageUrl } from './interactions/page-ticket.js';
import { interactionRoutes } from './interactions/routes.js';
import { pinRequestOrigin } from './issuer-origin.js';
import { pageHeaders } from './login-page/assets.js';
import { type ClientDisplay, clientDisplay } from './login-page/client-display.js';
import { renderErrorPage, renderLogoutDonePage, renderLogoutPage } from './login-page/html.js';
import { negotiateLocale } from './login-page/locale.js';
import { type Locale, oidcErrorMessage } from './login-page/messages.js';
import { privateRpFetch } from './private-rp-fetch.js';
import { RAW_SERIAL_CLAIM, RAW_SERIAL_SCOPE } from './raw-serial.js';
import { SEALED_CLAIMS_MODEL, SealedClaimsCarrier, type SealedTransactionClaims } from './sealed-claims.js';
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
  const sealedClaims = new SealedClaimsCarrier(
    secrets.certificateKeySecret,
    adapterFor(storage.adapter, SEALED_CLAIMS_MODEL),
  );
  /** The `sub` a client sees (pairwise unless it registered `public`, subject-for.ts). */
  const subjectOf = (client: { metadata(): object }, accountId: string) =>
    subjectFor(secrets.pairwiseSecret, client.metadata() as SubjectClient, accountId);
  const identity = identityClaimsConfiguration(config.identity);
  const transactionClaims = new TransactionClaims({
    issuer: config.issuer,
    settings: config.identity,
    carrier: sealedClaims,
    evidenceStore: new IdentityEvidenceStore(
      secrets.certificateKeySecret,
      adapterFor(storage.adapter, IDENTITY_EVIDENCE_MODEL),
      undefined,
      // Links each retained record to its account (the account page and the export list it).
      storage.accountData?.releaseHistory,
    ),
    secrets,
    subjectOf,
  });

  const configuration: Configuration = {
    adapter: withOidcErrors(storage.adapter),
    // Outgoing requests refuse private addresses except to the operator's allow-listed RP hosts.
    fetch: privateRpFetch(new PrivateRpHosts(config.privateRpHosts)),
    jwks: providerJwks(secrets) as Configuration['jwks'],
    cookies: { keys: [...secrets.cookieKeys], names: cookieNames(config.issuer) },
    // Scopes, auth methods, algorithms, client defaults and flags: client-metadata.ts.
    ...CLIENT_CONFIGURATION,
    // The identity scopes only with identity verification (not advertised, not kept in clients' scope).
    ...clientScopeConfiguration(config.identity.enabled),
    // The account page's own client (static, never stored): account/account-client.ts.
    clients: [accountClient(config.issuer)],
    claims: {
      // acr and amr are asserted for every login, so they come with `openid` itself.
      openid: ['sub', 'acr', 'amr', 'auth_time', ...identity.openidClaims],
      sid: null,
      iss: null,
      [RAW_SERIAL_SCOPE]: [RAW_SERIAL_CLAIM],
      ...identity.claims,
    },
    // Scope claims in the ID token: the raw serial (never in userinfo) and the identity scopes' facts
    // (in both, as the release places them).
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    pairwiseIdentifier: (_ctx, accountId, client) => subjectOf(client, accountId),
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
      claimsParameter: {
        enabled: true,
        async assertClaimsParameter(_ctx, claims, client) {
          assertClaimsParameter(claims, client?.metadata(), config.identity);
        },
      },
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
    discovery: {
      ui_locales_supported: ['ja', 'en'],
      claim_types_supported: ['normal'],
      ...identity.discovery,
    },
    interactions: {
      url: (_ctx, interaction) => interactionPageUrl(secrets.pairwiseSecret, interaction),
      policy: withIdentityStep(freshLoginPolicy(), config.identity),
    },
    async findAccount(ctx, accountId, token) {
      // Resuming after a card login: that login's accountForLogin returned this very account, so it
      // is not read again (an erasure destroys the account's sessions and grants with it).
      const justLoggedIn = ctx.oidc.result?.login?.accountId === accountId;
      if (!justLoggedIn && !(await storage.accounts.find(accountId))) return undefined;
      return {
        accountId,
        async claims(use, scope) {
          const client = ctx.oidc.client;
          // The raw serial and an identity release: only for the token of their own transaction.
          const transaction =
            client && token ? await transactionClaims.of(ctx, use, scope, token, client, accountId) : {};
          return { ...transaction, sub: accountId };
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
      grant.addOIDCClaims([...ctx.oidc.requestParamClaims]);
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
    // After the code of an interaction is issued, park its sealed claims (sealed-claims.ts).
    const { oidc } = koaCtx as unknown as Partial<KoaContextWithOIDC>;
    const myna = mynaResultOf(oidc?.result);
    const code = oidc?.entities.AuthorizationCode;
    const sealed: SealedTransactionClaims = {
      ...(typeof myna?.sealedSerial === 'string' ? { sealedSerial: myna.sealedSerial } : {}),
      ...(typeof myna?.identity?.sealed === 'string' ? { sealedIdentity: myna.identity.sealed } : {}),
    };
    if (Object.keys(sealed).length > 0 && code && oidc?.route === 'resume') {
      await sealedClaims.park(
        { jti: code.jti, clientId: code.clientId as string, accountId: code.accountId as string },
        sealed,
        TTL.AuthorizationCode,
      );
    }
    // The release history of a code just issued (names only; joins the request's batch write).
    await recordCodeRelease(storage, oidc, configuration.claims as ClaimsByScope, myna);
  });
  // The "My account" page (account/routes.ts), with the account services made on its first use.
  provider.use(accountRoutes(provider, config, () => accountServicesFor(provider, config)));
  provider.use(interactionRoutes(provider, config, sealedClaims));

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

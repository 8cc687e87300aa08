/**
 * The OP's own routes, mounted on the provider (provider.use): the login script, style sheet and
 * icon (also at /favicon.ico), and the interaction pages —
 *   GET  /interaction/:uid          login page (issues the challenge) or consent page; once the
 *                                   interaction is over, a page saying so with a way back;
 *   POST /interaction/:uid/login    certificate + signature (JSON or form) → login result;
 *   POST /interaction/:uid/confirm  consent given;
 *   POST /interaction/:uid/abort    login or consent cancelled: the RP gets access_denied.
 * Every POST must carry the interaction cookie of that uid and come from the OP's own origin.
 * The login limits (limits.ts) are checked here: answers and challenges per sign-in, and
 * authorization requests per client address (before oidc-provider stores an interaction).
 */
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { Interaction, InteractionResults } from 'oidc-provider';
import { VerificationError } from '../../jpki/errors.js';
import { FIRST_PARTY_FLAG, hasFlag } from '../client-flags.js';
import type { ResolvedOpConfig } from '../config.js';
import {
  FAVICON_PATH,
  FAVICON_SVG,
  LOGIN_SCRIPT_PATH,
  pageHeaders,
  STYLE_PATH,
  STYLE_SHEET,
} from '../login-page/assets.js';
import { type ClientDisplay, clientDisplay } from '../login-page/client-display.js';
import {
  renderConsentPage,
  renderErrorPage,
  renderInteractionDonePage,
  renderLoginPage,
} from '../login-page/html.js';
import { negotiateLocale } from '../login-page/locale.js';
import { loadLoginScript } from '../login-page/login-script.js';
import { fill, type Locale, message } from '../login-page/messages.js';
import type { RawSerialCarrier } from '../raw-serial.js';
import { cardLogin } from './card-login.js';
import { grantConsent } from './grant.js';
import { LoginLimits } from './limits.js';
import { LoginError } from './login-error.js';
import { assertSameOrigin, boundInteraction, clientAddress, readFields, wantsJson } from './request.js';

export { MYNA_RESULT } from './card-login.js';

/** A challenge refused by its limit counts as none (the page then says the sign-in is over). */
function overLimit(error: unknown): undefined {
  if (error instanceof LoginError && error.code === 'TOO_MANY_ATTEMPTS') return undefined;
  throw error;
}

const ROUTE = /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(login|confirm|abort))?$/;
/** Remembers, per finished interaction, which client it was for (so Back finds the way home). */
const DONE_COOKIE = 'myna_done';
const DONE_COOKIE_MS = 10 * 60 * 1000;

/** The middleware serving the assets and interaction routes; other requests pass through. */
export function interactionRoutes(
  provider: Provider,
  config: ResolvedOpConfig,
  rawSerial: RawSerialCarrier,
): Koa.Middleware {
  const limits = new LoginLimits({
    counter: config.storage.rateCounter,
    settings: config.limits,
    addressSecret: config.secrets.pairwiseSecret,
    logger: config.logger,
  });
  const authorizationPath = provider.pathFor('authorization');
  const localeOf = (ctx: Koa.Context, interaction?: Interaction): Locale =>
    negotiateLocale(
      typeof interaction?.params.ui_locales === 'string' ? interaction.params.ui_locales : undefined,
      ctx.get('accept-language'),
    );
  const displayOf = async (clientId: unknown, locale: Locale): Promise<ClientDisplay | undefined> => {
    if (typeof clientId !== 'string' || clientId === '') return undefined;
    // A client whose stored metadata oidc-provider refuses is shown by nothing but the page's text.
    const client = await provider.Client.find(clientId).catch(() => undefined);
    return client ? clientDisplay(client, locale) : undefined;
  };
  const page = (ctx: Koa.Context, status: number, html: string, client?: ClientDisplay) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set(pageHeaders(config.helperPort, client?.logoUri));
    ctx.body = html;
  };
  /** The text of a refusal; `Retry-After` with it when the refusal says when to retry. */
  const refusalText = (ctx: Koa.Context, locale: Locale, error: LoginError | VerificationError): string => {
    const retryAfter = error instanceof LoginError ? error.retryAfterSeconds : undefined;
    if (retryAfter !== undefined) ctx.set('retry-after', String(retryAfter));
    return fill(message(locale, error.code), { n: retryAfter ?? '' });
  };
  const errorPage = (
    ctx: Koa.Context,
    locale: Locale,
    error: LoginError | VerificationError,
    client?: ClientDisplay,
  ) => {
    const { code } = error;
    const status = error instanceof LoginError ? error.status : 400;
    page(
      ctx,
      status,
      renderErrorPage({ locale, code, text: refusalText(ctx, locale, error), client }),
      client,
    );
  };
  /** A new challenge for `uid`; LoginError TOO_MANY_ATTEMPTS once the sign-in had its share. */
  const issueChallenge = async (uid: string): Promise<string> => {
    await limits.challenge(uid);
    return config.storage.challenges.issue(uid);
  };
  const finish = async (
    ctx: Koa.Context,
    interaction: Interaction,
    result: InteractionResults,
    json: boolean,
  ) => {
    const redirectTo = await provider.interactionResult(ctx.req, ctx.res, result, {
      mergeWithLastSubmission: true,
    });
    ctx.cookies.set(DONE_COOKIE, encodeURIComponent(String(interaction.params.client_id)), {
      path: `/interaction/${interaction.uid}`,
      httpOnly: true,
      sameSite: 'lax',
      secure: ctx.secure,
      maxAge: DONE_COOKIE_MS,
      overwrite: true,
    });
    ctx.set('cache-control', 'no-store');
    if (json) ctx.body = { redirectTo };
    else {
      ctx.status = 303;
      ctx.redirect(redirectTo);
    }
  };
  /** The client of the interaction this browser finished at this URL, if any. */
  const finishedClient = (ctx: Koa.Context, locale: Locale) => {
    const clientId = ctx.cookies.get(DONE_COOKIE);
    return displayOf(clientId ? decodeURIComponent(clientId) : undefined, locale);
  };

  async function showInteraction(ctx: Koa.Context, uid: string): Promise<void> {
    let interaction: Interaction;
    try {
      interaction = await boundInteraction(provider, ctx, uid);
    } catch (error) {
      if (!(error instanceof LoginError)) throw error;
      // Back after signing in, an old tab, a bookmark: say the sign-in is over, link home.
      const locale = localeOf(ctx);
      const client = await finishedClient(ctx, locale);
      page(ctx, 200, renderInteractionDonePage(locale, client), client);
      return;
    }
    const locale = localeOf(ctx, interaction);
    const client = await provider.Client.find(String(interaction.params.client_id));
    const display = client ? clientDisplay(client, locale) : { name: String(interaction.params.client_id) };
    const abortUrl = `/interaction/${uid}/abort`;
    if (interaction.prompt.name === 'login') {
      const nonce = await issueChallenge(uid);
      page(
        ctx,
        200,
        renderLoginPage({
          locale,
          loginUrl: `/interaction/${uid}/login`,
          abortUrl,
          nonce,
          helperPort: config.helperPort,
          client: display,
          helperGuideUrl: config.helperGuideUrl,
        }),
        display,
      );
    } else if (hasFlag(client, FIRST_PARTY_FLAG)) {
      const result = { consent: { grantId: await grantConsent(provider, interaction) } };
      await finish(ctx, interaction, result, false);
    } else {
      const scopes = (interaction.prompt.details as { missingOIDCScope?: string[] }).missingOIDCScope ?? [];
      page(
        ctx,
        200,
        renderConsentPage({
          locale,
          client: display,
          scopes,
          confirmUrl: `/interaction/${uid}/confirm`,
          abortUrl,
        }),
        display,
      );
    }
  }

  async function login(ctx: Koa.Context, uid: string): Promise<void> {
    const json = wantsJson(ctx);
    let interaction: Interaction | undefined;
    try {
      assertSameOrigin(ctx, config.origin);
      interaction = await boundInteraction(provider, ctx, uid);
      await limits.answer(uid);
      const client = await provider.Client.find(String(interaction.params.client_id));
      const result = await cardLogin(interaction, await readFields(ctx), { config, rawSerial, client });
      config.logger.info('login.succeeded', { interaction: uid });
      await finish(ctx, interaction, result, json);
    } catch (error) {
      if (!(error instanceof LoginError || error instanceof VerificationError)) throw error;
      config.logger.info('login.refused', { interaction: uid, code: error.code });
      const locale = localeOf(ctx, interaction);
      // The interaction is still good: a fresh challenge lets the page try again (within limits).
      const retry = interaction && !(error instanceof LoginError && error.code === 'TOO_MANY_ATTEMPTS');
      const nonce = retry ? await issueChallenge(uid).catch(overLimit) : undefined;
      if (json) {
        ctx.status = error instanceof LoginError ? error.status : 400;
        ctx.set('cache-control', 'no-store');
        ctx.body = {
          error: { code: error.code, message: refusalText(ctx, locale, error) },
          ...(nonce ? { nonce } : {}),
        };
      } else errorPage(ctx, locale, error, await displayOf(interaction?.params.client_id, locale));
    }
  }

  /** Consent given (`confirm`), or the login or consent cancelled (`abort`: access_denied at the RP). */
  async function answer(ctx: Koa.Context, uid: string, action: 'confirm' | 'abort'): Promise<void> {
    assertSameOrigin(ctx, config.origin);
    const interaction = await boundInteraction(provider, ctx, uid);
    const prompt = interaction.prompt.name;
    if (prompt !== 'consent' && !(action === 'abort' && prompt === 'login')) {
      throw new LoginError('INTERACTION_MISMATCH');
    }
    const result: InteractionResults =
      action === 'confirm'
        ? { consent: { grantId: await grantConsent(provider, interaction) } }
        : {
            error: 'access_denied',
            error_description:
              prompt === 'login' ? 'End-User cancelled the sign-in' : 'End-User refused the authorization',
          };
    await finish(ctx, interaction, result, false);
  }

  const asset = (ctx: Koa.Context, type: string, body: string) => {
    ctx.type = type;
    ctx.set({ 'cache-control': 'public, max-age=300', 'x-content-type-options': 'nosniff' });
    ctx.body = body;
  };

  return async (ctx, next) => {
    if (ctx.method === 'GET' && ctx.path === LOGIN_SCRIPT_PATH) {
      return asset(ctx, 'application/javascript; charset=utf-8', await loadLoginScript());
    }
    if (ctx.method === 'GET' && ctx.path === STYLE_PATH)
      return asset(ctx, 'text/css; charset=utf-8', STYLE_SHEET);
    if (ctx.method === 'GET' && (ctx.path === FAVICON_PATH || ctx.path === '/favicon.ico')) {
      return asset(ctx, 'image/svg+xml', FAVICON_SVG);
    }
    if (ctx.path === authorizationPath) {
      try {
        await limits.authorization(clientAddress(ctx, config.clientAddressHeader));
      } catch (error) {
        if (!(error instanceof LoginError)) throw error;
        return errorPage(ctx, localeOf(ctx), error);
      }
      return next();
    }
    const match = ROUTE.exec(ctx.path);
    if (!match) return next();
    const [, uid = '', action] = match;
    try {
      if (ctx.method === 'GET' && !action) await showInteraction(ctx, uid);
      else if (ctx.method === 'POST' && action === 'login') await login(ctx, uid);
      else if (ctx.method === 'POST' && (action === 'confirm' || action === 'abort'))
        await answer(ctx, uid, action);
      else ctx.status = 405;
    } catch (error) {
      if (!(error instanceof LoginError)) throw error;
      const locale = localeOf(ctx);
      errorPage(ctx, locale, error, await finishedClient(ctx, locale));
    }
  };
}

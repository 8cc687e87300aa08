/**
 * The OP's own routes, mounted on the provider (provider.use): the login script and style sheet,
 * and the interaction pages —
 *   GET  /interaction/:uid          login page (issues the challenge) or consent page;
 *   POST /interaction/:uid/login    certificate + signature (JSON or form) → login result;
 *   POST /interaction/:uid/confirm  consent given;  POST /interaction/:uid/abort  consent refused.
 * Every POST must carry the interaction cookie of that uid and come from the OP's own origin.
 */
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { Interaction, InteractionResults } from 'oidc-provider';
import { VerificationError } from '../../jpki/errors.js';
import { FIRST_PARTY_FLAG, hasFlag } from '../client-flags.js';
import type { ResolvedOpConfig } from '../config.js';
import { LOGIN_SCRIPT_PATH, pageCsp, STYLE_PATH, STYLE_SHEET } from '../login-page/assets.js';
import { renderConsentPage, renderErrorPage, renderLoginPage } from '../login-page/html.js';
import { negotiateLocale } from '../login-page/locale.js';
import { loadLoginScript } from '../login-page/login-script.js';
import { type Locale, message } from '../login-page/messages.js';
import type { RawSerialCarrier } from '../raw-serial.js';
import { cardLogin } from './card-login.js';
import { grantConsent } from './grant.js';
import { LoginError } from './login-error.js';
import { assertSameOrigin, boundInteraction, readFields, wantsJson } from './request.js';

export { MYNA_RESULT } from './card-login.js';

const ROUTE = /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(login|confirm|abort))?$/;

/** The middleware serving the assets and interaction routes; other requests pass through. */
export function interactionRoutes(
  provider: Provider,
  config: ResolvedOpConfig,
  rawSerial: RawSerialCarrier,
): Koa.Middleware {
  const csp = pageCsp(config.helperPort);
  const localeOf = (ctx: Koa.Context, interaction?: Interaction): Locale =>
    negotiateLocale(
      typeof interaction?.params.ui_locales === 'string' ? interaction.params.ui_locales : undefined,
      ctx.get('accept-language'),
    );
  const page = (ctx: Koa.Context, status: number, html: string) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set({
      'content-security-policy': csp,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    ctx.body = html;
  };
  const finish = async (ctx: Koa.Context, result: InteractionResults, json: boolean) => {
    const redirectTo = await provider.interactionResult(ctx.req, ctx.res, result, {
      mergeWithLastSubmission: true,
    });
    ctx.set('cache-control', 'no-store');
    if (json) ctx.body = { redirectTo };
    else {
      ctx.status = 303;
      ctx.redirect(redirectTo);
    }
  };

  async function showInteraction(ctx: Koa.Context, uid: string): Promise<void> {
    const interaction = await boundInteraction(provider, ctx, uid);
    const locale = localeOf(ctx, interaction);
    const client = await provider.Client.find(String(interaction.params.client_id));
    const clientName = client?.clientName ?? String(interaction.params.client_id);
    if (interaction.prompt.name === 'login') {
      const nonce = await config.storage.challenges.issue(uid);
      page(
        ctx,
        200,
        renderLoginPage({
          locale,
          loginUrl: `/interaction/${uid}/login`,
          nonce,
          helperPort: config.helperPort,
          clientName,
          helperGuideUrl: config.helperGuideUrl,
        }),
      );
    } else if (hasFlag(client, FIRST_PARTY_FLAG)) {
      await finish(ctx, { consent: { grantId: await grantConsent(provider, interaction) } }, false);
    } else {
      const scopes = (interaction.prompt.details as { missingOIDCScope?: string[] }).missingOIDCScope ?? [];
      page(
        ctx,
        200,
        renderConsentPage({
          locale,
          clientName,
          scopes,
          confirmUrl: `/interaction/${uid}/confirm`,
          abortUrl: `/interaction/${uid}/abort`,
        }),
      );
    }
  }

  async function login(ctx: Koa.Context, uid: string): Promise<void> {
    const json = wantsJson(ctx);
    let interaction: Interaction | undefined;
    try {
      assertSameOrigin(ctx, config.origin);
      interaction = await boundInteraction(provider, ctx, uid);
      const client = await provider.Client.find(String(interaction.params.client_id));
      const result = await cardLogin(interaction, await readFields(ctx), { config, rawSerial, client });
      config.logger.info('login.succeeded', { interaction: uid });
      await finish(ctx, result, json);
    } catch (error) {
      if (!(error instanceof LoginError || error instanceof VerificationError)) throw error;
      config.logger.info('login.refused', { interaction: uid, code: error.code });
      const locale = localeOf(ctx, interaction);
      const text = message(locale, error.code);
      // The interaction is still good: a fresh challenge lets the page try again.
      const nonce = interaction ? await config.storage.challenges.issue(uid) : undefined;
      const status = error instanceof LoginError ? error.status : 400;
      if (json) {
        ctx.status = status;
        ctx.set('cache-control', 'no-store');
        ctx.body = { error: { code: error.code, message: text }, ...(nonce ? { nonce } : {}) };
      } else page(ctx, status, renderErrorPage(locale, error.code, text));
    }
  }

  async function consent(ctx: Koa.Context, uid: string, given: boolean): Promise<void> {
    assertSameOrigin(ctx, config.origin);
    const interaction = await boundInteraction(provider, ctx, uid);
    if (interaction.prompt.name !== 'consent') throw new LoginError('INTERACTION_MISMATCH');
    const result: InteractionResults = given
      ? { consent: { grantId: await grantConsent(provider, interaction) } }
      : { error: 'access_denied', error_description: 'End-User refused the authorization' };
    await finish(ctx, result, false);
  }

  return async (ctx, next) => {
    if (ctx.method === 'GET' && ctx.path === LOGIN_SCRIPT_PATH) {
      ctx.type = 'application/javascript; charset=utf-8';
      ctx.set({ 'cache-control': 'public, max-age=300', 'x-content-type-options': 'nosniff' });
      ctx.body = await loadLoginScript();
      return;
    }
    if (ctx.method === 'GET' && ctx.path === STYLE_PATH) {
      ctx.type = 'text/css; charset=utf-8';
      ctx.set({ 'cache-control': 'public, max-age=300', 'x-content-type-options': 'nosniff' });
      ctx.body = STYLE_SHEET;
      return;
    }
    const match = ROUTE.exec(ctx.path);
    if (!match) return next();
    const [, uid = '', action] = match;
    try {
      if (ctx.method === 'GET' && !action) await showInteraction(ctx, uid);
      else if (ctx.method === 'POST' && action === 'login') await login(ctx, uid);
      else if (ctx.method === 'POST' && (action === 'confirm' || action === 'abort')) {
        await consent(ctx, uid, action === 'confirm');
      } else ctx.status = 405;
    } catch (error) {
      if (!(error instanceof LoginError)) throw error;
      const locale = localeOf(ctx);
      page(ctx, error.status, renderErrorPage(locale, error.code, message(locale, error.code)));
    }
  };
}

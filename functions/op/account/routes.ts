/**
 * The "My account" routes, mounted on the provider (provider.use) before the interaction routes:
 *   GET  /account                      the overview; without an account session, the card login
 *                                      (the OP's own authorization endpoint, client `myna-account`,
 *                                      account-client.ts) — `?done=` reports the action just made;
 *   GET  /account/callback             the login's code exchanged in-process (code-exchange.ts) →
 *                                      the account session (account-session.ts) → the overview;
 *   GET  /account/export               the account's JSON document, as a download;
 *   GET  /account/delete               the deletion's confirmation page;
 *   POST /account/withdraw             one service's access withdrawn (`client_id`);
 *   POST /account/sign-out-everywhere  every session of the account ended, services told;
 *   POST /account/delete               the account erased (`confirm=yes`), then /account/deleted;
 *   POST /account/sign-out             the account session ended, then /account/signed-out;
 *   GET  /account/deleted, /account/signed-out   what happened, with a way to sign in again.
 * Every POST must be marked same-origin by the browser (interactions/request.ts assertSameOrigin:
 * Sec-Fetch-Site, else Origin) and carry the session's CSRF token; the session cookie itself is
 * SameSite=Strict. Pages get a stricter CSP than the login page (no script at all, forms only to
 * the OP): `default-src 'none'`, images from the OP and the shown services' logo origins.
 */
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { AccountServices } from '../../accounts/account-services.js';
import { TTL } from '../../defaults.js';
import { adapterFor } from '../adapter.js';
import type { ResolvedOpConfig } from '../config.js';
import { LoginError } from '../interactions/login-error.js';
import { assertSameOrigin, readFields } from '../interactions/request.js';
import { IMMUTABLE_CACHE_CONTROL } from '../login-page/assets.js';
import { clientDisplay } from '../login-page/client-display.js';
import { negotiateLocale } from '../login-page/locale.js';
import type { Locale } from '../login-page/messages.js';
import { ACCOUNT_PATH } from './account-client.js';
import { AccountError } from './account-error.js';
import { type AccountSession, AccountSessions } from './account-session.js';
import { ACCOUNT_SESSION_MODEL } from './account-session-id.js';
import {
  accountAuthorizationUrl,
  constantTimeEqual,
  discardAccountCode,
  exchangeAccountCode,
  newPendingLogin,
  type PendingAccountLogin,
} from './code-exchange.js';
import type { AccountNotice, ShownService } from './pages.js';
import { ACCOUNT_STYLE_PATH, ACCOUNT_STYLE_SHEET } from './style.js';

/**
 * The page renderers with their texts (pages.ts, texts.ts), loaded by the first account page of
 * an instance rather than by every cold start: most requests an instance answers (discovery,
 * JWKS, tokens, logins) never show one. A failed load fails that request (and every later one)
 * with its error, as a missing module at start-up would fail them all.
 */
let pagesModule: Promise<typeof import('./pages.js')> | undefined;
function accountPages(): Promise<typeof import('./pages.js')> {
  pagesModule ??= import('./pages.js');
  return pagesModule;
}

/** What the page asks of the account services (accounts/account-services.ts). */
export type AccountPageServices = Pick<
  AccountServices,
  'overview' | 'withdraw' | 'signOutEverywhere' | 'exportAccount' | 'eraseAccount'
>;

const ROUTE =
  /^\/account(?:\/(callback|export|delete|deleted|signed-out|withdraw|sign-out-everywhere|sign-out))?$/;

/** The CSP of the account pages: no script, forms only to the OP, images from `imageOrigins`. */
export function accountPageCsp(imageOrigins: readonly string[] = []): string {
  return [
    "default-src 'none'",
    "style-src 'self'",
    ['img-src', "'self'", ...new Set(imageOrigins)].join(' '),
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The cookie holding a started login's state and PKCE verifier until its callback. */
function pendingCookieName(issuer: string): string {
  return new URL(issuer).protocol === 'https:' ? '__Host-myna-account-login' : 'myna-account-login';
}

/** The middleware serving the account routes; other requests pass through. */
export function accountRoutes(
  provider: Provider,
  config: ResolvedOpConfig,
  servicesOf: () => AccountPageServices,
): Koa.Middleware {
  // Made on the first account request: an OP whose storage has no account data serves the rest.
  let made: AccountPageServices | undefined;
  const services = (): AccountPageServices => (made ??= servicesOf());

  const sessions = new AccountSessions(
    adapterFor(config.storage.adapter, ACCOUNT_SESSION_MODEL),
    config.issuer,
  );
  const pendingCookie = pendingCookieName(config.issuer);
  const localeOf = (ctx: Koa.Context): Locale => negotiateLocale(undefined, ctx.get('accept-language'));

  const page = (ctx: Koa.Context, status: number, html: string, imageOrigins: readonly string[] = []) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set({ 'content-security-policy': accountPageCsp(imageOrigins), 'cache-control': 'no-store' });
    ctx.body = html;
  };
  const seeOther = (ctx: Koa.Context, location: string) => {
    ctx.set('cache-control', 'no-store');
    ctx.status = 303;
    ctx.redirect(location);
  };

  /** Starts the card login for the page: state and verifier in a cookie, then the OP's authorization endpoint. */
  function startLogin(ctx: Koa.Context): void {
    const pending = newPendingLogin();
    ctx.cookies.set(pendingCookie, `${pending.state}.${pending.codeVerifier}`, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: ctx.secure,
      maxAge: TTL.Interaction * 1000,
      overwrite: true,
    });
    seeOther(ctx, accountAuthorizationUrl(provider, config.issuer, pending, localeOf(ctx)));
  }

  /** The login this browser started, taken (the cookie is cleared whatever the callback brings). */
  function takePendingLogin(ctx: Koa.Context): PendingAccountLogin | undefined {
    const value = ctx.cookies.get(pendingCookie);
    ctx.cookies.set(pendingCookie, null, { path: '/', httpOnly: true, secure: ctx.secure, overwrite: true });
    const [state, codeVerifier, ...rest] = (value ?? '').split('.');
    return state && codeVerifier && rest.length === 0 ? { state, codeVerifier } : undefined;
  }

  async function callback(ctx: Koa.Context): Promise<void> {
    const pending = takePendingLogin(ctx);
    const { state, code, error } = ctx.query;
    if (!pending || typeof state !== 'string' || !constantTimeEqual(state, pending.state)) {
      if (typeof code === 'string') await discardAccountCode(provider, code);
      throw new AccountError('LOGIN_STATE_MISMATCH');
    }
    if (typeof error === 'string') throw new AccountError('LOGIN_CANCELLED');
    if (typeof code !== 'string') throw new AccountError('LOGIN_CODE_INVALID');
    const login = await exchangeAccountCode(provider, config.issuer, code, pending.codeVerifier);
    await sessions.begin(ctx, login.accountId, login.authTime);
    config.logger.info('account.signed_in', {});
    seeOther(ctx, ACCOUNT_PATH);
  }

  /**
   * The services of `accountId` as the page shows them, named as the login page names them (the
   * page's own client is never among them: accountServicesFor leaves it out).
   */
  async function shownServices(accountId: string, locale: Locale) {
    const overview = await services().overview(accountId);
    const shown = await Promise.all(
      overview.services.map(async (entry): Promise<ShownService> => {
        const client = await provider.Client.find(entry.clientId).catch(() => undefined);
        const display = client ? clientDisplay(client, locale) : undefined;
        const logoUri = display ? display.logoUri : httpsUrl(entry.logoUri);
        return {
          entry,
          name: display?.name ?? entry.name ?? entry.clientId,
          ...(logoUri ? { logoUri } : {}),
        };
      }),
    );
    return { overview, shown };
  }

  /** The notice of the action just made (`?done=`): only about a client the OP knows. */
  async function noticeOf(
    ctx: Koa.Context,
    shown: readonly ShownService[],
    locale: Locale,
  ): Promise<AccountNotice | undefined> {
    const { done, client } = ctx.query;
    if (done === 'signed-out-everywhere') return { kind: 'signed-out-everywhere' };
    if (done !== 'withdrawn' || typeof client !== 'string') return undefined;
    const listed = shown.find((candidate) => candidate.entry.clientId === client)?.name;
    const found = listed ?? (await provider.Client.find(client).catch(() => undefined));
    if (!found) return undefined;
    return { kind: 'withdrawn', name: typeof found === 'string' ? found : clientDisplay(found, locale).name };
  }

  async function overviewPage(ctx: Koa.Context, session: AccountSession): Promise<void> {
    const locale = localeOf(ctx);
    const { overview, shown } = await shownServices(session.accountId, locale);
    const notice = await noticeOf(ctx, shown, locale);
    const logos = shown.flatMap((service) => (service.logoUri ? [new URL(service.logoUri).origin] : []));
    const { renderAccountPage } = await accountPages();
    page(
      ctx,
      200,
      renderAccountPage({
        locale,
        overview,
        services: shown,
        csrfToken: session.csrfToken,
        sessionEndsAt: new Date(session.expiresAt * 1000),
        ...(notice ? { notice } : {}),
      }),
      logos,
    );
  }

  /** The deletion's confirmation, naming the services whose identity check records stay. */
  async function deleteConfirmPage(ctx: Koa.Context): Promise<void> {
    const session = await signedIn(ctx);
    const locale = localeOf(ctx);
    const { shown } = await shownServices(session.accountId, locale);
    const { renderDeleteConfirmPage } = await accountPages();
    page(ctx, 200, renderDeleteConfirmPage(locale, session.csrfToken, shown));
  }

  /** The session of a posted form, after the same-origin and CSRF checks, and the form's fields. */
  async function postedForm(
    ctx: Koa.Context,
  ): Promise<{ session: AccountSession; fields: Record<string, unknown> }> {
    try {
      assertSameOrigin(ctx, config.origin);
    } catch (error) {
      if (error instanceof LoginError) throw new AccountError('FORM_REFUSED', { cause: error });
      throw error;
    }
    const session = await sessions.current(ctx);
    if (!session) throw new AccountError('SESSION_EXPIRED');
    let fields: Record<string, unknown>;
    try {
      fields = await readFields(ctx);
    } catch (error) {
      if (error instanceof LoginError) throw new AccountError('FORM_INVALID', { cause: error });
      throw error;
    }
    if (typeof fields.csrf !== 'string' || !constantTimeEqual(fields.csrf, session.csrfToken)) {
      throw new AccountError('FORM_REFUSED');
    }
    return { session, fields };
  }

  /** The session of a page request (GET); AccountError SESSION_EXPIRED without one. */
  async function signedIn(ctx: Koa.Context): Promise<AccountSession> {
    const session = await sessions.current(ctx);
    if (!session) throw new AccountError('SESSION_EXPIRED');
    return session;
  }

  async function withdraw(ctx: Koa.Context): Promise<void> {
    const { session, fields } = await postedForm(ctx);
    const clientId = fields.client_id;
    const overview = await services().overview(session.accountId);
    const entry = overview.services.find((service) => service.clientId === clientId);
    if (!entry || !(entry.hasGrant || entry.sessions > 0)) throw new AccountError('FORM_INVALID');
    await services().withdraw(session.accountId, entry.clientId);
    config.logger.info('account.service_withdrawn', { client: entry.clientId });
    seeOther(ctx, `${ACCOUNT_PATH}?${new URLSearchParams({ done: 'withdrawn', client: entry.clientId })}`);
  }

  async function signOutEverywhere(ctx: Koa.Context): Promise<void> {
    const { session } = await postedForm(ctx);
    await services().signOutEverywhere(session.accountId);
    config.logger.info('account.signed_out_everywhere', {});
    seeOther(ctx, `${ACCOUNT_PATH}?done=signed-out-everywhere`);
  }

  async function exportDownload(ctx: Koa.Context): Promise<void> {
    const session = await signedIn(ctx);
    const document = await services().exportAccount(session.accountId);
    ctx.status = 200;
    ctx.set({
      'content-disposition': 'attachment; filename="myna-account.json"',
      'cache-control': 'no-store',
    });
    ctx.type = 'application/json; charset=utf-8';
    ctx.body = `${JSON.stringify(document, null, 2)}\n`;
  }

  async function erase(ctx: Koa.Context): Promise<void> {
    const { session, fields } = await postedForm(ctx);
    if (fields.confirm !== 'yes') throw new AccountError('FORM_INVALID');
    await services().eraseAccount(session.accountId);
    await sessions.end(ctx);
    config.logger.info('account.erased_by_holder', {});
    seeOther(ctx, `${ACCOUNT_PATH}/deleted`);
  }

  async function signOut(ctx: Koa.Context): Promise<void> {
    await postedForm(ctx);
    await sessions.end(ctx);
    seeOther(ctx, `${ACCOUNT_PATH}/signed-out`);
  }

  return async (ctx, next) => {
    if (ctx.method === 'GET' && ctx.path === ACCOUNT_STYLE_PATH) {
      ctx.type = 'text/css; charset=utf-8';
      ctx.set('cache-control', IMMUTABLE_CACHE_CONTROL);
      ctx.body = ACCOUNT_STYLE_SHEET;
      return;
    }
    const match = ROUTE.exec(ctx.path);
    if (!match) return next();
    const action = match[1];
    const locale = localeOf(ctx);
    try {
      if (ctx.method === 'GET' && !action) {
        const session = await sessions.current(ctx);
        if (session) await overviewPage(ctx, session);
        else startLogin(ctx);
      } else if (ctx.method === 'GET' && action === 'callback') await callback(ctx);
      else if (ctx.method === 'GET' && action === 'export') await exportDownload(ctx);
      else if (ctx.method === 'GET' && action === 'delete') await deleteConfirmPage(ctx);
      else if (ctx.method === 'GET' && action === 'deleted')
        page(ctx, 200, (await accountPages()).renderDeletedPage(locale));
      else if (ctx.method === 'GET' && action === 'signed-out')
        page(ctx, 200, (await accountPages()).renderSignedOutPage(locale));
      else if (ctx.method === 'POST' && action === 'withdraw') await withdraw(ctx);
      else if (ctx.method === 'POST' && action === 'sign-out-everywhere') await signOutEverywhere(ctx);
      else if (ctx.method === 'POST' && action === 'delete') await erase(ctx);
      else if (ctx.method === 'POST' && action === 'sign-out') await signOut(ctx);
      else ctx.status = 405;
    } catch (error) {
      if (!(error instanceof AccountError)) throw error;
      config.logger.info('account.refused', { code: error.code });
      page(ctx, error.status, (await accountPages()).renderAccountErrorPage(locale, error.code));
    }
  };
}

/** `value` when it is an https URL (a logo the page may show), else undefined. */
function httpsUrl(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    return new URL(value).protocol === 'https:' ? value : undefined;
  } catch {
    return undefined;
  }
}

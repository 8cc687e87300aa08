/**
 * The security headers of the OP's answers, set in one place for every route — the OP's own
 * pages and the ones oidc-provider renders itself (the `form_post` page that carries the code, the
 * resume-time logout confirmation):
 * - every HTML answer: the pages' Content-Security-Policy (login-page/assets.ts: no inline code,
 *   `frame-ancestors 'none'`, `base-uri 'none'`), `X-Content-Type-Options: nosniff` and
 *   `Referrer-Policy: same-origin`. The CSP is set before the route runs, so oidc-provider adds
 *   the SHA-256 of its one inline script (the form_post auto-submit) to `script-src` itself
 *   (its script_src_sha helper); the OP's pages replace it with their own (logo origin). A
 *   form_post callback therefore reaches the RP with `Origin: null` and no `Referer`.
 * - every answer of an https issuer: `Strict-Transport-Security` (HSTS_MAX_AGE_SECONDS, without
 *   includeSubDomains: the OP owns its host, not the names under it); never on http (local stack).
 * - every answer: `X-Content-Type-Options: nosniff`.
 */
import type { Middleware } from 'koa';
import { HSTS_MAX_AGE_SECONDS } from '../defaults.js';
import { PAGE_REFERRER_POLICY, pageCsp } from './login-page/assets.js';

/** The Strict-Transport-Security value of an https issuer. */
export const HSTS_VALUE = `max-age=${HSTS_MAX_AGE_SECONDS}`;

/** Koa middleware for `provider.use(...)`, mounted before every other one. */
export function securityHeaders(issuer: string, helperPort: number): Middleware {
  const https = new URL(issuer).protocol === 'https:';
  const csp = pageCsp(helperPort);
  return async (ctx, next) => {
    ctx.set('content-security-policy', csp);
    try {
      await next();
    } finally {
      ctx.set('x-content-type-options', 'nosniff');
      if (https) ctx.set('strict-transport-security', HSTS_VALUE);
      if (ctx.response.is('html')) ctx.set('referrer-policy', PAGE_REFERRER_POLICY);
      else ctx.remove('content-security-policy');
    }
  };
}

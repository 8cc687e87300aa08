/**
 * HTTP caching of the two documents every RP fetches: discovery (`/.well-known/*`) and the JWKS.
 * Both get `Cache-Control: public, max-age=…` and a strong `ETag` (a hash of the exact body), and a
 * conditional GET whose `If-None-Match` matches answers 304 without a body.
 *
 * Why these lifetimes are safe with the two-step key rotation (secrets/signing-keys.ts): a new key
 * is published as `next` one rotation before it signs anything, so an RP whose cached JWKS is at
 * most JWKS_MAX_AGE_SECONDS (functions/defaults.ts) old already holds it, provided rotation steps are more than
 * that apart (they must be anyway: longer than the longest token lifetime, and in practice days).
 * A retiring key is dropped only a whole rotation after it stopped signing, when every token it
 * signed has expired, so a stale cache that still lists it is harmless. Discovery does not change
 * at a rotation (it names the JWKS URL, not the keys), so it is cached longer.
 */
import { createHash } from 'node:crypto';
import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { DISCOVERY_MAX_AGE_SECONDS, JWKS_MAX_AGE_SECONDS } from '../defaults.js';

/** oidc-provider route name → max-age of its answer. */
const MAX_AGE_BY_ROUTE: Readonly<Record<string, number>> = {
  jwks: JWKS_MAX_AGE_SECONDS,
  discovery: DISCOVERY_MAX_AGE_SECONDS,
};

/** The strong ETag of a response body as Koa will send it. */
function entityTag(body: unknown): string {
  const bytes = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  return `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`;
}

/**
 * Whether an If-None-Match field names `etag` (RFC 9110 §13.1.2: `*` or a list, weak comparison).
 * Koa's `ctx.fresh` is not used: it ignores If-None-Match when the request says
 * `Cache-Control: no-cache`, which fetch() adds to every conditional request.
 */
function noneMatchHits(field: string, etag: string): boolean {
  if (field.trim() === '*') return true;
  return field.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/** Koa middleware for `provider.use(...)`: caching headers and 304s on discovery and JWKS. */
export function cacheHeaders(): Middleware {
  return async (koaCtx, next) => {
    await next();
    const route = (koaCtx as unknown as Partial<KoaContextWithOIDC>).oidc?.route;
    const maxAge = route === undefined ? undefined : MAX_AGE_BY_ROUTE[route];
    if (maxAge === undefined || koaCtx.status !== 200 || koaCtx.body == null) return;
    if (koaCtx.method !== 'GET' && koaCtx.method !== 'HEAD') return;
    koaCtx.set('cache-control', `public, max-age=${maxAge}`);
    const etag = entityTag(koaCtx.body);
    koaCtx.set('etag', etag);
    // Setting 304 also drops the body.
    if (noneMatchHits(koaCtx.get('if-none-match'), etag)) koaCtx.status = 304;
  };
}

/**
 * The OP answers at exactly one origin: its issuer's. Every URL it builds from a request — the
 * endpoints in discovery, the interaction's `returnTo`, redirects, cookie `Secure` flags — comes
 * from Koa's `request.protocol`, `request.host` and `request.href`, which by default believe the
 * `Host`, `X-Forwarded-Host` and `X-Forwarded-Proto` headers (with `proxy = true`) and an
 * absolute-form request target (`GET http://evil.example/… HTTP/1.1`). Any client can send those,
 * so an attacker could make discovery name its own host for every endpoint.
 *
 * Here those three are pinned on the application's request prototype, so every Koa context the
 * provider creates — its own, and the ones `interactionDetails`/`interactionResult` create from the
 * raw request — sees the issuer's protocol and host, whatever the request says. Nothing else is
 * taken from forwarding headers (the app keeps `proxy = false`, so `ctx.ip` is the address the
 * socket or API Gateway reports, not `X-Forwarded-For`).
 */
import type Koa from 'koa';

/** Matches an absolute-form request target (Koa's own test for it). */
const ABSOLUTE_TARGET = /^https?:\/\//i;

/** The path and query of a request target in origin form or absolute form. */
function originForm(target: string): string {
  if (!ABSOLUTE_TARGET.test(target)) return target;
  const url = new URL(target);
  return `${url.pathname}${url.search}`;
}

/** Makes every request of `app` be read as addressed to `issuer` (an origin, see config.ts). */
export function pinRequestOrigin(app: Koa, issuer: string): void {
  const { host, protocol } = new URL(issuer);
  const scheme = protocol.slice(0, -1);
  app.proxy = false;
  Object.defineProperties(app.request, {
    host: { get: () => host, configurable: true },
    protocol: { get: () => scheme, configurable: true },
    href: {
      get(this: Koa.Request) {
        return `${scheme}://${host}${originForm(this.originalUrl)}`;
      },
      configurable: true,
    },
  });
}

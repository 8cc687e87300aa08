/**
 * The checks made on every HTTP request to the helper before anything else happens: the `Host`
 * header must be a loopback literal with the helper's port, so a DNS-rebinding page (whose Host
 * is its own name) is refused. `localhost` is refused too: it is a name, not a literal, and pages
 * are told to connect to ws://127.0.0.1:PORT. WebSocket upgrades must also carry an allowed Origin.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { OriginPolicy } from './origin-policy.js';

/** Why a request was refused (logged; the client only sees 403). */
export type RefusalReason =
  | 'HOST_REFUSED'
  | 'ORIGIN_MISSING'
  | 'ORIGIN_REFUSED'
  | 'ORIGIN_PRESENT'
  | 'NOT_NAVIGATION'
  /** Navigation path: the return address's site is not allowed. */
  | 'RETURN_ORIGIN_REFUSED'
  /** Navigation path: the return address is not exactly `<origin>/interaction/<uid>/card-answer`. */
  | 'RETURN_INVALID';

export type GuardResult = { readonly ok: true; readonly origin: string } | RefusedRequest;
export interface RefusedRequest {
  readonly ok: false;
  readonly reason: RefusalReason;
}

/** True when `host` is exactly `127.0.0.1:PORT` or `[::1]:PORT`. */
export function isLoopbackHost(host: string | undefined, port: number): boolean {
  return host === `127.0.0.1:${port}` || host === `[::1]:${port}`;
}

/** Checks a WebSocket upgrade; on success returns the origin that the card will sign for. */
export function checkUpgrade(headers: IncomingHttpHeaders, port: number, policy: OriginPolicy): GuardResult {
  if (!isLoopbackHost(headers.host, port)) return { ok: false, reason: 'HOST_REFUSED' };
  if (headers.origin === undefined) return { ok: false, reason: 'ORIGIN_MISSING' };
  const origin = policy.accept(headers.origin);
  return origin === undefined ? { ok: false, reason: 'ORIGIN_REFUSED' } : { ok: true, origin };
}

/** Loopback Host and no Origin at all: what both the status endpoint and the page require. */
function checkLocalRequest(headers: IncomingHttpHeaders, port: number): RefusedRequest | undefined {
  if (!isLoopbackHost(headers.host, port)) return { ok: false, reason: 'HOST_REFUSED' };
  if (headers.origin !== undefined) return { ok: false, reason: 'ORIGIN_PRESENT' };
  return undefined;
}

/** Where the browser says how it fetches (Fetch Metadata), only a top-level navigation passes. */
function isNavigation(headers: IncomingHttpHeaders): boolean {
  const mode = headers['sec-fetch-mode'];
  return mode === undefined || mode === 'navigate';
}

/**
 * Checks a plain GET of the local status endpoint: loopback Host, and no Origin at all, so only
 * local non-browser clients (`myna-helper status`) use it; web pages cannot, whatever their origin.
 * A browser request (Fetch Metadata) passes only as a navigation not started by another site.
 */
export function checkStatusRequest(headers: IncomingHttpHeaders, port: number): RefusedRequest | undefined {
  const refused = checkLocalRequest(headers, port);
  if (refused) return refused;
  if (!isNavigation(headers) || headers['sec-fetch-site'] === 'cross-site') {
    return { ok: false, reason: 'NOT_NAVIGATION' };
  }
  return undefined;
}

/**
 * Checks a request for the status page: loopback Host, no Origin, and where the browser says how
 * it fetches (Fetch Metadata), only a top-level navigation: a frame, a script, an image or a
 * fetch() of another page is refused. (A link from another site may open it.)
 */
export function checkStatusPageRequest(
  headers: IncomingHttpHeaders,
  port: number,
): RefusedRequest | undefined {
  const refused = checkLocalRequest(headers, port);
  if (refused) return refused;
  return isTopLevelDocument(headers) ? undefined : { ok: false, reason: 'NOT_NAVIGATION' };
}

/** Where the browser says how it fetches, a navigation to a document: no frame, image or script. */
function isTopLevelDocument(headers: IncomingHttpHeaders): boolean {
  const dest = headers['sec-fetch-dest'];
  return isNavigation(headers) && (dest === undefined || dest === 'document');
}

/**
 * Checks a request of the navigation path (`/authenticate…`): loopback Host, and where the
 * browser says how it fetches (Fetch Metadata), only a top-level navigation — no frame, no
 * fetch(), no prefetch or prerender — since each one opens the PIN window. The page that sent it
 * is another site (the login page), so Sec-Fetch-Site is not checked; the return address is.
 */
export function checkNavigationRequest(
  headers: IncomingHttpHeaders,
  port: number,
): RefusedRequest | undefined {
  if (!isLoopbackHost(headers.host, port)) return { ok: false, reason: 'HOST_REFUSED' };
  const speculative = headers['sec-purpose'] !== undefined || headers.purpose !== undefined;
  return isTopLevelDocument(headers) && !speculative ? undefined : { ok: false, reason: 'NOT_NAVIGATION' };
}

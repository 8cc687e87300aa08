/**
 * Reading the interaction requests: the bound interaction, the same-origin check, the client's
 * address and a small body.
 */
import { isIP } from 'node:net';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { Interaction } from 'oidc-provider';
import { LoginError } from './login-error.js';

/** Largest request body the interaction routes read (a certificate is ≤ 16 KiB, base64url 22 KiB). */
export const MAX_BODY_BYTES = 32 * 1024;

/**
 * The interaction bound to this browser by oidc-provider's interaction cookie, which must be the
 * one named in the URL (the cookie is the CSRF token: SameSite=Lax, signed, path-scoped to it).
 */
export async function boundInteraction(
  provider: Provider,
  ctx: Koa.Context,
  uid: string,
): Promise<Interaction> {
  let interaction: Interaction;
  try {
    interaction = await provider.interactionDetails(ctx.req, ctx.res);
  } catch (error) {
    throw new LoginError('INTERACTION_EXPIRED', { cause: error });
  }
  if (interaction.uid !== uid) throw new LoginError('INTERACTION_MISMATCH');
  return interaction;
}

/**
 * Refuses a POST that a browser does not mark as coming from the OP's own origin (CSRF). With
 * Fetch Metadata, `Sec-Fetch-Site` must be `same-origin` (a header no page can set); without it
 * (older browsers), `Origin` must be the OP's origin, so a missing or `null` Origin is refused.
 * The pages are served with `Referrer-Policy: same-origin`, under which browsers send the origin
 * on a same-origin POST; an `Origin` naming another origin is refused in every case. The
 * interaction cookie (SameSite=Lax, bound to the uid) is the second layer.
 */
export function assertSameOrigin(ctx: Koa.Context, origin: string): void {
  const site = ctx.get('sec-fetch-site');
  const claimed = ctx.get('origin');
  const sameOrigin = site ? site === 'same-origin' : claimed === origin;
  const otherOrigin = claimed !== '' && claimed !== 'null' && claimed !== origin;
  if (!sameOrigin || otherOrigin) throw new LoginError('CROSS_ORIGIN_REQUEST');
}

/**
 * The client's address for the per-address limit: the connection's peer (the local server's
 * socket; on Lambda, API Gateway's `sourceIp`, which serverless-http puts there) — never
 * `X-Forwarded-For`, which any client can write. With `header` (the proxy in front sets it and
 * nothing else can reach the OP: CloudFront-Viewer-Address behind origin verification, see
 * origin-verify.ts), the address in its `address:port` value (viewerAddress); a value that is
 * not one counts as the peer.
 */
export function clientAddress(ctx: Koa.Context, header?: string): string {
  const peer = ctx.req.socket.remoteAddress ?? '';
  const value = header ? ctx.get(header) : '';
  return (value && viewerAddress(value)) || peer;
}

/**
 * The IP address of a CloudFront-Viewer-Address value, which is always `address:port`:
 * `198.51.100.7:46532`, `2001:db8::1:443` (CloudFront's own IPv6 form, unbracketed: the port is
 * what follows the last colon) or `[2001:db8::1]:443`; undefined for anything else. Of a repeated
 * header (comma-joined), the last value: the one the proxy added.
 */
export function viewerAddress(value: string): string | undefined {
  const last = value.split(',').at(-1)?.trim() ?? '';
  const bracketed = /^\[([0-9a-fA-F:.]+)\]:[0-9]{1,5}$/.exec(last);
  if (bracketed) return isIP(bracketed[1] as string) === 6 ? bracketed[1] : undefined;
  const colon = last.lastIndexOf(':');
  const address = last.slice(0, colon);
  return colon > 0 && /^[0-9]{1,5}$/.test(last.slice(colon + 1)) && isIP(address) !== 0 ? address : undefined;
}

/** True when the client asked for JSON (the login script does; a plain form does not). */
export function wantsJson(ctx: Koa.Context): boolean {
  return ctx.is('application/json') === 'application/json' || ctx.accepts('html', 'json') === 'json';
}

/**
 * The request body as fields: JSON object or urlencoded form, at most MAX_BODY_BYTES. A form field
 * given more than once (the consent page's ticked boxes) is the list of its values.
 */
export async function readFields(ctx: Koa.Context): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new LoginError('ANSWER_MALFORMED');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (ctx.is('application/json')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        return parsed as Record<string, unknown>;
      }
    } catch (error) {
      throw new LoginError('ANSWER_MALFORMED', { cause: error });
    }
    throw new LoginError('ANSWER_MALFORMED');
  }
  const fields = new Map<string, string | string[]>();
  for (const [name, value] of new URLSearchParams(text)) {
    const before = fields.get(name);
    fields.set(name, before === undefined ? value : [before, value].flat());
  }
  return Object.fromEntries(fields);
}

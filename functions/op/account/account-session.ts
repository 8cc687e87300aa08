/**
 * The account page's own session, separate from the OP session oidc-provider keeps: it begins
 * only with a fresh card login made for the page (code-exchange.ts) and lasts
 * ACCOUNT_SESSION_SECONDS (defaults.ts, 15 minutes) from it, never renewed — the page is for a
 * short visit, and every action on it is covered by that card signature.
 *
 * - One session per account: its item is `MynaAccountSession#<accountSessionId(accountId)>`
 *   (account-session-id.ts), so an account's erasure deletes it without an index; a new login to
 *   the page (in another browser too) replaces the one before.
 * - The browser holds `<item id>.<random 256-bit token>` in the cookie `__Host-myna-account`
 *   (https issuer; `myna-account` on the http local stack, where a prefixed cookie cannot be set):
 *   HttpOnly, SameSite=Strict (no other site's link or form carries it, so a cross-site request
 *   reaches the page signed out), Path=/, Secure on https, expiring with the session.
 * - The item holds the SHA-256 of the token (a dump of the table cannot be replayed as a cookie),
 *   the account id, the login time, the expiry (checked on every read, besides the item's TTL) and
 *   the session's CSRF token, which every form of the page carries.
 * - Signing out, and the account's deletion, destroy the item: the cookie is then worthless.
 */
import { createHash, randomBytes } from 'node:crypto';
import type Koa from 'koa';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { ACCOUNT_SESSION_SECONDS } from '../../defaults.js';
import { accountSessionId } from './account-session-id.js';
import { constantTimeEqual } from './code-exchange.js';

/** One account-page session. */
export interface AccountSession {
  readonly accountId: string;
  /** Epoch seconds of the card login that began it. */
  readonly authTime: number;
  /** Epoch seconds after which it is over. */
  readonly expiresAt: number;
  /** The token every form of the page posts back (CSRF). */
  readonly csrfToken: string;
}

/** What the table keeps of a session. */
interface StoredSession extends AccountSession {
  /** SHA-256 of the cookie's token, base64url. */
  readonly tokenHash: string;
}

/** The cookie carrying the session for `issuer` (prefixed on https). */
export function accountCookieName(issuer: string): string {
  return new URL(issuer).protocol === 'https:' ? '__Host-myna-account' : 'myna-account';
}

const token = () => randomBytes(32).toString('base64url');
const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');
/** A cookie value the page could have set: item id and token (anything else is not looked up). */
const COOKIE_FORMAT = /^([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/;

/** Begins, reads and ends account-page sessions, in the table and in the browser's cookie. */
export class AccountSessions {
  readonly #store: Adapter;
  readonly #cookie: string;

  constructor(store: Adapter, issuer: string) {
    this.#store = store;
    this.#cookie = accountCookieName(issuer);
  }

  /** Begins the session of `accountId` after its card login at `authTime` (replacing any) and sets its cookie. */
  async begin(
    ctx: Koa.Context,
    accountId: string,
    authTime: number,
    now = Date.now(),
  ): Promise<AccountSession> {
    const id = accountSessionId(accountId);
    const secret = token();
    const nowSeconds = Math.floor(now / 1000);
    const expiresAt = Math.min(authTime, nowSeconds) + ACCOUNT_SESSION_SECONDS;
    const session: StoredSession = {
      accountId,
      authTime,
      expiresAt,
      csrfToken: token(),
      tokenHash: sha256(secret),
    };
    await this.#store.upsert(id, { ...session } as AdapterPayload, expiresAt - nowSeconds);
    ctx.cookies.set(this.#cookie, `${id}.${secret}`, {
      path: '/',
      httpOnly: true,
      sameSite: 'strict',
      secure: ctx.secure,
      maxAge: (expiresAt - nowSeconds) * 1000,
      overwrite: true,
    });
    return session;
  }

  /** The session this browser's cookie names, if it is still on (and still this browser's). */
  async current(ctx: Koa.Context, now = Date.now()): Promise<AccountSession | undefined> {
    const found = await this.#named(ctx);
    if (!found || found.stored.expiresAt <= now / 1000) return undefined;
    const { accountId, authTime, expiresAt, csrfToken } = found.stored;
    return { accountId, authTime, expiresAt, csrfToken };
  }

  /** Ends this browser's session: the stored item (unless a newer login replaced it) and the cookie. */
  async end(ctx: Koa.Context): Promise<void> {
    const found = await this.#named(ctx);
    if (found) await this.#store.destroy(found.id);
    ctx.cookies.set(this.#cookie, null, {
      path: '/',
      httpOnly: true,
      sameSite: 'strict',
      secure: ctx.secure,
      overwrite: true,
    });
  }

  /** The stored session the cookie names, when the cookie's token is the one it was begun with. */
  async #named(ctx: Koa.Context): Promise<{ id: string; stored: StoredSession } | undefined> {
    const match = COOKIE_FORMAT.exec(ctx.cookies.get(this.#cookie) ?? '');
    if (!match) return undefined;
    const [, id = '', secret = ''] = match;
    const stored = (await this.#store.find(id)) as Partial<StoredSession> | undefined;
    if (
      typeof stored?.accountId !== 'string' ||
      typeof stored.expiresAt !== 'number' ||
      typeof stored.authTime !== 'number' ||
      typeof stored.csrfToken !== 'string' ||
      typeof stored.tokenHash !== 'string' ||
      !constantTimeEqual(stored.tokenHash, sha256(secret))
    ) {
      return undefined;
    }
    return { id, stored: stored as StoredSession };
  }
}

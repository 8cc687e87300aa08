/**
 * No single sign-on for clients flagged `myna_fresh_login` (client-flags.ts), so their users'
 * `auth_time` cannot link them to other RPs.
 *
 * With SSO, every RP signed in from one OP session gets the session's `auth_time`: two RPs that
 * compare it (and the time of day) can tell that their pairwise subjects are one person. So:
 * - the flagged client gets a new card login on every authorization request (one more check in
 *   oidc-provider's login prompt; on resume the interaction's own login satisfies it), so its
 *   `auth_time` is always the time of its own card login;
 * - that login becomes the session's login (oidc-provider keeps one per session), so when the
 *   flagged client's login interaction ends the session remembers that time (`freshLoginTs` in
 *   the client's entry of the session's authorizations), and any other client asks for the card
 *   once more while the session's auth time is still that one. No other RP ever sees a time a flagged
 *   RP saw; after that next card login, SSO works as before for the other RPs.
 */
import type Provider from 'oidc-provider';
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { FRESH_LOGIN_FLAG, hasFlag } from './client-flags.js';

/** The session's note, in a flagged client's authorization entry, of the login time it saw. */
const FRESH_LOGIN_TS = 'freshLoginTs';

/** True when the session's current login was made for a flagged client, which saw its time. */
function loginSeenByFreshClient(ctx: KoaContextWithOIDC): boolean {
  const { session } = ctx.oidc;
  const loginTs = session?.loginTs;
  if (loginTs === undefined) return false;
  return Object.values(session?.authorizations ?? {}).some(
    (authorization) => (authorization as Record<string, unknown>)[FRESH_LOGIN_TS] === loginTs,
  );
}

/** oidc-provider's interaction policy with the fresh-login check added to its login prompt. */
export function freshLoginPolicy(): interactionPolicy.DefaultPolicy {
  const policy = interactionPolicy.base();
  policy
    .get('login')
    ?.checks.add(
      new interactionPolicy.Check(
        'fresh_login_required',
        'a new card login is required (no single sign-on for this client or this login)',
        'login_required',
        (ctx) =>
          !ctx.oidc.result?.login &&
          (hasFlag(ctx.oidc.client, FRESH_LOGIN_FLAG) || loginSeenByFreshClient(ctx)),
      ),
    );
  return policy;
}

/**
 * Notes in the session the login time of a flagged client's card login, as soon as its
 * interaction ends (before the session is saved, and before a consent step that follows could
 * let another RP's silent sign-in see it).
 */
export function recordFreshLogins(provider: Provider): void {
  provider.on('interaction.ended', (ctx) => {
    const { client, session, result } = ctx.oidc;
    if (!client || !session || !result?.login || !hasFlag(client, FRESH_LOGIN_FLAG)) return;
    session.ensureClientContainer(client.clientId);
    const authorization = session.authorizationFor(client.clientId) as Record<string, unknown>;
    authorization[FRESH_LOGIN_TS] = session.loginTs;
  });
}

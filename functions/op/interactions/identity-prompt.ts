/**
 * The identity step in oidc-provider's interaction policy (issue #14): for an authorization request
 * that asks for identity claims (functions/identity/identity-request.ts), a prompt `identity`
 * after `login` and before `consent`, where the page has the card sign with its signing key and
 * the person chooses, claim by claim, what the relying party receives (identity-step.ts).
 *
 * - An identity request always needs a card login in this very interaction (one more check in
 *   the login prompt, `identity_login_required`): single sign-on would give no user-auth
 *   certificate to compare the signing certificate's card with. That login records the user-auth
 *   certificate key in the OP's part of the result (card-login.ts; a key, never a serial).
 * - The prompt is needed while the interaction's result has no sealed release
 *   (`result.myna.identity`); it cannot be requested with `prompt=` (requestable: false), and with
 *   `prompt=none` the login check answers `login_required` first.
 * - Its details carry, as the consent prompt's do, the scopes and claims the grant still lacks, so
 *   the identity page's confirmation is also the consent (no second page).
 */
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { type IdentityRequestSettings, identityRequestOf } from '../../identity/identity-request.js';
import { MYNA_RESULT } from './card-login.js';

/** The prompt's name (interaction.prompt.name on the identity step). */
export const IDENTITY_PROMPT = 'identity';

/** The OP's part of an interaction result, as the identity step reads and extends it. */
export interface MynaResult {
  /** The sealed raw serial (raw-serial claim, card-login.ts). */
  readonly sealedSerial?: string;
  /** The certificate key of this interaction's card login (only for an identity request). */
  readonly userAuthCertificateKey?: string;
  /** The verified identity, sealed, between the identity answer and the person's choice. */
  readonly pendingIdentity?: string;
  /**
   * The release the person agreed to, sealed for the client (the end of the identity step), and
   * the names of the claims it holds (never a value: the release history reads them).
   */
  readonly identity?: { readonly sealed: string; readonly claimNames: readonly string[] };
}

/** The OP's part of `result` (an interaction result or last submission), if any. */
export function mynaResultOf(result: unknown): MynaResult | undefined {
  const myna = (result as Record<string, unknown> | undefined)?.[MYNA_RESULT];
  return typeof myna === 'object' && myna !== null ? (myna as MynaResult) : undefined;
}

function asksForIdentity(ctx: KoaContextWithOIDC, settings: IdentityRequestSettings): boolean {
  const { params, client } = ctx.oidc;
  return identityRequestOf(params ?? {}, client?.metadata(), settings) !== undefined;
}

/** The scopes and claims of the request the grant has not covered yet (as the consent prompt finds them). */
function missingGrants(ctx: KoaContextWithOIDC): {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
} {
  const { grant } = ctx.oidc;
  if (!grant) return {};
  const scopes = new Set(grant.getOIDCScopeEncountered().split(' '));
  const claims = new Set(grant.getOIDCClaimsEncountered());
  const alwaysThere = new Set(['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss']);
  const missingOIDCScope = [...ctx.oidc.requestParamOIDCScopes].filter((scope) => !scopes.has(scope));
  const missingOIDCClaims = [...ctx.oidc.requestParamClaims].filter(
    (claim) => !claims.has(claim) && !alwaysThere.has(claim),
  );
  return {
    ...(missingOIDCScope.length ? { missingOIDCScope } : {}),
    ...(missingOIDCClaims.length ? { missingOIDCClaims } : {}),
  };
}

/** `policy` (oidc-provider's prompts) with the identity login check and the identity prompt added. */
export function withIdentityStep(
  policy: interactionPolicy.DefaultPolicy,
  settings: IdentityRequestSettings,
): interactionPolicy.DefaultPolicy {
  policy
    .get('login')
    ?.checks.add(
      new interactionPolicy.Check(
        'identity_login_required',
        'identity verification needs a card login in this authorization request (no single sign-on)',
        'login_required',
        (ctx) => !ctx.oidc.result?.login && asksForIdentity(ctx, settings),
      ),
    );
  const identity = new interactionPolicy.Prompt(
    { name: IDENTITY_PROMPT, requestable: false },
    (ctx) => missingGrants(ctx),
    new interactionPolicy.Check(
      'identity_verification_required',
      'the requested identity claims need a verification with the signing certificate and the End-User’s choice',
      'interaction_required',
      (ctx) => !mynaResultOf(ctx.oidc.result)?.identity && asksForIdentity(ctx, settings),
    ),
  );
  const consentAt = policy.findIndex((prompt) => prompt.name === 'consent');
  policy.add(identity, consentAt === -1 ? policy.length : consentAt);
  return policy;
}

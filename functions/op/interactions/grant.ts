/**
 * Consent: the grant that covers what the interaction's consent prompt (or the identity step,
 * identity-prompt.ts) found missing; for a client flagged `myna_remember_identity_consent`, the
 * identity claims the person agreed to and declined, and the disclosures the page listed
 * (identity/disclosures.ts), remembered in that grant.
 */
import type Provider from 'oidc-provider';
import type { Grant, Interaction } from 'oidc-provider';
import type { IdentityDisclosures } from '../../identity/disclosures.js';

/**
 * A remembered identity choice is a claim name no request can ask for (so oidc-provider never
 * releases or filters by it): this prefix and the claim id, agreed (granted) or declined
 * (rejected, which wins over an earlier agreement; a later agreement withdraws it).
 */
const REMEMBERED_IDENTITY_CLAIM = 'myna_identity_consent:';

/** The identity claims the person chose on the consent page, to remember. */
export interface IdentityChoice {
  readonly agreed: readonly string[];
  readonly declined: readonly string[];
  /** What else the page listed and the person agreed to with the release. */
  readonly disclosures: IdentityDisclosures;
}

/**
 * The remembered names (without the prefix) of `disclosures`: `disclosure:certificate`,
 * `disclosure:retain:<days>` (another period is another disclosure) and `disclosure:serial`.
 */
function disclosureNames(disclosures: IdentityDisclosures): string[] {
  const { signingCertificate, retentionDays, signingSerial } = disclosures;
  return [
    ...(signingCertificate ? ['disclosure:certificate'] : []),
    ...(retentionDays !== undefined ? [`disclosure:retain:${retentionDays}`] : []),
    ...(signingSerial ? ['disclosure:serial'] : []),
  ];
}

/**
 * Creates or extends the interaction's grant with the missing scopes and claims (and `remember`'s
 * identity choice); returns its id.
 */
export async function grantConsent(
  provider: Provider,
  interaction: Interaction,
  remember?: IdentityChoice,
): Promise<string> {
  const { prompt, params, session, grantId } = interaction;
  const grant =
    (grantId ? await provider.Grant.find(grantId) : undefined) ??
    new provider.Grant({ accountId: session?.accountId, clientId: String(params.client_id) });
  const details = prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  if (remember) {
    const remembered = (claims: readonly string[]) =>
      claims.map((claim) => `${REMEMBERED_IDENTITY_CLAIM}${claim}`);
    const agreed = remembered([...remember.agreed, ...disclosureNames(remember.disclosures)]);
    if (agreed.length) grant.addOIDCClaims(agreed);
    // Agreed to now: an earlier "no" is withdrawn (oidc-provider has no call for it).
    const rejected = grant.rejected?.openid;
    if (rejected?.claims) rejected.claims = rejected.claims.filter((claim) => !agreed.includes(claim));
    if (remember.declined.length) grant.rejectOIDCClaims(remembered(remember.declined));
  }
  return grant.save();
}

/**
 * The identity claims `grant` remembers the person agreed to (and did not decline since), of
 * `claims`; undefined unless it remembers every one of them and every one of `disclosures` (the
 * release's now: a disclosure the person never saw listed, e.g. a client flagged for the evidence
 * since, means the person is asked again).
 */
export function rememberedIdentityChoice(
  grant: Grant | undefined,
  claims: readonly string[],
  disclosures: IdentityDisclosures,
): string[] | undefined {
  if (!grant) return undefined;
  const agreed = new Set(grant.getOIDCClaims());
  return [...claims, ...disclosureNames(disclosures)].every((name) =>
    agreed.has(`${REMEMBERED_IDENTITY_CLAIM}${name}`),
  )
    ? [...claims]
    : undefined;
}

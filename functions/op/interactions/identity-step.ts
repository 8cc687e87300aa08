/**
 * The identity step of an interaction (identity-prompt.ts): from the card's answer (both
 * certificates and a signature with the signing key) to the verified identity, and from the
 * person's choice to the sealed release.
 *
 * - The answer is verified against the OP's own origin and the nonce the route consumed (as the
 *   login answer is, card-login.ts), with the identity's own revocation setting
 *   (`identity.allowUnknownRevocation`, not the login's); the user-auth certificate it carries
 *   must have the certificate key of this interaction's card login (else CARD_MISMATCH). That
 *   certificate is public: only the link source (`identity.links`, J-LIS's look-up) proves the
 *   signing certificate is that card's; an OP without one (the operator's opt-in
 *   `identity.acceptUnlinkedSigningCertificates`) releases the facts of whoever holds a signing
 *   card and its password.
 * - Between the answer and the choice the verified identity exists only sealed (AES-256-GCM,
 *   bound to the interaction and the client) in the interaction's item, for the interaction's
 *   lifetime (`PendingIdentity`, `result.myna.pendingIdentity`); the consent page opens it to
 *   show the values, the confirmation opens it to build the release.
 * - The release holds only what the person left ticked (required claims always), sealed for the
 *   client (`result.myna.identity.sealed`); the provider parks it for the code and the tokens.
 *   For a client flagged `myna_remember_identity_consent` the choice (claim names only) is kept
 *   in its grant, and a later identity step whose claims were all agreed to skips the page
 *   (grant.ts) — unless the page would also be a consent (`prompt=consent`, a scope or claim the
 *   grant lacks: routes.ts); the card and the signing password are needed every time.
 */
import type { Interaction } from 'oidc-provider';
import type { IdentityRequest } from '../../identity/identity-request.js';
import { buildRelease } from '../../identity/release.js';
import type { BasicFacts } from '../../jpki/basic-facts.js';
import { VerificationError } from '../../jpki/errors.js';
import { type VerifiedIdentity, verifyIdentity } from '../../jpki/verify-identity.js';
import type { ResolvedOpConfig } from '../config.js';
import type { SealedClaimsCarrier } from '../sealed-claims.js';
import { decodeField } from './card-login.js';
import { mynaResultOf } from './identity-prompt.js';
import { LoginError } from './login-error.js';

/** The verified identity as it waits, sealed, for the person's choice (bytes as base64url). */
export interface PendingIdentity {
  readonly facts: BasicFacts;
  readonly signingIssuer: VerifiedIdentity['signingIssuer'];
  readonly signingCertificate: string;
  readonly signedData: string;
  readonly signature: string;
  readonly verifiedAt: string;
  readonly revocationStatus: VerifiedIdentity['revocationStatus'];
}

/** What binds a pending identity: this interaction, this client. */
const pendingBinding = (interaction: Interaction) =>
  `myna-oidc/pending-identity/v1|${interaction.uid}|${String(interaction.params.client_id)}`;

const base64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const bytesOf = (text: string) => new Uint8Array(Buffer.from(text, 'base64url'));

/**
 * Verifies the identity answer `fields` of `interaction` against the consumed `nonce` and returns
 * the verified identity. Throws LoginError (no challenge left, malformed) or VerificationError
 * (the verifier's refusals; CARD_MISMATCH when the user-auth certificate is not the login's).
 */
export async function verifyIdentityAnswer(
  interaction: Interaction,
  fields: Record<string, unknown>,
  { config, nonce }: { readonly config: ResolvedOpConfig; readonly nonce: string | undefined },
): Promise<VerifiedIdentity> {
  const answer = {
    userAuthCertificate: decodeField(fields.userAuthCertificate),
    signingCertificate: decodeField(fields.signingCertificate),
    signature: decodeField(fields.signature),
  };
  if (nonce === undefined) throw new LoginError('CHALLENGE_UNAVAILABLE');
  // (No identity request gets this far without them: identityRequestOf refuses it.)
  const { signingTrustAnchors } = config;
  if (!signingTrustAnchors) throw new VerificationError('SIGNING_CHAIN_INVALID', 'no signing trust anchors');
  const verified = await verifyIdentity(
    answer,
    { origin: config.origin, nonce },
    {
      signingTrustAnchors,
      userAuthTrustAnchors: config.trustAnchors,
      now: new Date(),
      clockSkewSeconds: config.clockSkewSeconds,
      revocation: config.revocation,
      allowUnknownRevocation: config.identity.allowUnknownRevocation,
      certificateKeySecret: config.secrets.certificateKeySecret,
      links: config.identity.links,
    },
  );
  const loggedIn = mynaResultOf(interaction.lastSubmission)?.userAuthCertificateKey;
  if (loggedIn === undefined || loggedIn !== verified.userAuthCertificateKey) {
    throw new VerificationError('CARD_MISMATCH', 'not the user-auth certificate of this sign-in');
  }
  return verified;
}

/** What of `verified` the person's choice needs (bytes as base64url). */
export function pendingIdentity(verified: VerifiedIdentity): PendingIdentity {
  return {
    facts: verified.facts,
    signingIssuer: verified.signingIssuer,
    signingCertificate: base64url(verified.signingCertificate),
    signedData: base64url(verified.signedData),
    signature: base64url(verified.signature),
    verifiedAt: verified.verifiedAt.toISOString(),
    revocationStatus: verified.revocationStatus,
  };
}

/** `pending` sealed for `interaction` (what goes to `result.myna.pendingIdentity`). */
export function sealPendingIdentity(
  sealer: SealedClaimsCarrier,
  interaction: Interaction,
  pending: PendingIdentity,
): string {
  return sealer.seal(JSON.stringify(pending), pendingBinding(interaction));
}

/** The verified identity waiting in `interaction`'s result, if there is one sealed for it. */
export function pendingIdentityOf(
  sealer: SealedClaimsCarrier,
  interaction: Interaction,
): PendingIdentity | undefined {
  const sealed = mynaResultOf(interaction.result)?.pendingIdentity;
  if (typeof sealed !== 'string') return undefined;
  const text = sealer.open(sealed, pendingBinding(interaction));
  return text === undefined ? undefined : (JSON.parse(text) as PendingIdentity);
}

/**
 * The claims the person chose: every required item's, and of the optional ones those `fields`
 * name (`claim`, once per ticked box); any other name is no claim of this request and is dropped.
 */
export function chosenClaims(request: IdentityRequest, fields: Record<string, unknown>): string[] {
  const ticked = new Set([fields.claim ?? []].flat().filter((value) => typeof value === 'string'));
  const chosen = request.items.filter((item) => item.required || ticked.has(item.claim));
  return [...new Set(chosen.map((item) => item.claim))];
}

/**
 * The release of `request` with the `chosen` claims of `pending`, sealed for the client of
 * `clientMetadata` (`client_id`), and the names of the claims it holds (for the audit line).
 */
export function sealedRelease(
  carrier: SealedClaimsCarrier,
  request: IdentityRequest,
  pending: PendingIdentity,
  chosen: readonly string[],
  clientMetadata: { readonly client_id: string },
): { readonly sealed: string; readonly claimNames: readonly string[] } {
  const release = buildRelease(
    request,
    pending.facts,
    chosen,
    {
      verifiedAt: new Date(pending.verifiedAt),
      revocationStatus: pending.revocationStatus,
      signingCertificate: bytesOf(pending.signingCertificate),
      signedData: bytesOf(pending.signedData),
      signature: bytesOf(pending.signature),
    },
    clientMetadata,
  );
  return { sealed: carrier.sealRelease(release, clientMetadata.client_id), claimNames: release.claimNames };
}

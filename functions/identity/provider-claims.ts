/**
 * The identity part of the provider (provider.ts): the claims configuration and discovery metadata
 * of identity verification, and the claims of one transaction at the token endpoint and userinfo.
 *
 * - Token endpoint (the ID token of an authorization code): the code's sealed claims are taken
 *   (op/sealed-claims.ts) — only when its request asked for the raw serial or for identity claims,
 *   so a plain login costs no extra read. The identity release's ID-token claims go in; for a client
 *   flagged `myna_identity_evidence` the evidence bundle (evidence.ts), for one flagged
 *   `myna_retain_identity_evidence` the id of the retained record (storage/identity-evidence.ts);
 *   the release's userinfo claims are parked under the access token issued with this ID token.
 * - Userinfo: the claims parked for that very access token (none for refreshed ones).
 */
import type { Client, KoaContextWithOIDC } from 'oidc-provider';
import { TTL } from '../defaults.js';
import {
  hasFlag,
  IDENTITY_EVIDENCE_FLAG,
  RAW_SERIAL_FLAG,
  RETAIN_IDENTITY_EVIDENCE_FLAG,
} from '../op/client-flags.js';
import { RAW_SERIAL_CLAIM, RAW_SERIAL_SCOPE } from '../op/raw-serial.js';
import type { SealedClaimsCarrier } from '../op/sealed-claims.js';
import type { SigningSecrets } from '../secrets/op-secrets.js';
import type { IdentityEvidenceStore } from '../storage/identity-evidence.js';
import { signEvidenceBundle } from './evidence.js';
import { identityRequestOf, type ResolvedIdentitySettings } from './identity-request.js';
import type { IdentityRelease } from './release.js';
import {
  AGE_EQUAL_OR_OVER,
  AGE_OVER_PREFIX,
  EVIDENCE_CLAIM,
  EVIDENCE_RECORD_CLAIM,
  EVIDENCE_TYPE,
  IDENTITY_SCOPES,
  SUBSTITUTES_CLAIM,
  TRUST_FRAMEWORK,
  VERIFIED_CLAIMS,
} from './vocabulary.js';

/** The identity claims configuration: scope claims, stand-alone claims, openid extras, discovery. */
export function identityClaimsConfiguration(settings: ResolvedIdentitySettings): {
  readonly claims: Record<string, string[] | null>;
  /** Claims released with `openid` itself when a release has them (the OP's own identity claims). */
  readonly openidClaims: string[];
  readonly discovery: Record<string, unknown>;
} {
  if (!settings.enabled) return { claims: {}, openidClaims: [], discovery: {} };
  const ageClaims = settings.ageThresholds.map((age) => `${AGE_OVER_PREFIX}${age}`);
  return {
    claims: {
      ...Object.fromEntries(IDENTITY_SCOPES.map((scope) => [scope, [scope]])),
      [VERIFIED_CLAIMS]: null,
      [AGE_EQUAL_OR_OVER]: null,
      ...Object.fromEntries(ageClaims.map((claim) => [claim, null])),
    },
    openidClaims: [SUBSTITUTES_CLAIM, EVIDENCE_CLAIM, EVIDENCE_RECORD_CLAIM],
    discovery: {
      verified_claims_supported: true,
      trust_frameworks_supported: [TRUST_FRAMEWORK],
      evidence_supported: [EVIDENCE_TYPE],
      claims_in_verified_claims_supported: [
        ...IDENTITY_SCOPES,
        ...ageClaims,
        AGE_EQUAL_OR_OVER,
        SUBSTITUTES_CLAIM,
      ],
    },
  };
}

/** What TransactionClaims needs. */
export interface TransactionClaimsOptions {
  readonly issuer: string;
  readonly settings: ResolvedIdentitySettings;
  readonly carrier: SealedClaimsCarrier;
  readonly evidenceStore: IdentityEvidenceStore;
  readonly secrets: SigningSecrets;
  /** The `sub` the client sees (the provider's pairwise rule). */
  readonly subjectOf: (client: Client, accountId: string) => string;
}

/** A token of findAccount, as far as these claims read it. */
interface TransactionToken {
  readonly kind: string;
  readonly jti: string;
  readonly scope?: string;
  readonly claims?: unknown;
}

/** The claims of a transaction beyond sub, acr, amr, auth_time (see the module comment). */
export class TransactionClaims {
  readonly #options: TransactionClaimsOptions;

  constructor(options: TransactionClaimsOptions) {
    this.#options = options;
  }

  /** True when the token's request asked for identity claims (in `target`, when given). */
  #asksForIdentity(token: TransactionToken, client: Client, target?: 'userinfo'): boolean {
    if (!this.#options.settings.enabled) return false;
    const request = identityRequestOf(
      { scope: token.scope, claims: token.claims },
      client.metadata(),
      this.#options.settings,
    );
    return request !== undefined && (!target || request.items.some((item) => item.targets.includes(target)));
  }

  /** The claims for `use` of the token `token` of `accountId` at `client`. */
  async of(
    ctx: KoaContextWithOIDC,
    use: string,
    scope: string,
    token: TransactionToken,
    client: Client,
    accountId: string,
  ): Promise<Record<string, unknown>> {
    if (use === 'userinfo' && token.kind === 'AccessToken') {
      if (!this.#asksForIdentity(token, client, 'userinfo')) return {};
      return (await this.#options.carrier.userinfo(token.jti, client.clientId)) ?? {};
    }
    if (use !== 'id_token' || token.kind !== 'AuthorizationCode') return {};
    const wantsSerial =
      hasFlag(client.metadata(), RAW_SERIAL_FLAG) && scope.split(' ').includes(RAW_SERIAL_SCOPE);
    if (!wantsSerial && !this.#asksForIdentity(token, client)) return {};
    const { serial, identity } = await this.#options.carrier.take({
      jti: token.jti,
      clientId: client.clientId,
      accountId,
    });
    return {
      ...(wantsSerial && serial ? { [RAW_SERIAL_CLAIM]: serial } : {}),
      ...(identity ? await this.#identityClaims(ctx, identity, client, accountId) : {}),
    };
  }

  /** The ID-token claims of a release (with evidence), parking its userinfo claims. */
  async #identityClaims(
    ctx: KoaContextWithOIDC,
    release: IdentityRelease,
    client: Client,
    accountId: string,
  ): Promise<Record<string, unknown>> {
    const { carrier, evidenceStore, settings, secrets, issuer, subjectOf } = this.#options;
    const accessToken = ctx.oidc.entities.AccessToken;
    if (accessToken && Object.keys(release.userinfo).length > 0) {
      await carrier.parkUserinfo(
        accessToken.jti,
        release.userinfo,
        client.clientId,
        TTL.AccessToken,
        accessToken.grantId,
      );
    }
    const metadata = client.metadata();
    const sendBundle = hasFlag(metadata, IDENTITY_EVIDENCE_FLAG);
    const retain = hasFlag(metadata, RETAIN_IDENTITY_EVIDENCE_FLAG);
    if (!release.evidence || (!sendBundle && !retain)) return release.idToken;
    const bundle = await signEvidenceBundle(
      release.evidence,
      {
        issuer,
        clientId: client.clientId,
        subject: subjectOf(client, accountId),
        claimNames: release.claimNames,
        alg: client.idTokenSignedResponseAlg ?? 'RS256',
        now: new Date(),
      },
      secrets,
    );
    const recordId = retain
      ? await evidenceStore.retain(bundle, client.clientId, settings.evidenceRetentionDays, accountId)
      : undefined;
    return {
      ...release.idToken,
      ...(sendBundle ? { [EVIDENCE_CLAIM]: bundle } : {}),
      ...(recordId ? { [EVIDENCE_RECORD_CLAIM]: recordId } : {}),
    };
  }
}

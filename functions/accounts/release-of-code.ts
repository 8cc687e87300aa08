/**
 * The release history entry of an authorization code just issued (op/provider.ts, at the
 * interaction's `resume`): the service, the scope names, the names of the claims it can receive —
 * and the names of the identity facts released (never a value):
 * - `claims`: the claims of its granted scopes and the `claims` parameter names its grant accepted
 *   (Grant.getOIDCClaims(): never a name only asked for), without the identity vocabulary and the
 *   OP's pseudo-claims (identity/vocabulary.ts: those are released only as the identity release
 *   decides, so `identityClaims`, the release's own claim names, records them) and without the
 *   raw certificate serial unless the transaction carries it (a flagged client, op/raw-serial.ts)
 *   and the code's scope has `myna_certificate_serial` (else provider-claims.ts withholds it).
 */
import {
  AGE_EQUAL_OR_OVER,
  AGE_OVER_PREFIX,
  EVIDENCE_CLAIM,
  EVIDENCE_RECORD_CLAIM,
  IDENTITY_SCOPES,
  SUBSTITUTES_CLAIM,
  VERIFIED_CLAIMS,
} from '../identity/vocabulary.js';
import { RAW_SERIAL_CLAIM, RAW_SERIAL_SCOPE } from '../op/raw-serial.js';
import type { ReleaseEntry } from '../storage/release-history.js';

/** The part of oidc-provider's AuthorizationCode the entry is made of. */
export interface IssuedCode {
  readonly accountId?: string;
  readonly clientId?: string;
  readonly scope?: string;
  /** The `claims` parameter (OIDC Core §5.5), if any. */
  readonly claims?: { readonly id_token?: object; readonly userinfo?: object };
}

/** oidc-provider's `claims` configuration: scope → claim names (null: a claim of no scope). */
export type ClaimsByScope = Readonly<
  Record<string, readonly string[] | null | Readonly<Record<string, null>>>
>;

/** What else decides the entry besides the code. */
export interface CodeRelease {
  /** Claim names the code's grant accepted (Grant.getOIDCClaims()); absent: none. */
  readonly grantedClaims?: readonly string[];
  /** Names of the identity facts released (the identity release's claimNames). */
  readonly identityClaims?: readonly string[];
  /** True when the transaction carries the raw serial (a sealed serial parked with the code). */
  readonly rawSerial?: boolean;
}

const OP_PSEUDO_CLAIMS: ReadonlySet<string> = new Set([
  VERIFIED_CLAIMS,
  AGE_EQUAL_OR_OVER,
  SUBSTITUTES_CLAIM,
  EVIDENCE_CLAIM,
  EVIDENCE_RECORD_CLAIM,
  ...IDENTITY_SCOPES,
]);

/** True for a name of identity verification (a fact, a derived claim or an OP pseudo-claim). */
function isIdentityName(name: string): boolean {
  return OP_PSEUDO_CLAIMS.has(name) || name.startsWith(AGE_OVER_PREFIX);
}

/** The entry of `code` at `at`; undefined for a code without account or client. */
export function releaseOfCode(
  code: IssuedCode,
  claimsByScope: ClaimsByScope,
  at: Date,
  release: CodeRelease = {},
): ReleaseEntry | undefined {
  if (!code.accountId || !code.clientId) return undefined;
  const scopes = (code.scope ?? '').split(' ').filter(Boolean);
  const claims = new Set<string>();
  for (const scope of scopes) {
    const names = claimsByScope[scope];
    for (const name of Array.isArray(names) ? names : Object.keys(names ?? {})) claims.add(name);
  }
  const granted = new Set(release.grantedClaims ?? []);
  for (const part of [code.claims?.id_token, code.claims?.userinfo]) {
    for (const name of Object.keys(part ?? {})) if (granted.has(name)) claims.add(name);
  }
  // Released only to a flagged client that asked for its scope (identity/provider-claims.ts).
  if (!release.rawSerial || !scopes.includes(RAW_SERIAL_SCOPE)) claims.delete(RAW_SERIAL_CLAIM);
  const identityClaims = release.identityClaims ?? [];
  return {
    accountId: code.accountId,
    clientId: code.clientId,
    at,
    scopes,
    claims: [...claims].filter((name) => !isIdentityName(name)).sort(),
    ...(identityClaims.length > 0 ? { identityClaims: [...identityClaims] } : {}),
  };
}

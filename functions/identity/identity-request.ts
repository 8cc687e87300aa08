/**
 * What an authorization request asks to know about the person (issue #14), from its scopes and its
 * `claims` parameter (OIDC Core §5.5, with OpenID Connect for Identity Assurance 1.0 `verified_claims`):
 * - the scopes `name address birthdate gender` ask for those claims, **required**, in the ID token
 *   and userinfo (the OP puts scope claims in both, provider.ts `conformIdTokenClaims: false`);
 * - `claims.id_token` / `claims.userinfo` members ask for a claim in that place; **optional**
 *   unless `essential: true`. Besides the four facts: `age_over_NN` for a configured threshold,
 *   `age_equal_or_over` (all configured thresholds, or the ones named as its members, e.g.
 *   `{"age_equal_or_over": {"20": null}}`), and `address` with members (`{"address": {"region":
 *   null}}`: only the prefecture; `formatted`, `region`, `locality` can be named);
 * - `verified_claims` in either place (an object or an array of them) asks for the same claims
 *   inside `verified_claims.claims`, with the verification; an entry whose `trust_framework` or
 *   evidence `type` constraint the OP cannot meet (it offers `jp_aml` and `electronic_signature`
 *   only) is not fulfilled (IDA §6: the OP omits what it cannot provide);
 * - claims the OP does not know, thresholds it is not configured for and `value`/`values`
 *   constraints on claims are ignored (OIDC Core §5.5.1): a request is never answered with a
 *   different claim than asked;
 * - a claims-parameter claim needs the client to be registered for the scope of its fact (its
 *   `scope` metadata; an age claim is a `birthdate` fact, address members an `address` fact):
 *   an operator limits which facts an RP may ask for by the scopes it registers, otherwise ignored.
 *
 * Claim ids (`IdentityClaimItem.claim`, what the consent page lists and the user selects):
 * `name`, `birthdate`, `gender`, `address` (the whole object), `address.formatted`,
 * `address.region`, `address.locality`, `age_over_NN`, `age_equal_or_over.NN`.
 *
 * `assertClaimsParameter` (oidc-provider's `features.claimsParameter` hook) refuses an ill-formed
 * request with invalid_request before any interaction starts, and an identity request to an OP
 * that has no signing trust anchors (identity verification not configured).
 */
import { errors } from 'oidc-provider';
import { RAW_SERIAL_SCOPE } from '../op/raw-serial.js';
import {
  ADDRESS_MEMBERS,
  AGE_EQUAL_OR_OVER,
  AGE_OVER_PREFIX,
  EVIDENCE_TYPE,
  IDENTITY_SCOPES,
  IDENTITY_TARGETS,
  type IdentityScope,
  type IdentityTarget,
  TRUST_FRAMEWORK,
  VERIFIED_CLAIMS,
} from './vocabulary.js';

/** The identity settings of an OP (config.ts `identity`, defaults in defaults.ts IDENTITY_DEFAULTS). */
export interface IdentitySettings {
  /** The `age_over_NN` / `age_equal_or_over` thresholds offered, years (default 18, 20, 65). */
  readonly ageThresholds: readonly number[];
  /** How long a retained evidence record is kept, days (default 7 years: 2557). */
  readonly evidenceRetentionDays: number;
}

/** IdentitySettings of a running OP: `enabled` when it has signing trust anchors. */
export interface ResolvedIdentitySettings extends IdentitySettings {
  readonly enabled: boolean;
}

/** What the request parser reads of the settings. */
export type IdentityRequestSettings = Pick<ResolvedIdentitySettings, 'enabled' | 'ageThresholds'>;

/** One claim asked for, in one of the two forms (plain or inside verified_claims). */
export interface IdentityClaimItem {
  /** The claim id (see the module comment). */
  readonly claim: string;
  /** Scope-requested or `essential: true`: the user cannot deselect it (only cancel). */
  readonly required: boolean;
  readonly targets: readonly IdentityTarget[];
  readonly inVerifiedClaims: boolean;
  /** The RP's `purpose` for this claim (IDA §6.2), shown on the consent page; absent: none. */
  readonly purpose?: string;
}

/** The identity part of a request; undefined (identityRequestOf) when nothing identity-related is asked. */
export interface IdentityRequest {
  /** Each (claim, plain or verified) asked for once, targets merged. */
  readonly items: readonly IdentityClaimItem[];
  /** True when any item is inside verified_claims. */
  readonly verifiedClaims: boolean;
  /**
   * True when the request's scope has `myna_certificate_serial` (raw-serial.ts): only then does a
   * client flagged for the raw serial get the signing certificate's serial too (release.ts).
   */
  readonly rawSerialScope: boolean;
}

/** The request's params as oidc-provider keeps them (interaction.params or ctx.oidc.params). */
export interface IdentityRequestParams {
  readonly scope?: unknown;
  readonly claims?: unknown;
}

const PURPOSE_CHARS = { min: 3, max: 300 } as const;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The fact a claim id is read from, i.e. the scope a client must be registered for to ask for it. */
function factOfClaim(claim: string): IdentityScope {
  if (claim.startsWith(AGE_OVER_PREFIX) || claim.startsWith(`${AGE_EQUAL_OR_OVER}.`)) return 'birthdate';
  return claim.split('.')[0] as IdentityScope;
}

/** One claim id asked for, with the request object that applies to it (its member's, or the claim's). */
interface AskedClaim {
  readonly claim: string;
  readonly request: unknown;
}

/**
 * The claim ids one `claims` member asks for (empty: not an identity claim, or not offered). A
 * member of `address` / `age_equal_or_over` has its own request (`{"20": {"essential": true}}`);
 * `essential` and `purpose` of the claim itself apply to every member.
 */
function claimsAskedBy(name: string, request: unknown, thresholds: readonly number[]): AskedClaim[] {
  const members = memberRequests(name, request).map(([member]) => member);
  const memberRequest = (member: string): Json => ({
    ...(isObject(request) ? request : {}),
    ...(isObject(request) && isObject(request[member]) ? request[member] : {}),
  });
  if (name === 'name' || name === 'birthdate' || name === 'gender') return [{ claim: name, request }];
  if (name === 'address') {
    if (members.length === 0) return [{ claim: 'address', request }];
    return ADDRESS_MEMBERS.filter((member) => members.includes(member)).map((member) => ({
      claim: `address.${member}`,
      request: memberRequest(member),
    }));
  }
  if (name === AGE_EQUAL_OR_OVER) {
    const asked =
      members.length === 0 ? thresholds : thresholds.filter((age) => members.includes(String(age)));
    return asked.map((age) => ({
      claim: `${AGE_EQUAL_OR_OVER}.${age}`,
      request: memberRequest(String(age)),
    }));
  }
  if (name.startsWith(AGE_OVER_PREFIX) && thresholds.some((age) => name === `${AGE_OVER_PREFIX}${age}`)) {
    return [{ claim: name, request }];
  }
  return [];
}

/** The members of the OIDC address claim (OIDC Core §5.1.1); the OP offers ADDRESS_MEMBERS of them. */
const OIDC_ADDRESS_MEMBERS: ReadonlySet<string> = new Set([
  'formatted',
  'street_address',
  'locality',
  'region',
  'postal_code',
  'country',
]);

/**
 * The members of a claim request that are requests of their own: the members of `address` (by
 * their OIDC names) and the thresholds of `age_equal_or_over`. Any other member is not understood
 * and ignored (OIDC Core §5.5.1).
 */
function memberRequests(name: string, request: unknown): [string, unknown][] {
  if (!isObject(request)) return [];
  const ownRequest =
    name === 'address'
      ? (member: string) => OIDC_ADDRESS_MEMBERS.has(member)
      : name === AGE_EQUAL_OR_OVER
        ? (member: string) => /^[0-9]{1,3}$/.test(member)
        : () => false;
  return Object.entries(request).filter(([member]) => ownRequest(member));
}

/** Collects the items of requests and merges (claim, inVerifiedClaims) duplicates. */
class ItemCollector {
  readonly #items = new Map<string, IdentityClaimItem>();

  constructor(readonly allowedFacts: ReadonlySet<string>) {}

  add(
    claim: string,
    required: boolean,
    target: IdentityTarget | 'both',
    inVerifiedClaims: boolean,
    purpose?: string,
  ) {
    if (!this.allowedFacts.has(factOfClaim(claim))) return;
    const key = `${inVerifiedClaims ? 'v' : 'p'}:${claim}`;
    const targets = target === 'both' ? IDENTITY_TARGETS : [target];
    const known = this.#items.get(key);
    const firstPurpose = known ? known.purpose : purpose;
    this.#items.set(key, {
      claim,
      required: required || (known?.required ?? false),
      targets: IDENTITY_TARGETS.filter((each) => targets.includes(each) || known?.targets.includes(each)),
      inVerifiedClaims,
      ...(firstPurpose === undefined ? {} : { purpose: firstPurpose }),
    });
  }

  get items(): IdentityClaimItem[] {
    return [...this.#items.values()];
  }
}

/** The claims of one container (a target's top level, or a verified_claims entry's `claims`). */
function collectClaims(
  claims: Json,
  target: IdentityTarget,
  inVerifiedClaims: boolean,
  thresholds: readonly number[],
  collector: ItemCollector,
): void {
  for (const [name, claimRequest] of Object.entries(claims)) {
    if (name === VERIFIED_CLAIMS) continue;
    for (const { claim, request } of claimsAskedBy(name, claimRequest, thresholds)) {
      const essential = isObject(request) && request.essential === true;
      const purpose = isObject(request) && typeof request.purpose === 'string' ? request.purpose : undefined;
      collector.add(claim, essential, target, inVerifiedClaims, purpose);
    }
  }
}

/** True when a constraint `{value}` / `{values}` (or none) admits `offered`. */
function admits(constraint: unknown, offered: string): boolean {
  if (!isObject(constraint)) return true;
  if (constraint.value !== undefined && constraint.value !== offered) return false;
  if (Array.isArray(constraint.values) && !constraint.values.includes(offered)) return false;
  return true;
}

/** True when the OP can fulfil the verification an entry asks for (trust framework, evidence type). */
function fulfils(verification: unknown): boolean {
  if (!isObject(verification)) return true;
  if (!admits(verification.trust_framework, TRUST_FRAMEWORK)) return false;
  const evidence = verification.evidence;
  if (!Array.isArray(evidence) || evidence.length === 0) return true;
  return evidence.some((entry) => !isObject(entry) || admits(entry.type, EVIDENCE_TYPE));
}

/** The verified_claims entries of a container: one object or an array of them. */
function verifiedEntries(container: Json): Json[] {
  const value = container[VERIFIED_CLAIMS];
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).filter(isObject);
}

/** The claims parameter as an object (it was checked by assertClaimsParameter at authorization). */
function parsedClaims(claims: unknown): Json | undefined {
  if (claims === undefined || claims === null || claims === '') return undefined;
  if (isObject(claims)) return claims;
  try {
    const parsed: unknown = JSON.parse(String(claims));
    return isObject(parsed) ? parsed : undefined;
  } catch {
    throw new errors.InvalidRequest('could not parse the claims parameter JSON');
  }
}

/** The scopes the client is registered for (its `scope` metadata, written by client-flags.ts). */
function registeredScopes(client: object | undefined): ReadonlySet<string> {
  const scope = (client as { scope?: unknown } | undefined)?.scope;
  return new Set(typeof scope === 'string' ? scope.split(' ') : IDENTITY_SCOPES);
}

/**
 * The identity part of the request with `params` from `client` (its metadata), or undefined when
 * it asks for nothing identity-related (then there is no identity step). Throws invalid_request
 * when it asks for identity claims and `settings.enabled` is false.
 */
export function identityRequestOf(
  params: IdentityRequestParams,
  client: object | undefined,
  settings: IdentityRequestSettings,
): IdentityRequest | undefined {
  // Off, nothing is released, whatever the client is registered for (client-flags.ts then keeps
  // no identity scope in its `scope`): any identity request is refused with a clear error.
  const collector = new ItemCollector(settings.enabled ? registeredScopes(client) : new Set(IDENTITY_SCOPES));
  const scopes = typeof params.scope === 'string' ? params.scope.split(' ') : [];
  for (const scope of IDENTITY_SCOPES) if (scopes.includes(scope)) collector.add(scope, true, 'both', false);
  const claims = parsedClaims(params.claims);
  for (const target of IDENTITY_TARGETS) {
    const container = claims?.[target];
    if (!isObject(container)) continue;
    collectClaims(container, target, false, settings.ageThresholds, collector);
    for (const entry of verifiedEntries(container)) {
      if (!fulfils(entry.verification) || !isObject(entry.claims)) continue;
      collectClaims(entry.claims, target, true, settings.ageThresholds, collector);
    }
  }
  const items = collector.items;
  if (items.length === 0) return undefined;
  if (!settings.enabled) {
    throw new errors.InvalidRequest('identity verification is not available at this OpenID Provider');
  }
  return {
    items,
    verifiedClaims: items.some((item) => item.inVerifiedClaims),
    rawSerialScope: scopes.includes(RAW_SERIAL_SCOPE),
  };
}

/**
 * Checks the request of claim `name`: null, or an object whose essential, values and purpose are
 * well-formed, as are the member requests of address and age_equal_or_over; other members are
 * ignored.
 */
function checkClaimRequest(path: string, name: string, request: unknown): void {
  if (request === null) return;
  if (!isObject(request)) throw new errors.InvalidRequest(`${path} must be null or an object`);
  if (request.essential !== undefined && typeof request.essential !== 'boolean') {
    throw new errors.InvalidRequest(`${path}.essential must be a boolean`);
  }
  if (request.values !== undefined && !Array.isArray(request.values)) {
    throw new errors.InvalidRequest(`${path}.values must be an array`);
  }
  const { purpose } = request;
  if (
    purpose !== undefined &&
    (typeof purpose !== 'string' ||
      [...purpose].length < PURPOSE_CHARS.min ||
      [...purpose].length > PURPOSE_CHARS.max)
  ) {
    throw new errors.InvalidRequest(
      `${path}.purpose must be a string of ${PURPOSE_CHARS.min} to ${PURPOSE_CHARS.max} characters`,
    );
  }
  for (const [member, value] of memberRequests(name, request)) {
    checkClaimRequest(`${path}.${member}`, member, value);
  }
}

/** A time element's request (IDA §6: `verification.time`, evidence `time`/`created_at`): `max_age` seconds. */
function checkTimeRequest(path: string, request: unknown): void {
  checkClaimRequest(path, '', request);
  const maxAge = isObject(request) ? request.max_age : undefined;
  if (maxAge !== undefined && !(Number.isSafeInteger(maxAge) && (maxAge as number) >= 0)) {
    throw new errors.InvalidRequest(`${path}.max_age must be a non-negative integer (seconds)`);
  }
}

const TIME_ELEMENTS = new Set(['time', 'created_at']);

/** Checks one verified_claims request entry (IDA §6: `verification` and a non-empty `claims`). */
function checkVerifiedEntry(path: string, entry: unknown): void {
  if (!isObject(entry)) throw new errors.InvalidRequest(`${path} must be an object`);
  const { verification, claims } = entry;
  if (!isObject(verification)) throw new errors.InvalidRequest(`${path}.verification must be an object`);
  for (const [element, request] of Object.entries(verification)) {
    if (element === 'evidence') {
      if (!Array.isArray(request))
        throw new errors.InvalidRequest(`${path}.verification.evidence must be an array`);
      if (!request.every(isObject)) {
        throw new errors.InvalidRequest(`${path}.verification.evidence entries must be objects`);
      }
      for (const [index, entry] of request.entries()) {
        for (const [member, value] of Object.entries(entry as Json)) {
          if (TIME_ELEMENTS.has(member))
            checkTimeRequest(`${path}.verification.evidence[${index}].${member}`, value);
        }
      }
    } else if (element === 'time') {
      checkTimeRequest(`${path}.verification.${element}`, request);
    } else {
      checkClaimRequest(`${path}.verification.${element}`, element, request);
    }
  }
  if (!isObject(claims) || Object.keys(claims).length === 0) {
    throw new errors.InvalidRequest(`${path}.claims must be a non-empty object`);
  }
  for (const [name, request] of Object.entries(claims)) {
    checkClaimRequest(`${path}.claims.${name}`, name, request);
  }
}

/**
 * Refuses (InvalidRequest) an ill-formed `claims` parameter — claims that are neither null nor
 * an object, a non-boolean `essential`, a `purpose` outside 3–300 characters, a `max_age` that is
 * not a number of seconds, a verified_claims entry without `verification` or with empty `claims` —
 * and any identity request when `settings.enabled` is false. Members it does not understand are
 * ignored (OIDC Core §5.5.1), except inside `address` and `age_equal_or_over`. `claims` is the parsed parameter oidc-provider hands its hook.
 */
export function assertClaimsParameter(
  claims: object,
  client: object | undefined,
  settings: IdentityRequestSettings,
): void {
  for (const target of IDENTITY_TARGETS) {
    const container = (claims as Json)[target];
    if (!isObject(container)) continue;
    for (const [name, request] of Object.entries(container)) {
      if (name !== VERIFIED_CLAIMS) {
        checkClaimRequest(`claims.${target}.${name}`, name, request);
        continue;
      }
      if (Array.isArray(request)) {
        if (request.length === 0)
          throw new errors.InvalidRequest(`claims.${target}.${name} must not be empty`);
        for (const [index, entry] of request.entries()) {
          checkVerifiedEntry(`claims.${target}.${name}[${index}]`, entry);
        }
      } else {
        checkVerifiedEntry(`claims.${target}.${name}`, request);
      }
    }
  }
  identityRequestOf({ claims }, client, settings);
}

/**
 * The value of each identity claim id (identity-request.ts) from the basic facts of a signing
 * certificate, as the RP receives it; the consent page shows these very values.
 * - `name`: the name as the certificate holds it (a full-width space between surname and given name
 *   on real cards); `gender`: `male`, `female` or `other` (OIDC Core §5.1 names the first two and
 *   allows others; the certificate's code 3 is 不明); `birthdate`: `YYYY-MM-DD`;
 * - `address.formatted|region|locality`: the address as written / its prefecture / municipality
 *   (derived-claims.ts; absent when the address cannot be split);
 * - `age_over_NN`, `age_equal_or_over.NN`: booleans at the verification time, in Japan time.
 * The formats are OIDC Core §5.1's (the scope names are the Digital Agency app's; its own value
 * formats are not published in a form this project could check, so none is copied).
 */
import type { BasicFacts } from '../jpki/basic-facts.js';
import { addressComponents, isAgeAtLeast } from './derived-claims.js';
import { AGE_EQUAL_OR_OVER, AGE_OVER_PREFIX } from './vocabulary.js';

/** The released value of one claim id; undefined when the facts do not give it. */
export type ClaimValue = string | boolean | undefined;

/** The threshold of an age claim id (`age_over_20`, `age_equal_or_over.20`), or undefined. */
export function ageThresholdOf(claim: string): number | undefined {
  const digits = claim.startsWith(AGE_OVER_PREFIX)
    ? claim.slice(AGE_OVER_PREFIX.length)
    : claim.startsWith(`${AGE_EQUAL_OR_OVER}.`)
      ? claim.slice(AGE_EQUAL_OR_OVER.length + 1)
      : '';
  return /^[0-9]{1,3}$/.test(digits) ? Number(digits) : undefined;
}

/** The value of `claim` for `facts` at `at` (the verification time). */
export function claimValue(claim: string, facts: BasicFacts, at: Date): ClaimValue {
  switch (claim) {
    case 'name':
      return facts.name;
    case 'gender':
      return facts.gender;
    case 'birthdate':
      return facts.birthDate;
    case 'address':
    case 'address.formatted':
      return facts.address;
    case 'address.region':
      return addressComponents(facts.address).region;
    case 'address.locality':
      return addressComponents(facts.address).locality;
  }
  const threshold = ageThresholdOf(claim);
  return threshold === undefined ? undefined : isAgeAtLeast(facts.birthDate, threshold, at);
}

/**
 * The substitute-character positions inside the value of `claim` (0-based code points into the
 * released string), empty when none: the name's and the whole address's as the certificate says,
 * a component's shifted to where the component starts in the address.
 */
export function substitutePositions(claim: string, facts: BasicFacts): readonly number[] {
  if (claim === 'name') return facts.nameSubstitutePositions;
  if (claim === 'address' || claim === 'address.formatted') return facts.addressSubstitutePositions;
  if (claim !== 'address.region' && claim !== 'address.locality') return [];
  const { region, locality } = addressComponents(facts.address);
  const part = claim === 'address.region' ? region : locality;
  if (part === undefined) return [];
  const start = claim === 'address.region' ? 0 : [...(region ?? '')].length;
  const length = [...part].length;
  return facts.addressSubstitutePositions
    .filter((position) => position >= start && position < start + length)
    .map((position) => position - start);
}

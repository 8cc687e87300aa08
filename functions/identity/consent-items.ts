/**
 * The claim-by-claim consent list (issue #14): for each claim id the request asks for, its label,
 * the exact value the RP would receive (as a display string), whether the RP marked it required
 * (scope or `essential`: cannot be unticked) and whether it holds a substitute character. The
 * interaction (W) renders these; the release (release.ts) gives exactly these values.
 * A claim asked for both plainly and inside verified_claims is one item (one value, one choice).
 * A claim the facts cannot give (an address that cannot be split into its components) is absent.
 */
import type { BasicFacts } from '../jpki/basic-facts.js';
import type { Locale } from '../op/login-page/messages.js';
import { ageThresholdOf, claimValue, substitutePositions } from './claim-values.js';
import type { IdentityRequest } from './identity-request.js';

/** One line of the consent list. */
export interface ConsentItem {
  /** The claim id the user selects or deselects (identity-request.ts). */
  readonly claim: string;
  readonly label: string;
  /** The value as the RP gets it, for display: the string itself, or はい/いいえ (Yes/No) for a boolean. */
  readonly value: string;
  readonly required: boolean;
  /** True when the value contains a substitute character (代替文字) for a character the card cannot hold. */
  readonly substituted: boolean;
  /** The RP's stated purpose for this claim (IDA `purpose`), if any. */
  readonly purpose?: string;
}

const LABELS: Readonly<Record<Locale, Readonly<Record<string, string>>>> = {
  ja: {
    name: '氏名',
    address: '住所',
    'address.formatted': '住所',
    'address.region': '住所の都道府県',
    'address.locality': '住所の市区町村',
    birthdate: '生年月日',
    gender: '性別',
  },
  en: {
    name: 'Name',
    address: 'Address',
    'address.formatted': 'Address',
    'address.region': 'Prefecture of the address',
    'address.locality': 'Municipality of the address',
    birthdate: 'Date of birth',
    gender: 'Gender',
  },
};

const GENDER_TEXT: Readonly<Record<Locale, Readonly<Record<string, string>>>> = {
  ja: { male: '男性', female: '女性', other: 'その他' },
  en: { male: 'Male', female: 'Female', other: 'Other' },
};

const YES_NO: Readonly<Record<Locale, readonly [yes: string, no: string]>> = {
  ja: ['はい', 'いいえ'],
  en: ['Yes', 'No'],
};

/** The label of a claim id in `locale`. */
export function claimLabel(claim: string, locale: Locale): string {
  const threshold = ageThresholdOf(claim);
  if (threshold !== undefined) return locale === 'ja' ? `${threshold}歳以上` : `Aged ${threshold} or over`;
  return LABELS[locale][claim] ?? claim;
}

/**
 * The consent list of `request` for `facts` in `locale`, with ages at `at` (pass the verification
 * time, the time the release computes them at), in the order the request names the claims.
 */
export function consentItems(
  request: IdentityRequest,
  facts: BasicFacts,
  locale: Locale,
  at: Date = new Date(),
): ConsentItem[] {
  const items = new Map<string, ConsentItem>();
  for (const item of request.items) {
    const value = claimValue(item.claim, facts, at);
    if (value === undefined) continue;
    const known = items.get(item.claim);
    const purpose = known?.purpose ?? item.purpose;
    items.set(item.claim, {
      claim: item.claim,
      label: claimLabel(item.claim, locale),
      value:
        typeof value === 'boolean'
          ? YES_NO[locale][value ? 0 : 1]
          : item.claim === 'gender'
            ? (GENDER_TEXT[locale][value] ?? value)
            : value,
      required: item.required || (known?.required ?? false),
      substituted: substitutePositions(item.claim, facts).length > 0,
      ...(purpose === undefined ? {} : { purpose }),
    });
  }
  return [...items.values()];
}

/**
 * Claims derived from the basic facts, so an RP can ask for less than the fact itself.
 *
 * **Age** is counted in Japan time (Asia/Tokyo, UTC+9 all year: Japan has no daylight saving)
 * by the Act on the Calculation of Age (年齢計算ニ関スル法律, 1902) with Civil Code art. 143: age
 * is counted from the day of birth and a year of age is complete at the **end of the day before
 * the birthday** — so at any moment of a Japanese calendar day the person is N years old from
 * their N-th birthday on, not on the day before it (that day ends at 24:00 with the new age).
 * For a birthday on 29 February, in a common year the year of age ends at the end of the last day
 * of February (art. 143(2) proviso: no corresponding day → the month's last day), i.e. at the end of
 * 28 February: such a person is N from **1 March** in common years and from 29 February in leap
 * years. (Pension law's "the day the age is reached", 年齢に達した日, is the day before the
 * birthday; an `age_over_NN` answer is about the moment of the verification, which that day has
 * not yet ended.)
 *
 * **Address components**: `region` is the prefecture (都道府県, one of the 47) and `locality` the
 * municipality (市区町村): a city (市), a Tokyo special ward (特別区, 23), a designated city with its
 * ward (政令指定都市の区, e.g. 横浜市中区), a county with its town or village (郡 + 町村, e.g.
 * 虻田郡倶知安町), or a Tokyo island town or village (大島町). Addresses are split by these
 * suffixes with the municipality names whose own name contains one of them (四日市市, 十日町市,
 * 郡山市, 余市郡余市町…) listed; an address that does not start with a prefecture has no components.
 */

/** Japan Standard Time's offset from UTC, ms (no daylight saving). */
const JST_OFFSET_MS = 9 * 60 * 60 * 1000;

/** The Japanese calendar date of `instant`: { year, month (1-12), day }. */
export function japanDate(instant: Date): { year: number; month: number; day: number } {
  const shifted = new Date(instant.getTime() + JST_OFFSET_MS);
  return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() };
}

const isLeapYear = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

const BIRTH_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Raised for a birth date that is not a real YYYY-MM-DD date. */
export class DerivedClaimError extends Error {
  override name = 'DerivedClaimError';
  readonly code = 'BIRTH_DATE_INVALID';
}

/** Parses a YYYY-MM-DD birth date, checking that the day exists. */
function birthDateParts(birthDate: string): { year: number; month: number; day: number } {
  const match = BIRTH_DATE.exec(birthDate);
  const [year, month, day] = match ? [Number(match[1]), Number(match[2]), Number(match[3])] : [0, 0, 0];
  const days = [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (!match || month < 1 || month > 12 || day < 1 || day > (days[month - 1] as number)) {
    // No value in the message: a birth date is personal data, and error messages reach the log.
    throw new DerivedClaimError('the birth date is not a YYYY-MM-DD date');
  }
  return { year, month, day };
}

/** The age in whole years at `instant` of a person born on `birthDate` (YYYY-MM-DD), as above. */
export function ageAt(birthDate: string, instant: Date): number {
  const birth = birthDateParts(birthDate);
  const today = japanDate(instant);
  // This year's birthday: 29 February becomes 1 March in a common year (the year of age ends at the
  // end of 28 February).
  const [month, day] =
    birth.month === 2 && birth.day === 29 && !isLeapYear(today.year) ? [3, 1] : [birth.month, birth.day];
  const hadBirthday = today.month > month || (today.month === month && today.day >= day);
  return today.year - birth.year - (hadBirthday ? 0 : 1);
}

/** True when a person born on `birthDate` is at least `years` old at `instant`. */
export function isAgeAtLeast(birthDate: string, years: number, instant: Date): boolean {
  return ageAt(birthDate, instant) >= years;
}

/** The 47 prefectures (JIS X 0401 order). */
export const PREFECTURES = [
  '北海道',
  '青森県',
  '岩手県',
  '宮城県',
  '秋田県',
  '山形県',
  '福島県',
  '茨城県',
  '栃木県',
  '群馬県',
  '埼玉県',
  '千葉県',
  '東京都',
  '神奈川県',
  '新潟県',
  '富山県',
  '石川県',
  '福井県',
  '山梨県',
  '長野県',
  '岐阜県',
  '静岡県',
  '愛知県',
  '三重県',
  '滋賀県',
  '京都府',
  '大阪府',
  '兵庫県',
  '奈良県',
  '和歌山県',
  '鳥取県',
  '島根県',
  '岡山県',
  '広島県',
  '山口県',
  '徳島県',
  '香川県',
  '愛媛県',
  '高知県',
  '福岡県',
  '佐賀県',
  '長崎県',
  '熊本県',
  '大分県',
  '宮崎県',
  '鹿児島県',
  '沖縄県',
] as const;

/** The designated cities (政令指定都市, 20), whose addresses name a ward (区) after the city. */
const DESIGNATED_CITIES = [
  '札幌市',
  '仙台市',
  'さいたま市',
  '千葉市',
  '横浜市',
  '川崎市',
  '相模原市',
  '新潟市',
  '静岡市',
  '浜松市',
  '名古屋市',
  '京都市',
  '大阪市',
  '堺市',
  '神戸市',
  '岡山市',
  '広島市',
  '北九州市',
  '福岡市',
  '熊本市',
] as const;

/**
 * Municipalities and counties whose name contains 市, 区, 町, 村 or 郡 before its own suffix, so the
 * first suffix does not end them: cities (四日市市, 郡山市…), towns and villages (玉村町, 大町町…)
 * and counties (余市郡, 西村山郡…).
 */
const NAMES_WITH_INNER_SUFFIX = [
  // Cities.
  '四日市市',
  '廿日市市',
  '市川市',
  '市原市',
  '野々市市',
  '十日町市',
  '大町市',
  '東村山市',
  '武蔵村山市',
  '羽村市',
  '田村市',
  '大村市',
  '郡山市',
  '大和郡山市',
  '郡上市',
  '小郡市',
  '蒲郡市',
  // Towns and villages.
  '玉村町',
  '大町町',
  '上市町',
  '市貝町',
  '市川町',
  '市川三郷町',
  '余市町',
  // Counties.
  '余市郡',
  '高市郡',
  '西村山郡',
  '北村山郡',
  '東村山郡',
  '田村郡',
] as const;

/** The next municipality-level name in `rest`: a listed name, or up to the first suffix. */
function nextName(rest: string, suffixes: string): string | undefined {
  const listed = NAMES_WITH_INNER_SUFFIX.find(
    (name) => rest.startsWith(name) && suffixes.includes(name.at(-1) as string),
  );
  if (listed) return listed;
  return new RegExp(`^.+?[${suffixes}]`, 'u').exec(rest)?.[0];
}

/** The prefecture and municipality of an address as written in a certificate; {} when it has none. */
export function addressComponents(address: string): { region?: string; locality?: string } {
  const region = PREFECTURES.find((prefecture) => address.startsWith(prefecture));
  if (!region) return {};
  const rest = address.slice(region.length);
  const designated = DESIGNATED_CITIES.find((city) => rest.startsWith(city));
  if (designated) {
    const ward = nextName(rest.slice(designated.length), '区');
    return { region, locality: designated + (ward ?? '') };
  }
  const first = nextName(rest, '市区町村郡');
  if (first?.endsWith('郡')) {
    const town = nextName(rest.slice(first.length), '町村');
    return town ? { region, locality: first + town } : { region };
  }
  return first ? { region, locality: first } : { region };
}

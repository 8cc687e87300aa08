/** Derived claims: age in Japan time (birthday, 29 February, thresholds) and address components. */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  addressComponents,
  ageAt,
  DerivedClaimError,
  isAgeAtLeast,
  japanDate,
  PREFECTURES,
} from '../../functions/identity/derived-claims.js';

const at = (iso: string) => new Date(iso);

describe('age in Japan time', () => {
  const born = '2000-04-02';

  it('counts the birthday itself with the new age, the day before not yet', () => {
    // JST 2018-04-01 12:00 (the day before the 18th birthday), JST 2018-04-02 12:00, JST 2018-04-03.
    expect(ageAt(born, at('2018-04-01T03:00:00Z'))).toBe(17);
    expect(ageAt(born, at('2018-04-02T03:00:00Z'))).toBe(18);
    expect(ageAt(born, at('2018-04-03T03:00:00Z'))).toBe(18);
    // The birthday tomorrow, a year and a day after.
    expect(ageAt(born, at('2018-03-31T03:00:00Z'))).toBe(17);
    expect(ageAt(born, at('2019-04-01T03:00:00Z'))).toBe(18);
  });

  it('changes at midnight in Japan (15:00 UTC), not at UTC midnight', () => {
    // JST 2018-04-01 23:59:59 = 14:59:59 UTC; JST 2018-04-02 00:00 = 15:00 UTC.
    expect(ageAt(born, at('2018-04-01T14:59:59.999Z'))).toBe(17);
    expect(ageAt(born, at('2018-04-01T15:00:00Z'))).toBe(18);
    // UTC midnight of the birthday's eve is already 09:00 on the eve in Japan: not yet.
    expect(ageAt(born, at('2018-04-01T00:00:00Z'))).toBe(17);
    // 23:59 UTC on the eve is 08:59 on the birthday in Japan: already.
    expect(ageAt(born, at('2018-04-01T23:59:59Z'))).toBe(18);
    // UTC midnight of the birthday is 09:00 on the birthday.
    expect(ageAt(born, at('2018-04-02T00:00:00Z'))).toBe(18);
  });

  it('ages a 29 February birthday from 1 March in common years and on 29 February in leap years', () => {
    const leapling = '2004-02-29';
    // 2022 is a common year: the year of age ends at the end of 28 February.
    expect(ageAt(leapling, at('2022-02-28T14:59:59Z'))).toBe(17);
    expect(ageAt(leapling, at('2022-02-28T15:00:00Z'))).toBe(18); // JST 1 March 00:00
    expect(ageAt(leapling, at('2022-03-01T03:00:00Z'))).toBe(18);
    // 2024 is a leap year.
    expect(ageAt(leapling, at('2024-02-28T03:00:00Z'))).toBe(19);
    expect(ageAt(leapling, at('2024-02-28T15:00:00Z'))).toBe(20); // JST 29 February 00:00
    expect(ageAt(leapling, at('2024-03-01T03:00:00Z'))).toBe(20);
    // 2100 is not a leap year (century rule), 2000 was (400 rule).
    expect(ageAt('2096-02-29', at('2100-02-28T03:00:00Z'))).toBe(3);
    expect(ageAt('2096-02-29', at('2100-03-01T03:00:00Z'))).toBe(4);
    expect(ageAt('1996-02-29', at('2000-02-29T03:00:00Z'))).toBe(4);
  });

  it('answers thresholds exactly at the boundary', () => {
    expect(isAgeAtLeast('2006-12-02', 20, at('2026-12-01T14:59:59Z'))).toBe(false);
    expect(isAgeAtLeast('2006-12-02', 20, at('2026-12-01T15:00:00Z'))).toBe(true);
    expect(isAgeAtLeast('2006-12-02', 18, at('2026-12-01T03:00:00Z'))).toBe(true);
    expect(isAgeAtLeast('1961-12-02', 65, at('2026-12-01T03:00:00Z'))).toBe(false);
    expect(isAgeAtLeast('1961-12-01', 65, at('2026-12-01T03:00:00Z'))).toBe(true);
    expect(isAgeAtLeast('2026-12-01', 18, at('2026-12-01T03:00:00Z'))).toBe(false);
  });

  it('refuses dates that do not exist', () => {
    for (const date of [
      '2023-02-29',
      '1900-02-29',
      '2000-13-01',
      '2000-04-31',
      '2000-1-01',
      '',
      '20000101',
    ]) {
      expect(() => ageAt(date, new Date())).toThrow(DerivedClaimError);
    }
  });

  it('never puts the birth date into the error message (messages reach the log)', () => {
    for (const date of ['2023-02-29', '1990-13-05']) {
      try {
        ageAt(date, new Date());
        throw new Error('accepted');
      } catch (error) {
        expect(error).toBeInstanceOf(DerivedClaimError);
        expect((error as Error).message).not.toContain(date);
        expect((error as Error).message).not.toMatch(/\d{4}/);
      }
    }
  });

  it('agrees with the Japanese calendar date of the IANA zone Asia/Tokyo', () => {
    const tokyo = new Intl.DateTimeFormat('en-CA', {
      timeZone: 'Asia/Tokyo',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1900-01-01'), max: new Date('2199-12-31'), noInvalidDate: true }),
        (d) => {
          const { year, month, day } = japanDate(d);
          const expected = tokyo.format(d);
          expect(`${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`).toBe(expected);
        },
      ),
    );
  });

  it('never decreases with time, gains at most one year in 365 days, and is N from the N-th birthday', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1900-01-01'), max: new Date('2100-12-31'), noInvalidDate: true }),
        fc.integer({ min: 0, max: 365 * 86_400_000 - 1 }),
        fc.integer({ min: 1, max: 120 }),
        (birth, later, years) => {
          const birthDate = japanDateText(birth);
          const instant = new Date(birth.getTime() + 30 * 365 * 86_400_000);
          const age = ageAt(birthDate, instant);
          expect([age, age + 1]).toContain(ageAt(birthDate, new Date(instant.getTime() + later)));
          // JST midnight starting the N-th birthday (1 March for a 29 February birthday in a common year).
          const [y, m, d] = birthDate.split('-').map(Number) as [number, number, number];
          const birthday = new Date(Date.UTC(y + years, m - 1, d) - 9 * 3_600_000);
          const starts =
            japanDate(birthday).day === d ? birthday : new Date(Date.UTC(y + years, 2, 1) - 9 * 3_600_000);
          expect(ageAt(birthDate, starts)).toBe(years);
          expect(ageAt(birthDate, new Date(starts.getTime() - 1))).toBe(years - 1);
        },
      ),
    );
  });
});

function japanDateText(instant: Date): string {
  const { year, month, day } = japanDate(instant);
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

describe('address components', () => {
  const capitals: Record<string, string> = {
    北海道: '札幌市中央区',
    青森県: '青森市',
    岩手県: '盛岡市',
    宮城県: '仙台市青葉区',
    秋田県: '秋田市',
    山形県: '山形市',
    福島県: '福島市',
    茨城県: '水戸市',
    栃木県: '宇都宮市',
    群馬県: '前橋市',
    埼玉県: 'さいたま市浦和区',
    千葉県: '千葉市中央区',
    東京都: '新宿区',
    神奈川県: '横浜市中区',
    新潟県: '新潟市中央区',
    富山県: '富山市',
    石川県: '金沢市',
    福井県: '福井市',
    山梨県: '甲府市',
    長野県: '長野市',
    岐阜県: '岐阜市',
    静岡県: '静岡市葵区',
    愛知県: '名古屋市中区',
    三重県: '津市',
    滋賀県: '大津市',
    京都府: '京都市上京区',
    大阪府: '大阪市中央区',
    兵庫県: '神戸市中央区',
    奈良県: '奈良市',
    和歌山県: '和歌山市',
    鳥取県: '鳥取市',
    島根県: '松江市',
    岡山県: '岡山市北区',
    広島県: '広島市中区',
    山口県: '山口市',
    徳島県: '徳島市',
    香川県: '高松市',
    愛媛県: '松山市',
    高知県: '高知市',
    福岡県: '福岡市博多区',
    佐賀県: '佐賀市',
    長崎県: '長崎市',
    熊本県: '熊本市中央区',
    大分県: '大分市',
    宮崎県: '宮崎市',
    鹿児島県: '鹿児島市',
    沖縄県: '那覇市',
  };

  it('knows the 47 prefectures and splits each capital (designated cities with their ward)', () => {
    expect(PREFECTURES).toHaveLength(47);
    expect(Object.keys(capitals).sort()).toEqual([...PREFECTURES].sort());
    for (const [region, locality] of Object.entries(capitals)) {
      expect(addressComponents(`${region}${locality}本町一丁目2番3号`)).toEqual({ region, locality });
    }
  });

  it('splits the 23 special wards of Tokyo', () => {
    const wards =
      '千代田 中央 港 新宿 文京 台東 墨田 江東 品川 目黒 大田 世田谷 渋谷 中野 杉並 豊島 北 荒川 板橋 練馬 足立 葛飾 江戸川';
    const list = wards.split(' ');
    expect(list).toHaveLength(23);
    for (const ward of list) {
      expect(addressComponents(`東京都${ward}区霞が関1-1-1`)).toEqual({
        region: '東京都',
        locality: `${ward}区`,
      });
    }
  });

  it('keeps a county with its town or village, including names with 市, 町 or 村 inside', () => {
    const cases: [string, string][] = [
      ['北海道', '虻田郡倶知安町'],
      ['長野県', '北安曇郡白馬村'],
      ['神奈川県', '中郡二宮町'],
      ['山形県', '西村山郡河北町'],
      ['福島県', '田村郡三春町'],
      ['北海道', '余市郡余市町'],
      ['奈良県', '高市郡明日香村'],
      ['群馬県', '佐波郡玉村町'],
      ['佐賀県', '杵島郡大町町'],
      ['富山県', '中新川郡上市町'],
      ['栃木県', '芳賀郡市貝町'],
      ['山梨県', '西八代郡市川三郷町'],
      ['兵庫県', '神崎郡市川町'],
    ];
    for (const [region, locality] of cases) {
      expect(addressComponents(`${region}${locality}大字村田123番地`)).toEqual({ region, locality });
    }
  });

  it('keeps whole the cities whose name contains 市, 町, 村 or 郡', () => {
    const cases: [string, string][] = [
      ['三重県', '四日市市'],
      ['広島県', '廿日市市'],
      ['千葉県', '市川市'],
      ['千葉県', '市原市'],
      ['石川県', '野々市市'],
      ['新潟県', '十日町市'],
      ['長野県', '大町市'],
      ['東京都', '東村山市'],
      ['東京都', '武蔵村山市'],
      ['東京都', '羽村市'],
      ['東京都', '町田市'],
      ['福島県', '田村市'],
      ['長崎県', '大村市'],
      ['福島県', '郡山市'],
      ['奈良県', '大和郡山市'],
      ['岐阜県', '郡上市'],
      ['福岡県', '小郡市'],
      ['愛知県', '蒲郡市'],
      ['新潟県', '村上市'],
      ['東京都', '八王子市'],
    ];
    for (const [region, locality] of cases) {
      expect(addressComponents(`${region}${locality}本町1-2`)).toEqual({ region, locality });
    }
  });

  it('splits the Tokyo island towns and villages (no county)', () => {
    for (const locality of ['大島町', '青ヶ島村', '小笠原村', '八丈町']) {
      expect(addressComponents(`東京都${locality}元町1番地`)).toEqual({ region: '東京都', locality });
    }
  });

  it('gives nothing for an address without a prefecture, only the region when no municipality follows', () => {
    expect(addressComponents('Somewhere 1-1')).toEqual({});
    expect(addressComponents('')).toEqual({});
    expect(addressComponents('東京都')).toEqual({ region: '東京都' });
  });
});

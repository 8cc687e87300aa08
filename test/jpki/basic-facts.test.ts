import { beforeAll, describe, expect, it } from '@jest/globals';
import { BmpString, PrintableString, Utf8String } from 'asn1js';
import fc from 'fast-check';
import { DEV_DEFAULT_FACTS, DEV_FACT_VARIANTS, type DevPki } from '../../dev-pki/hierarchy.js';
import {
  basicFactOtherNames,
  issueSigningCertificate,
  type OtherNameEntry,
  type SigningCertificateFacts,
} from '../../dev-pki/issue.js';
import { type BasicFacts, readBasicFacts } from '../../functions/jpki/basic-facts.js';
import { parseCertificate } from '../../functions/jpki/certificate.js';
import { VerificationError, type VerificationErrorCode } from '../../functions/jpki/errors.js';
import { BasicFactOid } from '../../protocol/oids.js';
import { devPki } from '../support/dev-pki.js';

const DAY = 86_400_000;
let pki: DevPki;
/** One key for every certificate of this file: issuing is then one CA signature, no key generation. */
let keyPem: string;

beforeAll(async () => {
  pki = await devPki();
  keyPem = (pki.identities[0] as { signing: { privateKeyPem: string } }).signing.privateKeyPem;
});

const now = new Date();
const valid = { notBefore: new Date(now.getTime() - DAY), notAfter: new Date(now.getTime() + 365 * DAY) };

async function certificateWith(
  facts: SigningCertificateFacts,
  otherNames?: (entries: OtherNameEntry[]) => OtherNameEntry[],
): Promise<Uint8Array> {
  const issued = await issueSigningCertificate({
    ca: pki.signingCa,
    facts,
    privateKeyPem: keyPem,
    ...valid,
    ...(otherNames ? { otherNames: otherNames(basicFactOtherNames(facts)) } : {}),
  });
  return issued.der;
}

async function factsOf(facts: SigningCertificateFacts): Promise<BasicFacts> {
  return readBasicFacts(await certificateWith(facts));
}

function refusal(read: () => unknown): VerificationError {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(VerificationError);
    return error as VerificationError;
  }
  throw new Error('the facts were read');
}

async function expectMalformed(
  der: Promise<Uint8Array>,
  detail: RegExp,
  code: VerificationErrorCode = 'FACTS_MALFORMED',
) {
  const certificate = await der;
  const thrown = refusal(() => readBasicFacts(certificate));
  expect(thrown.code).toBe(code);
  expect(thrown.message).toMatch(detail);
}

const utf8 = (value: string) => new Uint8Array(new Utf8String({ value }).toBER(false));

describe('readBasicFacts', () => {
  it('reads the development card facts from a certificate, parsed or DER', async () => {
    const der = await certificateWith(DEV_DEFAULT_FACTS);
    const expected: BasicFacts = {
      name: '個人 太郎',
      nameSubstitutePositions: [],
      gender: 'male',
      genderCode: '1',
      birthDate: '1990-01-01',
      address: '東京都千代田区霞が関二丁目1番2号',
      addressSubstitutePositions: [],
    };
    expect(readBasicFacts(der)).toEqual(expected);
    expect(readBasicFacts(parseCertificate(der))).toEqual(expected);
  });

  it('reads kanji exactly and the substitute positions of name and address', async () => {
    expect(await factsOf(DEV_FACT_VARIANTS.substitutes)).toEqual({
      name: '渡辺　花子',
      nameSubstitutePositions: [1],
      gender: 'female',
      genderCode: '2',
      birthDate: '2000-02-29',
      address: '東京都葛飾区立石五丁目13番1号',
      addressSubstitutePositions: [3],
    });
  });

  it('counts substitute positions in code points (a surrogate pair is one character)', async () => {
    const facts = await factsOf({
      ...DEV_DEFAULT_FACTS,
      name: '𠮷野　髙﨑',
      nameSubstitute: '10011',
      address: '東京都𠀋区1',
      addressSubstitute: '000100',
    });
    expect(facts.name).toBe('𠮷野　髙﨑');
    expect(facts.nameSubstitutePositions).toEqual([0, 3, 4]);
    expect(facts.addressSubstitutePositions).toEqual([3]);
  });

  it('reads absent, empty, short and zero-padded substitute flags as what they flag', async () => {
    const without = await certificateWith(DEV_DEFAULT_FACTS, (entries) =>
      entries.filter(
        (entry) =>
          entry.typeId !== BasicFactOid.nameSubstitute && entry.typeId !== BasicFactOid.addressSubstitute,
      ),
    );
    expect(readBasicFacts(without)).toMatchObject({
      nameSubstitutePositions: [],
      addressSubstitutePositions: [],
    });
    expect(await factsOf({ ...DEV_DEFAULT_FACTS, nameSubstitute: '', addressSubstitute: '' })).toMatchObject({
      nameSubstitutePositions: [],
      addressSubstitutePositions: [],
    });
    expect(await factsOf({ ...DEV_DEFAULT_FACTS, nameSubstitute: '01' })).toMatchObject({
      nameSubstitutePositions: [1],
    });
    expect(await factsOf({ ...DEV_DEFAULT_FACTS, nameSubstitute: '00001000000' })).toMatchObject({
      nameSubstitutePositions: [4],
    });
  });

  it.each([
    ['not flags', '0a000', /name substitute characters: not a string of 0 and 1 flags/],
    ['a digit other than 0 and 1', '00200', /name substitute characters: not a string of 0 and 1 flags/],
    [
      'a flag past the end of the name',
      '000001',
      /name substitute characters: flags a position past the end/,
    ],
  ])('refuses name substitute flags with %s', async (_, nameSubstitute, detail) => {
    await expectMalformed(certificateWith({ ...DEV_DEFAULT_FACTS, nameSubstitute }), detail);
  });

  it('refuses address substitute flags past the end of the address', async () => {
    await expectMalformed(
      certificateWith({ ...DEV_DEFAULT_FACTS, address: '東京都', addressSubstitute: '0001' }),
      /address substitute characters: flags a position past the end/,
    );
  });

  it.each([
    ['1', '1868-01-25'],
    ['1', '1912-07-29'],
    ['2', '1912-07-30'],
    ['2', '1926-12-24'],
    ['3', '1926-12-25'],
    ['3', '1989-01-07'],
    ['4', '1989-01-08'],
    ['4', '2019-04-30'],
    ['5', '2019-05-01'],
    ['0', '1950-06-15'],
  ])('reads era digit %s with %s', async (era, date) => {
    const facts = await factsOf({ ...DEV_DEFAULT_FACTS, birthDate: `${era}${date.replaceAll('-', '')}` });
    expect(facts.birthDate).toBe(date);
  });

  it.each(Object.entries(DEV_FACT_VARIANTS))(
    'reads the %s variant of the development PKI',
    async (_, variant) => {
      const facts = await factsOf(variant);
      expect(facts.name).toBe(variant.name);
      expect(facts.address).toBe(variant.address);
      expect(facts.birthDate.replaceAll('-', '')).toBe(variant.birthDate.slice(1));
    },
  );

  it.each([
    ['昭和 digit on the first day of 平成', '319890108', /era 3/],
    ['平成 digit on the last day of 昭和', '419890107', /era 4/],
    ['大正 digit on the first day of 令和', '220190501', /era 2/],
    ['令和 digit in 1900', '519000101', /era 5/],
    ['明治 digit before 明治', '118680124', /era 1/],
    ['unknown era digit 6', '620200101', /unknown era digit 6/],
    ['unknown era digit 9', '919900101', /unknown era digit 9/],
  ])('refuses a birth date whose era contradicts it: %s', async (_, birthDate, detail) => {
    await expectMalformed(certificateWith({ ...DEV_DEFAULT_FACTS, birthDate }), detail);
  });

  it('accepts 29 February only in leap years (2000 is one, 1900 and 2023 are not)', async () => {
    expect((await factsOf({ ...DEV_DEFAULT_FACTS, birthDate: '420000229' })).birthDate).toBe('2000-02-29');
    expect((await factsOf({ ...DEV_DEFAULT_FACTS, birthDate: '520240229' })).birthDate).toBe('2024-02-29');
    expect((await factsOf({ ...DEV_DEFAULT_FACTS, birthDate: '319640229' })).birthDate).toBe('1964-02-29');
    await expectMalformed(
      certificateWith({ ...DEV_DEFAULT_FACTS, birthDate: '119000229' }),
      /not a calendar date/,
    );
    await expectMalformed(
      certificateWith({ ...DEV_DEFAULT_FACTS, birthDate: '520230229' }),
      /not a calendar date/,
    );
  });

  it.each([
    ['month 13', '419901301', /not a calendar date/],
    ['day 32', '419900132', /not a calendar date/],
    ['day 0', '419900100', /not a calendar date/],
    ['30 February', '419900230', /not a calendar date/],
    ['a year before 1000', '000990101', /not a calendar date/],
    ['too short', '41990011', /not an era digit and YYYYMMDD/],
    ['a letter', 'H19900101', /not an era digit and YYYYMMDD/],
    ['separators', '41990-1-1', /not an era digit and YYYYMMDD/],
    ['full-width digits', '４１９９００１０１', /not an era digit and YYYYMMDD/],
  ])('refuses a birth date with %s', async (_, birthDate, detail) => {
    await expectMalformed(certificateWith({ ...DEV_DEFAULT_FACTS, birthDate }), detail);
  });

  it('refuses a birth date after the certificate was issued (in Japan time)', async () => {
    const tomorrowInJapan = new Date(valid.notBefore.getTime() + 9 * 3600_000 + DAY)
      .toISOString()
      .slice(0, 10);
    const birthDate = `5${tomorrowInJapan.replaceAll('-', '')}`;
    await expectMalformed(
      certificateWith({ ...DEV_DEFAULT_FACTS, birthDate }),
      /after the certificate was issued/,
    );
    const issuedDay = new Date(valid.notBefore.getTime() + 9 * 3600_000).toISOString().slice(0, 10);
    expect(
      (await factsOf({ ...DEV_DEFAULT_FACTS, birthDate: `5${issuedDay.replaceAll('-', '')}` })).birthDate,
    ).toBe(issuedDay);
  });

  it('maps gender 1, 2, 3 and keeps the code', async () => {
    for (const [code, gender] of [
      ['1', 'male'],
      ['2', 'female'],
      ['3', 'other'],
    ] as const) {
      expect(await factsOf({ ...DEV_DEFAULT_FACTS, gender: code })).toMatchObject({
        gender,
        genderCode: code,
      });
    }
  });

  it.each(['0', '4', '9', '男', '', '01', 'M'])('refuses gender code %p', async (gender) => {
    await expectMalformed(
      certificateWith({ ...DEV_DEFAULT_FACTS, gender }),
      /gender: not a known gender code/,
    );
  });

  it.each([
    [BasicFactOid.name, /name: missing/],
    [BasicFactOid.gender, /gender: missing/],
    [BasicFactOid.birthDate, /birth date: missing/],
    [BasicFactOid.address, /address: missing/],
  ])('refuses a certificate without %s', async (oid, detail) => {
    await expectMalformed(
      certificateWith(DEV_DEFAULT_FACTS, (entries) => entries.filter((entry) => entry.typeId !== oid)),
      detail,
    );
  });

  it('refuses a certificate without subjectAltName', () => {
    const userAuth = (pki.identities[0] as { userAuth: { der: Uint8Array } }).userAuth.der;
    const error = refusal(() => readBasicFacts(userAuth));
    expect(error.code).toBe('FACTS_MALFORMED');
    expect(error.message).toMatch(/no subjectAltName/);
  });

  it.each([
    [BasicFactOid.name, /name: present more than once/],
    [BasicFactOid.birthDate, /birth date: present more than once/],
    [BasicFactOid.nameSubstitute, /name substitute characters: present more than once/],
    [BasicFactOid.addressSubstitute, /address substitute characters: present more than once/],
  ])('refuses a repeated %s, even with the same value', async (oid, detail) => {
    await expectMalformed(
      certificateWith(DEV_DEFAULT_FACTS, (entries) => [
        ...entries,
        entries.find((entry) => entry.typeId === oid) as OtherNameEntry,
      ]),
      detail,
    );
  });

  it.each([
    [
      'a PrintableString',
      BasicFactOid.gender,
      new Uint8Array(new PrintableString({ value: '1' }).toBER(false)),
      /gender: not a UTF8String/,
    ],
    [
      'a BMPString',
      BasicFactOid.name,
      new Uint8Array(new BmpString({ value: '個人 太郎' }).toBER(false)),
      /name: not a UTF8String/,
    ],
    [
      'invalid UTF-8',
      BasicFactOid.address,
      Uint8Array.from([0x0c, 0x02, 0xc3, 0x28]),
      /address: not valid UTF-8/,
    ],
    [
      'an overlong UTF-8 encoding',
      BasicFactOid.name,
      Uint8Array.from([0x0c, 0x02, 0xc0, 0xaf]),
      /name: not valid UTF-8/,
    ],
    [
      'a UTF-8 encoded surrogate',
      BasicFactOid.name,
      Uint8Array.from([0x0c, 0x03, 0xed, 0xa0, 0x80]),
      /name: not valid UTF-8/,
    ],
  ])('refuses a fact that is %s', async (_, oid, value, detail) => {
    await expectMalformed(
      certificateWith(DEV_DEFAULT_FACTS, (entries) =>
        entries.map((entry) => (entry.typeId === oid ? { typeId: oid, value } : entry)),
      ),
      detail,
    );
  });

  it.each([
    ['an empty name', { name: '' }, /name: empty/],
    ['a blank name', { name: '　' }, /name: empty/],
    ['a name with a line break', { name: '個人\n太郎' }, /name: contains a control character/],
    ['an address with a NUL', { address: '東京都\u0000千代田区' }, /address: contains a control character/],
    [
      'an address with a C1 control',
      { address: '東京都\u0085千代田区' },
      /address: contains a control character/,
    ],
    [
      'an address with a line separator',
      { address: '東京都\u2028千代田区' },
      /address: contains a control character/,
    ],
  ])('refuses %s', async (_, change, detail) => {
    await expectMalformed(certificateWith({ ...DEV_DEFAULT_FACTS, ...change }), detail);
  });

  it('ignores otherNames of the arc it does not know', async () => {
    const der = await certificateWith(DEV_DEFAULT_FACTS, (entries) => [
      { typeId: '1.2.392.200149.8.5.5.7', value: utf8('future') },
      { typeId: '1.2.3.4', value: utf8('other') },
      ...entries,
    ]);
    expect(readBasicFacts(der).name).toBe('個人 太郎');
  });

  it('never puts a fact in an error message', async () => {
    const secretName = '秘密　花子';
    const der = await certificateWith({ ...DEV_DEFAULT_FACTS, name: secretName, birthDate: '319891231' });
    const error = refusal(() => readBasicFacts(der));
    expect(error.message).not.toMatch(/秘密|花子|1989|19891231/);
  });

  it('refuses DER that is no certificate as SIGNING_CERTIFICATE_INVALID', () => {
    expect(refusal(() => readBasicFacts(Uint8Array.from([0x30, 0x03, 0x02, 0x01, 0x01]))).code).toBe(
      'SIGNING_CERTIFICATE_INVALID',
    );
  });
});

describe('readBasicFacts (properties)', () => {
  /** The era digit of a Gregorian day, from the first days of the eras (the reader's table is not consulted). */
  const eraOf = (iso: string) =>
    iso >= '2019-05-01'
      ? '5'
      : iso >= '1989-01-08'
        ? '4'
        : iso >= '1926-12-25'
          ? '3'
          : iso >= '1912-07-30'
            ? '2'
            : '1';

  it('reads every day since 1868-01-25 with its era digit, and refuses it with any other era digit but 0', async () => {
    const first = Date.UTC(1868, 0, 25);
    const last = valid.notBefore.getTime() - DAY;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: Math.floor((last - first) / DAY) }),
        fc.integer({ min: 1, max: 5 }),
        async (days, other) => {
          const iso = new Date(first + days * DAY).toISOString().slice(0, 10);
          const digits = iso.replaceAll('-', '');
          const era = eraOf(iso);
          expect((await factsOf({ ...DEV_DEFAULT_FACTS, birthDate: `${era}${digits}` })).birthDate).toBe(iso);
          expect((await factsOf({ ...DEV_DEFAULT_FACTS, birthDate: `0${digits}` })).birthDate).toBe(iso);
          if (String(other) !== era) {
            const der = await certificateWith({ ...DEV_DEFAULT_FACTS, birthDate: `${other}${digits}` });
            expect(refusal(() => readBasicFacts(der)).code).toBe('FACTS_MALFORMED');
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('gives back exactly the flagged positions of any name', async () => {
    const character = fc.constantFrom('山', '田', '𠮷', '髙', '　', 'ア', 'A', '﨑');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(character, fc.boolean()), { minLength: 1, maxLength: 20 }),
        async (characters) => {
          const name = characters.map(([c]) => c).join('');
          if (name.trim() === '') return;
          const flags = characters.map(([, flagged]) => (flagged ? '1' : '0')).join('');
          const expected = characters.flatMap(([, flagged], index) => (flagged ? [index] : []));
          const facts = await factsOf({ ...DEV_DEFAULT_FACTS, name, nameSubstitute: flags });
          expect(facts.name).toBe(name);
          expect(facts.nameSubstitutePositions).toEqual(expected);
          expect(
            facts.nameSubstitutePositions.every((position) => Array.from(name)[position] !== undefined),
          ).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });
});

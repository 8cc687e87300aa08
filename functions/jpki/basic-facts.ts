/**
 * The basic facts (基本4情報) of a JPKI signing certificate, read from its subjectAltName
 * otherNames under `1.2.392.200149.8.5.5` (shared/jpki-card.md §3). Each otherName is
 * `[0] { type-id OID, [0] EXPLICIT UTF8String }`; any other string type is refused.
 *
 * | OID | fact | as read here |
 * |---|---|---|
 * | `.1` | name (氏名; surname and given name separated by a full-width space on real cards) | exactly as encoded |
 * | `.2` | where the name uses substitute characters (氏名代替文字の使用位置) | see below |
 * | `.3` | gender (性別): `1` 男, `2` 女, `3` 不明 | `male` / `female` / `other`, the code kept as `genderCode` |
 * | `.4` | birth date (生年月日): era digit + Gregorian YYYYMMDD | `YYYY-MM-DD`, era checked against the date |
 * | `.5` | address (住所), from the prefecture, no postcode (at most 200 characters) | exactly as encoded |
 * | `.6` | where the address uses substitute characters | see below |
 *
 * **Substitute characters** (代替文字): a character outside JIS levels 1–2 and the supplementary
 * kanji (外字) is replaced by a similar standard character. The `.2` / `.6` value is read as one
 * flag per character of the name / address (a real card carries `00000` and 22 `0`s):
 * `0` the character is the registered one, `1` it is a substitute. It is returned as the list of
 * 0-based positions, counted in Unicode code points, of the flagged characters. Absent or empty
 * means none; flags past the end of the value must be `0` (a padded field) and missing flags count
 * as `0`; any other character, or a `1` past the value's end, is FACTS_MALFORMED. The format is
 * inferred from real certificates, not from a published specification.
 *
 * **Birth date era digits**: `1` 明治 (1868-01-25 – 1912-07-29), `2` 大正 (1912-07-30 –
 * 1926-12-24), `3` 昭和 (1926-12-25 – 1989-01-07), `4` 平成 (1989-01-08 – 2019-04-30), `5` 令和
 * (2019-05-01 –), `0` era unknown (不明: the date itself is still checked). A date outside its
 * era, an impossible date (1900-02-29, 2023-02-29), or one after the certificate was issued is
 * FACTS_MALFORMED. The date is the Gregorian one the certificate holds; no era year is computed.
 *
 * Unknown OIDs under the arc and other GeneralName forms are ignored; every known fact may appear
 * once. Error details name the fact and the problem, never its value.
 */
import {
  childrenOf,
  contentOf,
  contextTag,
  type DerElement,
  DerError,
  decodeOid,
  readElement,
  readWhole,
  Tag,
} from '../../protocol/der.js';
import { BasicFactOid, Ext } from '../../protocol/oids.js';
import { type ParsedCertificate, parseCertificate } from './certificate.js';
import { VerificationError } from './errors.js';

/** The facts of one signing certificate. Personal data: never log or store them. */
export interface BasicFacts {
  readonly name: string;
  /** 0-based code-point positions in `name` where a substitute character stands. */
  readonly nameSubstitutePositions: readonly number[];
  readonly gender: 'male' | 'female' | 'other';
  /** The certificate's gender code (`1`, `2`, `3`). */
  readonly genderCode: string;
  /** `YYYY-MM-DD`, Gregorian. */
  readonly birthDate: string;
  readonly address: string;
  /** 0-based code-point positions in `address` where a substitute character stands. */
  readonly addressSubstitutePositions: readonly number[];
}

const GENDERS: Readonly<Record<string, BasicFacts['gender']>> = { '1': 'male', '2': 'female', '3': 'other' };

/** First and last day (`YYYY-MM-DD`) of each era digit; `0` is an unknown era. */
const ERAS: Readonly<Record<string, readonly [first: string, last: string]>> = {
  '0': ['0000-01-01', '9999-12-31'],
  '1': ['1868-01-25', '1912-07-29'],
  '2': ['1912-07-30', '1926-12-24'],
  '3': ['1926-12-25', '1989-01-07'],
  '4': ['1989-01-08', '2019-04-30'],
  '5': ['2019-05-01', '9999-12-31'],
};

/** Japan Standard Time, UTC+9 without daylight saving: the day a certificate was issued in Japan. */
const JST_OFFSET_MS = 9 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

type FactName = keyof typeof BasicFactOid;
const FACT_BY_OID: ReadonlyMap<string, FactName> = new Map(
  Object.entries(BasicFactOid).map(([fact, oid]) => [oid, fact as FactName]),
);
const FACT_WORDS: Readonly<Record<FactName, string>> = {
  name: 'name',
  nameSubstitute: 'name substitute characters',
  gender: 'gender',
  birthDate: 'birth date',
  address: 'address',
  addressSubstitute: 'address substitute characters',
};

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Reads the basic facts of a signing certificate (parsed, or DER). Does not verify the
 * certificate: verifyIdentity() does, before it reads them. Throws VerificationError
 * FACTS_MALFORMED (SIGNING_CERTIFICATE_INVALID for DER that is no certificate).
 */
export function readBasicFacts(certificate: ParsedCertificate | Uint8Array): BasicFacts {
  const parsed = certificate instanceof Uint8Array ? parseSigningCertificate(certificate) : certificate;
  const raw = readRawFacts(parsed);
  const need = (fact: FactName): string => {
    const value = raw.get(fact);
    if (value === undefined) throw malformed(fact, 'missing');
    return value;
  };
  const name = checkText('name', need('name'));
  const address = checkText('address', need('address'));
  const genderCode = need('gender');
  const gender = GENDERS[genderCode];
  if (!gender) throw malformed('gender', 'not a known gender code');
  return {
    name,
    nameSubstitutePositions: substitutePositions('nameSubstitute', raw.get('nameSubstitute'), name),
    gender,
    genderCode,
    birthDate: readBirthDate(need('birthDate'), parsed.notBefore),
    address,
    addressSubstitutePositions: substitutePositions(
      'addressSubstitute',
      raw.get('addressSubstitute'),
      address,
    ),
  };
}

function parseSigningCertificate(der: Uint8Array): ParsedCertificate {
  try {
    return parseCertificate(der);
  } catch (error) {
    throw new VerificationError('SIGNING_CERTIFICATE_INVALID', 'not a readable certificate', {
      cause: error,
    });
  }
}

/** The UTF8String value of every known fact, by fact; refuses repeated facts and other string types. */
function readRawFacts(certificate: ParsedCertificate): Map<FactName, string> {
  const extension = certificate.extensions.get(Ext.subjectAltName);
  if (!extension) throw new VerificationError('FACTS_MALFORMED', 'the certificate has no subjectAltName');
  const bytes = extension.value;
  const facts = new Map<FactName, string>();
  let names: DerElement[];
  try {
    names = childrenOf(bytes, readWhole(bytes, Tag.SEQUENCE));
  } catch (error) {
    throw new VerificationError('FACTS_MALFORMED', 'unreadable subjectAltName', { cause: error });
  }
  for (const generalName of names) {
    if (generalName.tag !== contextTag(0, true)) continue;
    let typeId: string;
    let value: DerElement;
    try {
      const parts = childrenOf(bytes, generalName);
      const [oid, wrapper] = parts;
      if (parts.length !== 2 || oid?.tag !== Tag.OID || wrapper?.tag !== contextTag(0, true)) {
        throw new DerError('bad otherName');
      }
      typeId = decodeOid(contentOf(bytes, oid));
      value = readElement(bytes, wrapper.valueStart, wrapper.end);
      if (value.end !== wrapper.end) throw new DerError('bad otherName value');
    } catch (error) {
      throw new VerificationError('FACTS_MALFORMED', 'unreadable otherName', { cause: error });
    }
    const fact = FACT_BY_OID.get(typeId);
    if (!fact) continue;
    if (facts.has(fact)) throw malformed(fact, 'present more than once');
    if (value.tag !== Tag.UTF8_STRING) throw malformed(fact, 'not a UTF8String');
    try {
      facts.set(fact, utf8.decode(contentOf(bytes, value)));
    } catch (error) {
      throw new VerificationError('FACTS_MALFORMED', `${FACT_WORDS[fact]}: not valid UTF-8`, {
        cause: error,
      });
    }
  }
  return facts;
}

/** C0 and C1 controls, DEL, and the line/paragraph separators: never part of a name or address. */
const CONTROL = /[\p{Cc}\p{Zl}\p{Zp}]/u;

function checkText(fact: 'name' | 'address', value: string): string {
  if (value.trim() === '') throw malformed(fact, 'empty');
  if (CONTROL.test(value)) throw malformed(fact, 'contains a control character');
  return value;
}

function substitutePositions(fact: FactName, flags: string | undefined, value: string): number[] {
  if (flags === undefined) return [];
  if (!/^[01]*$/.test(flags)) throw malformed(fact, 'not a string of 0 and 1 flags');
  const length = Array.from(value).length;
  const positions: number[] = [];
  for (let index = flags.indexOf('1'); index !== -1; index = flags.indexOf('1', index + 1)) {
    if (index >= length) throw malformed(fact, 'flags a position past the end of the value');
    positions.push(index);
  }
  return positions;
}

function readBirthDate(value: string, issuedAt: Date): string {
  const match = /^([0-9])([0-9]{4})([0-9]{2})([0-9]{2})$/.exec(value);
  if (!match) throw malformed('birthDate', 'not an era digit and YYYYMMDD');
  const [, era, year, month, day] = match as unknown as [string, string, string, string, string];
  const [y, m, d] = [Number(year), Number(month), Number(day)];
  const time = Date.UTC(y, m - 1, d);
  const date = new Date(time);
  if (y < 1000 || date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) {
    throw malformed('birthDate', 'not a calendar date');
  }
  const iso = `${year}-${month}-${day}`;
  const range = ERAS[era];
  if (!range) throw malformed('birthDate', `unknown era digit ${era}`);
  if (iso < range[0] || iso > range[1]) throw malformed('birthDate', `the date is not in era ${era}`);
  const issuedDay = Math.floor((issuedAt.getTime() + JST_OFFSET_MS) / DAY_MS) * DAY_MS;
  if (time > issuedDay) throw malformed('birthDate', 'after the certificate was issued');
  return iso;
}

function malformed(fact: FactName, problem: string): VerificationError {
  return new VerificationError('FACTS_MALFORMED', `${FACT_WORDS[fact]}: ${problem}`);
}

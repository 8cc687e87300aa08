/**
 * What the privacy tests look for in a dump of the table and the logs: every spelling of a
 * person's basic facts (name, address, date of birth), of the signing certificate and of both
 * certificate serials that could end up in storage or a log line — plain, percent-encoded, UTF-8
 * hex, base64 and base64url at every byte alignment — and the dump itself, binary attributes
 * rendered in each of those encodings too.
 */
import { type AttributeValue, ScanCommand, type ScanCommandInput } from '@aws-sdk/client-dynamodb';
import type { DevIdentity } from '../../dev-pki/hierarchy.js';
import type { TestTable } from '../storage/local-table.js';

/** One thing that must not appear, and what it is (for the failure message). */
export interface Needle {
  readonly what: string;
  readonly text: string;
}

/**
 * Shortest hex or base64 spelling looked for. The dump holds a lot of random-looking hex and
 * base64 (ids, ciphertexts, keys): a 4-character base64 piece of a 3-byte kanji turns up in it by
 * chance in a few runs out of a hundred (compared without case: ~1 in 1.7 million per position),
 * while 12 characters (≥ 48 bits) never do. Shorter pieces are still looked for in their plain,
 * percent-encoded and JSON-escaped forms, and the whole value in every form.
 */
const MIN_ENCODED_CHARS = 12;

/**
 * The encodings of `bytes` that survive being embedded in a larger text: hex, and base64 /
 * base64url of each alignment's whole 3-byte groups (the characters any base64 of a blob holding
 * `bytes` contains, whatever the offset) — those of at least MIN_ENCODED_CHARS characters.
 */
export function byteSpellings(bytes: Uint8Array): string[] {
  const buffer = Buffer.from(bytes);
  const spellings = [buffer.toString('hex')];
  for (let offset = 0; offset < 3 && buffer.length - offset >= 3; offset += 1) {
    const whole = buffer.subarray(offset, offset + Math.floor((buffer.length - offset) / 3) * 3);
    spellings.push(whole.toString('base64'), whole.toString('base64url'));
  }
  return spellings.filter((spelling) => spelling.length >= MIN_ENCODED_CHARS);
}

/** A text as itself, percent-encoded, as a JSON \u escape sequence and in byteSpellings of its UTF-8. */
export function textSpellings(text: string): string[] {
  const jsonEscaped = text
    .split('')
    .map((unit) =>
      unit.charCodeAt(0) > 0x7f ? `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}` : unit,
    )
    .join('');
  return [...new Set([text, encodeURIComponent(text), jsonEscaped, ...byteSpellings(Buffer.from(text))])];
}

/** A date of birth in the card's form (era digit + YYYYMMDD) in every form a program would write it. */
export function birthDateSpellings(cardForm: string): string[] {
  const match = /^[1-5](\d{4})(\d{2})(\d{2})$/.exec(cardForm);
  if (!match) throw new Error(`${cardForm} is not an era digit + YYYYMMDD`);
  const [, year, month, day] = match as unknown as [string, string, string, string];
  const m = String(Number(month));
  const d = String(Number(day));
  return [
    cardForm,
    `${year}-${month}-${day}`,
    `${year}${month}${day}`,
    `${year}/${month}/${day}`,
    `${year}/${m}/${d}`,
    `${year}年${m}月${d}日`,
    `${year}年${month}月${day}日`,
  ].flatMap(textSpellings);
}

/** A certificate serial (hex) as hex in both cases and with its leading zeros dropped, and in decimal. */
export function serialSpellings(serialHex: string): string[] {
  const value = BigInt(`0x${serialHex}`);
  const hex = value.toString(16);
  return [
    ...new Set([
      serialHex.toLowerCase(),
      serialHex.toUpperCase(),
      hex,
      hex.toUpperCase(),
      value.toString(10),
    ]),
  ];
}

/** Everything of `person`'s card that must not be kept: the facts, the signing certificate, both serials. */
export function personalDataNeedles(person: DevIdentity): Needle[] {
  const { facts } = person;
  const nameParts = facts.name.split(/[\s\u3000]+/).filter((part) => part.length >= 2);
  const der = person.signing.der;
  return [
    ...[facts.name, facts.name.replace(/[\s\u3000]+/g, ''), ...nameParts].flatMap((text) =>
      textSpellings(text).map((spelling) => ({ what: `${person.label}'s name`, text: spelling })),
    ),
    ...textSpellings(facts.address).map((text) => ({ what: `${person.label}'s address`, text })),
    ...birthDateSpellings(facts.birthDate).map((text) => ({ what: `${person.label}'s date of birth`, text })),
    // The whole certificate, and a 60-byte piece of its middle (a partial or re-wrapped copy).
    ...[der, der.subarray(Math.floor(der.length / 2), Math.floor(der.length / 2) + 60)]
      .flatMap(byteSpellings)
      .map((text) => ({ what: `${person.label}'s signing certificate`, text })),
    ...serialSpellings(person.userAuth.serialHex).map((text) => ({
      what: `${person.label}'s user-auth serial`,
      text,
    })),
    ...serialSpellings(person.signing.serialHex).map((text) => ({
      what: `${person.label}'s signing serial`,
      text,
    })),
  ];
}

/**
 * The needles found in `dump` (compared without case for the ASCII encodings, and also with
 * all whitespace and JSON line-break escapes removed, so a PEM's line breaks hide nothing).
 */
export function leaksIn(dump: string, needles: readonly Needle[]): string[] {
  const folded = dump.toLowerCase();
  const squeezed = folded.replace(/\\[nr]|\s/g, '');
  return needles
    .filter(({ text }) => {
      const needle = text.toLowerCase();
      return folded.includes(needle) || squeezed.includes(needle);
    })
    .map(
      ({ what, text }) => `${what} as ${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)}`,
    );
}

/** One attribute value as text: strings and numbers as they are, binary as UTF-8, hex and base64. */
function attributeText(value: AttributeValue): unknown {
  if (value.B !== undefined) {
    const bytes = Buffer.from(value.B);
    return { utf8: bytes.toString('utf8'), hex: bytes.toString('hex'), base64: bytes.toString('base64') };
  }
  if (value.BS !== undefined) return value.BS.map((bytes) => attributeText({ B: bytes }));
  if (value.L !== undefined) return value.L.map(attributeText);
  if (value.M !== undefined)
    return Object.fromEntries(Object.entries(value.M).map(([key, inner]) => [key, attributeText(inner)]));
  return value.S ?? value.N ?? value.SS ?? value.NS ?? value.BOOL ?? value.NULL;
}

/** Every item of the table, every attribute, as one text (binary attributes in each encoding). */
export async function tableDump({ client, tableName }: TestTable): Promise<{ items: number; text: string }> {
  const lines: string[] = [];
  let ExclusiveStartKey: ScanCommandInput['ExclusiveStartKey'];
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey }));
    for (const item of page.Items ?? []) {
      lines.push(
        JSON.stringify(
          Object.fromEntries(Object.entries(item).map(([key, value]) => [key, attributeText(value)])),
        ),
      );
    }
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return { items: lines.length, text: lines.join('\n') };
}

/**
 * Distinguished names of the JPKI profile (shared/jpki-card.md §3): C as PrintableString, every
 * other attribute as UTF8String, in the order the real certificates use.
 */
import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from '@peculiar/asn1-x509';
import { AttributeType } from '../protocol/oids.js';

const OID_C = AttributeType.country;
const OID_L = AttributeType.locality;
const OID_O = AttributeType.organization;
const OID_OU = AttributeType.organizationalUnit;
const OID_CN = AttributeType.commonName;

type Rdn = readonly [type: string, value: string];

/** Builds a Name from (attribute OID, value) pairs, one attribute per RDN. */
export function jpkiName(rdns: readonly Rdn[]): Name {
  return new Name(
    rdns.map(
      ([type, value]) =>
        new RelativeDistinguishedName([
          new AttributeTypeAndValue({
            type,
            value: new AttributeValue(type === OID_C ? { printableString: value } : { utf8String: value }),
          }),
        ]),
    ),
  );
}

export type CaKind = 'user-auth' | 'signing';

const CA_UNIT: Record<CaKind, string> = {
  'user-auth': 'JPKI for user authentication',
  signing: 'JPKI for digital signature',
};

/** The subject DN of a JPKI CA; identical for every generation. */
export function caName(kind: CaKind, organization = 'JPKI'): Name {
  return jpkiName([
    [OID_C, 'JP'],
    [OID_O, organization],
    [OID_OU, CA_UNIT[kind]],
    [OID_OU, 'Japan Agency for Local Authority Information Systems'],
  ]);
}

/** The Japanese directory name JPKI puts in issuerAltName. */
export function caAltName(kind: CaKind): Name {
  return jpkiName([
    [OID_C, 'JP'],
    [OID_O, kind === 'user-auth' ? '公的個人認証サービス利用者証明用' : '公的個人認証サービス署名用'],
    [OID_OU, '地方公共団体情報システム機構'],
  ]);
}

/** The DirName that names the CRL of one municipality. */
export function crlDistributionPointName(
  kind: CaKind,
  prefecture: string,
  city: string,
  organization = 'JPKI',
): Name {
  return jpkiName([
    [OID_C, 'JP'],
    [OID_O, organization],
    [OID_OU, CA_UNIT[kind]],
    [OID_OU, 'CRL Distribution Points'],
    [OID_OU, prefecture],
    [OID_CN, `${city} CRLDP`],
  ]);
}

/** Subject of a user-authentication certificate: C=JP and a 23-character identifier, no personal data. */
export function userAuthSubject(commonName: string): Name {
  return jpkiName([
    [OID_C, 'JP'],
    [OID_CN, commonName],
  ]);
}

/** Subject of a signing certificate: C=JP, prefecture, city and an issue id. */
export function signingSubject(prefecture: string, city: string, commonName: string): Name {
  return jpkiName([
    [OID_C, 'JP'],
    [OID_L, prefecture],
    [OID_L, city],
    [OID_CN, commonName],
  ]);
}

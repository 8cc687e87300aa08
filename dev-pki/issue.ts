/**
 * Issues development certificates and CRLs in the JPKI profile (shared/jpki-card.md §3) with
 * @peculiar/x509. Every profile field can be bent per call, so tests can make the exact wrong
 * certificate they need. Development only: private keys are handed out as PEM.
 */
import { createPrivateKey, createPublicKey, generateKeyPair, randomBytes, webcrypto } from 'node:crypto';
import { promisify } from 'node:util';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier,
  CertificatePolicies,
  CRLDistributionPoints,
  CRLNumber,
  DistributionPoint,
  DistributionPointName,
  GeneralName,
  IssueAlternativeName,
  IssuingDistributionPoint,
  KeyIdentifier,
  type Name,
  OtherName,
  PolicyInformation,
  PolicyQualifierInfo,
  SubjectAlternativeName,
} from '@peculiar/asn1-x509';
import { IA5String, Utf8String } from 'asn1js';
import { encodePem } from '../functions/jpki/pem.js';
import {
  BasicFactOid,
  Ext,
  OID_CPS_QUALIFIER,
  OID_EKU_CLIENT_AUTH,
  POLICY_SIGNING,
  POLICY_USER_AUTH,
} from '../protocol/oids.js';
import {
  type CaKind,
  caAltName,
  caName,
  crlDistributionPointName,
  signingSubject,
  userAuthSubject,
} from './names.js';
import * as x509 from './x509.js';

const generateKeyPairAsync = promisify(generateKeyPair);

export type Hash = 'SHA-256' | 'SHA-1';
export const DEV_CPS_URL = 'http://www.jpki.go.jp/ca/cps/';
export const DEV_OCSP_URL = 'http://127.0.0.1:2560/';

/** A certificate with its private key (PKCS#8 PEM). */
export interface DevCertificate {
  readonly der: Uint8Array;
  readonly pem: string;
  readonly serialHex: string;
  readonly privateKeyPem: string;
}

/** A development CA of one JPKI kind and generation. */
export interface DevCa extends DevCertificate {
  readonly kind: CaKind;
  readonly name: Name;
  readonly subjectKeyId: Uint8Array;
  readonly organization: string;
}

export interface ValidityParams {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface CaParams extends ValidityParams {
  readonly kind: CaKind;
  readonly serialHex: string;
  /** `JPKI` as on real cards (the default), or e.g. `JPKI-TEST`. */
  readonly organization?: string;
  readonly bits?: number;
}

/** Knobs that bend an end-entity profile, for tests that need a certificate that is wrong in one way. */
export interface ProfileOverrides {
  readonly bits?: number;
  readonly hash?: Hash;
  readonly keyUsage?: number;
  /** Certificate policies; an empty list omits the extension. */
  readonly policies?: readonly string[];
  /** Whether the certificate policies extension is critical (default true, as on real cards). */
  readonly policiesCritical?: boolean;
  readonly extendedKeyUsage?: readonly string[];
  /** Reuse this key (PKCS#8 PEM) instead of generating one: a renewed or re-issued certificate. */
  readonly privateKeyPem?: string;
}

export interface UserAuthParams extends ValidityParams, ProfileOverrides {
  readonly ca: DevCa;
  readonly serialHex?: string;
  readonly commonName?: string;
  readonly prefecture?: string;
  readonly city?: string;
  readonly ocspUrl?: string;
}

/**
 * The basic facts (基本4情報) as a signing certificate encodes them (functions/jpki/basic-facts.ts
 * reads them): the strings of the otherNames.
 */
export interface SigningCertificateFacts {
  readonly name: string;
  /** One era digit + Gregorian YYYYMMDD (1 明治 2 大正 3 昭和 4 平成 5 令和, 0 unknown). */
  readonly birthDate: string;
  /** `1` male, `2` female, `3` other (不明). */
  readonly gender: string;
  readonly address: string;
  /** Substitute-character flags of the name, one `0`/`1` per character (default: all `0`, as real cards). */
  readonly nameSubstitute?: string;
  /** Substitute-character flags of the address (default: all `0`). */
  readonly addressSubstitute?: string;
}

/** One subjectAltName otherName: its type id and the DER of the value inside `[0] EXPLICIT`. */
export interface OtherNameEntry {
  readonly typeId: string;
  readonly value: Uint8Array;
}

export interface SigningParams extends ValidityParams, ProfileOverrides {
  readonly ca: DevCa;
  readonly facts: SigningCertificateFacts;
  /** Replaces the otherNames made from `facts` (for tests that need a missing, repeated or mistyped fact). */
  readonly otherNames?: readonly OtherNameEntry[];
  readonly serialHex?: string;
  readonly prefecture?: string;
  readonly city?: string;
  /** An OCSP responder for authorityInfoAccess (default: no AIA, as jpki-card.md lists none for signing certificates). */
  readonly ocspUrl?: string;
}

export interface CrlParams {
  readonly ca: DevCa;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly crlNumber: number;
  readonly entries?: readonly { serialHex: string; revokedAt: Date; reason?: x509.X509CrlReason }[];
  readonly hash?: Hash;
  /**
   * The municipality whose certificates this CRL covers (JPKI splits CRLs so): a critical
   * issuingDistributionPoint naming the same DirName as their CRL distribution point. Absent: a
   * CRL of the whole CA.
   */
  readonly partition?: { readonly prefecture: string; readonly city: string };
}

/** A random positive 4-byte serial, as on JPKI end-entity certificates. */
export function randomSerialHex(): string {
  const bytes = randomBytes(4);
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x01;
  return bytes.toString('hex');
}

/** A random 23-character upper-case alphanumeric identifier, the shape of a user-auth CN. */
export function randomCommonName(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return Array.from(randomBytes(23), (byte) => alphabet[byte % alphabet.length]).join('');
}

/** Creates a self-signed JPKI-profile CA (keyCertSign + cRLSign, basicConstraints CA, both critical). */
export async function createCa(params: CaParams): Promise<DevCa> {
  const organization = params.organization ?? 'JPKI';
  const name = caName(params.kind, organization);
  const keys = await newKey(params.bits ?? 2048);
  const publicKey = await importPublic(keys.spki);
  const subjectKeyId = await keyIdentifierOf(publicKey);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: params.serialHex,
    subject: new x509.Name(name),
    issuer: new x509.Name(name),
    notBefore: params.notBefore,
    notAfter: params.notAfter,
    publicKey,
    signingKey: await importPrivate(keys.privateKeyPem, 'SHA-256'),
    signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' },
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      new x509.Extension(
        Ext.subjectKeyIdentifier,
        false,
        AsnConvert.serialize(new KeyIdentifier(subjectKeyId)),
      ),
    ],
  });
  return {
    ...certificateOutput(certificate, keys.privateKeyPem),
    kind: params.kind,
    name,
    subjectKeyId,
    organization,
  };
}

/** Issues a user-authentication certificate in the real profile (overridable for negative tests). */
export async function issueUserAuthCertificate(params: UserAuthParams): Promise<DevCertificate> {
  return issueEndEntity(params, {
    subject: userAuthSubject(params.commonName ?? randomCommonName()),
    keyUsage: x509.KeyUsageFlags.digitalSignature,
    policy: POLICY_USER_AUTH,
    extendedKeyUsage: [OID_EKU_CLIENT_AUTH],
    extra: [
      new x509.AuthorityInfoAccessExtension({ ocsp: [params.ocspUrl ?? DEV_OCSP_URL] }),
      crlDistributionPoint(params),
    ],
  });
}

/** Substitute flags saying no character of `text` is a substitute: one `0` per code point. */
function noSubstitutes(text: string): string {
  return '0'.repeat(Array.from(text).length);
}

/**
 * The otherNames of `facts` as UTF8Strings, in the order real cards have them: name, birth date,
 * gender, address, name substitutes, address substitutes.
 */
export function basicFactOtherNames(facts: SigningCertificateFacts): OtherNameEntry[] {
  const values: [string, string][] = [
    [BasicFactOid.name, facts.name],
    [BasicFactOid.birthDate, facts.birthDate],
    [BasicFactOid.gender, facts.gender],
    [BasicFactOid.address, facts.address],
    [BasicFactOid.nameSubstitute, facts.nameSubstitute ?? noSubstitutes(facts.name)],
    [BasicFactOid.addressSubstitute, facts.addressSubstitute ?? noSubstitutes(facts.address)],
  ];
  return values.map(([typeId, value]) => ({
    typeId,
    value: new Uint8Array(new Utf8String({ value }).toBER(false)),
  }));
}

/** Issues a signing certificate carrying the basic facts as subjectAltName otherNames. */
export async function issueSigningCertificate(params: SigningParams): Promise<DevCertificate> {
  const prefecture = params.prefecture ?? '東京都';
  const city = params.city ?? '千代田区';
  const otherNames = (params.otherNames ?? basicFactOtherNames(params.facts)).map(
    ({ typeId, value }) =>
      new GeneralName({ otherName: new OtherName({ typeId, value: Uint8Array.from(value).buffer }) }),
  );
  return issueEndEntity(params, {
    subject: signingSubject(prefecture, city, randomCommonName()),
    keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
    policy: POLICY_SIGNING,
    extendedKeyUsage: undefined,
    extra: [
      new x509.Extension(
        Ext.subjectAltName,
        false,
        AsnConvert.serialize(new SubjectAlternativeName(otherNames)),
      ),
      ...(params.ocspUrl ? [new x509.AuthorityInfoAccessExtension({ ocsp: [params.ocspUrl] })] : []),
      crlDistributionPoint({ ...params, prefecture, city }),
    ],
  });
}

/** Issues a CRL signed by `ca`, with cRLNumber and authorityKeyIdentifier. */
export async function issueCrl(params: CrlParams): Promise<Uint8Array> {
  const crl = await x509.X509CrlGenerator.create({
    issuer: new x509.Name(params.ca.name),
    thisUpdate: params.thisUpdate,
    nextUpdate: params.nextUpdate,
    signingKey: await importPrivate(params.ca.privateKeyPem, params.hash ?? 'SHA-256'),
    signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' },
    entries: (params.entries ?? []).map((entry) => ({
      serialNumber: entry.serialHex,
      revocationDate: entry.revokedAt,
      reason: entry.reason ?? x509.X509CrlReason.unspecified,
    })),
    extensions: [
      new x509.Extension(Ext.crlNumber, false, AsnConvert.serialize(new CRLNumber(params.crlNumber))),
      new x509.Extension(
        Ext.authorityKeyIdentifier,
        false,
        AsnConvert.serialize(
          new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(params.ca.subjectKeyId) }),
        ),
      ),
      ...(params.partition
        ? [
            new x509.Extension(
              Ext.issuingDistributionPoint,
              true,
              AsnConvert.serialize(
                new IssuingDistributionPoint({
                  distributionPoint: distributionPointName({ ca: params.ca, ...params.partition }),
                }),
              ),
            ),
          ]
        : []),
    ],
  });
  return new Uint8Array(crl.rawData);
}

interface EndEntityProfile {
  readonly subject: Name;
  readonly keyUsage: number;
  readonly policy: string;
  readonly extendedKeyUsage: readonly string[] | undefined;
  readonly extra: readonly x509.Extension[];
}

async function issueEndEntity(
  params: ValidityParams & ProfileOverrides & { ca: DevCa; serialHex?: string },
  profile: EndEntityProfile,
): Promise<DevCertificate> {
  const { ca } = params;
  const keys = params.privateKeyPem ? keyFromPem(params.privateKeyPem) : await newKey(params.bits ?? 2048);
  const publicKey = await importPublic(keys.spki);
  const extendedKeyUsage = params.extendedKeyUsage ?? profile.extendedKeyUsage;
  const extensions: x509.Extension[] = [
    new x509.KeyUsagesExtension(params.keyUsage ?? profile.keyUsage, true),
    new x509.Extension(
      Ext.issuerAltName,
      false,
      AsnConvert.serialize(
        new IssueAlternativeName([new GeneralName({ directoryName: caAltName(ca.kind) })]),
      ),
    ),
    new x509.Extension(
      Ext.authorityKeyIdentifier,
      false,
      AsnConvert.serialize(
        new AuthorityKeyIdentifier({
          keyIdentifier: new KeyIdentifier(ca.subjectKeyId),
          authorityCertIssuer: [new GeneralName({ directoryName: ca.name })],
          authorityCertSerialNumber: Uint8Array.from(Buffer.from(ca.serialHex, 'hex')).buffer,
        }),
      ),
    ),
    ...profile.extra,
  ];
  const policies = params.policies ?? [profile.policy];
  if (policies.length > 0) extensions.push(policiesExtension(policies, params.policiesCritical ?? true));
  if (extendedKeyUsage) extensions.push(new x509.ExtendedKeyUsageExtension([...extendedKeyUsage]));
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: params.serialHex ?? randomSerialHex(),
    subject: new x509.Name(profile.subject),
    issuer: new x509.Name(ca.name),
    notBefore: params.notBefore,
    notAfter: params.notAfter,
    publicKey,
    signingKey: await importPrivate(ca.privateKeyPem, params.hash ?? 'SHA-256'),
    signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' },
    extensions,
  });
  return certificateOutput(certificate, keys.privateKeyPem);
}

function policiesExtension(policies: readonly string[], critical: boolean): x509.Extension {
  const value = new CertificatePolicies(
    policies.map(
      (policyIdentifier) =>
        new PolicyInformation({
          policyIdentifier,
          policyQualifiers: [
            new PolicyQualifierInfo({
              policyQualifierId: OID_CPS_QUALIFIER,
              qualifier: new IA5String({ value: DEV_CPS_URL }).toBER(false),
            }),
          ],
        }),
    ),
  );
  return new x509.Extension(Ext.certificatePolicies, critical, AsnConvert.serialize(value));
}

/** The DistributionPointName of a municipality's CRL (default 東京都 千代田区). */
function distributionPointName(params: {
  ca: DevCa;
  prefecture?: string;
  city?: string;
}): DistributionPointName {
  const directoryName = crlDistributionPointName(
    params.ca.kind,
    params.prefecture ?? '東京都',
    params.city ?? '千代田区',
    params.ca.organization,
  );
  return new DistributionPointName({ fullName: [new GeneralName({ directoryName })] });
}

function crlDistributionPoint(params: { ca: DevCa; prefecture?: string; city?: string }): x509.Extension {
  const value = new CRLDistributionPoints([
    new DistributionPoint({ distributionPoint: distributionPointName(params) }),
  ]);
  return new x509.Extension(Ext.crlDistributionPoints, false, AsnConvert.serialize(value));
}

function certificateOutput(certificate: x509.X509Certificate, privateKeyPem: string): DevCertificate {
  const der = new Uint8Array(certificate.rawData);
  return { der, pem: encodePem(der, 'CERTIFICATE'), serialHex: certificate.serialNumber, privateKeyPem };
}

async function newKey(bits: number): Promise<{ privateKeyPem: string; spki: Buffer }> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', {
    modulusLength: bits,
    publicExponent: 65537,
  });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    spki: publicKey.export({ type: 'spki', format: 'der' }),
  };
}

function keyFromPem(privateKeyPem: string): { privateKeyPem: string; spki: Buffer } {
  return { privateKeyPem, spki: createPublicKey(privateKeyPem).export({ type: 'spki', format: 'der' }) };
}

async function importPrivate(privateKeyPem: string, hash: Hash): Promise<webcrypto.CryptoKey> {
  const der = new Uint8Array(createPrivateKey(privateKeyPem).export({ type: 'pkcs8', format: 'der' }));
  return webcrypto.subtle.importKey('pkcs8', der, { name: 'RSASSA-PKCS1-v1_5', hash }, false, ['sign']);
}

async function importPublic(spki: Buffer): Promise<webcrypto.CryptoKey> {
  const algorithm =
    createPublicKey({ key: spki, format: 'der', type: 'spki' }).asymmetricKeyType === 'ec'
      ? { name: 'ECDSA', namedCurve: 'P-256' }
      : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  return webcrypto.subtle.importKey('spki', spki, algorithm, true, ['verify']);
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING content. */
async function keyIdentifierOf(publicKey: webcrypto.CryptoKey): Promise<Uint8Array> {
  const extension = await x509.SubjectKeyIdentifierExtension.create(publicKey);
  return new Uint8Array(Buffer.from(extension.keyId, 'hex'));
}

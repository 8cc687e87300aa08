/**
 * The complete development PKI: two user-auth CA generations with one DN, a signing CA, card
 * identities (user-auth + signing certificate, keys and PINs, i.e. what a card holds), an empty
 * and a non-empty CRL per CA, and the certificate link file (which user-auth certificate each
 * signing certificate belongs to: the development stand-in for J-LIS's look-up,
 * functions/jpki/certificate-links.ts). Written to a folder for the CLI, tests and the local
 * stack. DEVELOPMENT ONLY: private keys and PINs are stored in clear.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCertificate, serialHex } from '../functions/jpki/certificate.js';
import { certificateLinkFileText } from '../functions/jpki/certificate-links.js';
import { decodePemOrDer } from '../functions/jpki/pem.js';
import {
  createCa,
  type DevCa,
  type DevCertificate,
  issueCrl,
  issueSigningCertificate,
  issueUserAuthCertificate,
  type SigningCertificateFacts,
} from './issue.js';
import { X509CrlReason } from './x509.js';

const DAY = 24 * 60 * 60 * 1000;
const YEAR = 365 * DAY;

/** What one card holds: both certificates with their CA certificates, keys and PINs. */
export interface DevIdentity {
  readonly label: string;
  readonly userAuth: DevCertificate;
  readonly userAuthCa: DevCa;
  readonly signing: DevCertificate;
  readonly signingCa: DevCa;
  readonly userAuthPin: string;
  readonly signingPin: string;
  readonly facts: SigningCertificateFacts;
  /**
   * The serial of the user-auth certificate of the card the signing certificate was issued to,
   * when that is not `userAuth` (a card assembled from two cards); absent: `userAuth`'s.
   */
  readonly signingCardUserAuthSerialHex?: string;
}

export interface DevPki {
  /** Two generations of the user-auth CA, oldest first; identical subject DN. */
  readonly userAuthCas: readonly [DevCa, DevCa];
  readonly signingCa: DevCa;
  readonly identities: readonly DevIdentity[];
  /**
   * One empty and one non-empty CRL per CA: the user-auth one lists `revoked`, the signing one
   * `revoked` (keyCompromise) and `moved` (affiliationChanged).
   */
  readonly crls: readonly { readonly name: string; readonly der: Uint8Array }[];
}

export const DEV_USER_AUTH_PIN = '1234';

/** The facts of every development card unless given others: born 1990-01-01 (平成), male, in Tokyo. */
export const DEV_DEFAULT_FACTS: SigningCertificateFacts = {
  name: '個人 太郎',
  birthDate: '419900101',
  gender: '1',
  address: '東京都千代田区霞が関二丁目1番2号',
};

/**
 * Facts that exercise the reader (functions/jpki/basic-facts.ts): kanji with substitute
 * characters, 29 February, each era digit at an era's first or last day, gender `3`.
 */
export const DEV_FACT_VARIANTS = {
  /** 渡邉 registered, 渡辺 written (substitute at position 1); 葛 of 葛飾区 a substitute (position 3); born 29 February 2000 (平成). */
  substitutes: {
    name: '渡辺　花子',
    nameSubstitute: '01000',
    birthDate: '420000229',
    gender: '2',
    address: '東京都葛飾区立石五丁目13番1号',
    addressSubstitute: '000100000000000',
  },
  /** The last day of 明治. */
  meiji: { name: '明治　最後', birthDate: '119120729', gender: '3', address: '京都府京都市上京区京都御苑3' },
  /** The first day of 大正. */
  taisho: {
    name: '大正　初日',
    birthDate: '219120730',
    gender: '2',
    address: '北海道札幌市中央区北1条西2丁目',
  },
  /** The last day of 昭和. */
  showa: { name: '昭和　末日', birthDate: '319890107', gender: '1', address: '沖縄県那覇市泉崎1丁目2番2号' },
  /** The first day of 令和. */
  reiwa: {
    name: '令和　一郎',
    birthDate: '520190501',
    gender: '1',
    address: '福岡県福岡市中央区天神1丁目8番1号',
  },
} as const satisfies Record<string, SigningCertificateFacts>;
export const DEV_SIGNING_PIN = 'ABC123';

/** Validity ending at 14:59:59Z (23:59:59 JST) about `years` after `start`, as JPKI does. */
function jpkiValidity(start: Date, years: number): { notBefore: Date; notAfter: Date } {
  const end = new Date(start.getTime() + years * YEAR);
  end.setUTCHours(14, 59, 59, 0);
  return { notBefore: start, notAfter: end };
}

export interface DevIdentityParams {
  readonly label: string;
  readonly userAuthCa: DevCa;
  readonly signingCa: DevCa;
  readonly now: Date;
  readonly facts?: SigningCertificateFacts;
  readonly userAuthPin?: string;
  readonly signingPin?: string;
}

/** Issues a fresh card identity: new keys, new serials, a user-auth and a signing certificate. */
export async function createDevIdentity(params: DevIdentityParams): Promise<DevIdentity> {
  const validity = jpkiValidity(new Date(params.now.getTime() - DAY), 5);
  const facts = params.facts ?? DEV_DEFAULT_FACTS;
  const [userAuth, signing] = await Promise.all([
    issueUserAuthCertificate({ ca: params.userAuthCa, ...validity }),
    issueSigningCertificate({ ca: params.signingCa, facts, ...validity }),
  ]);
  return {
    label: params.label,
    userAuth,
    userAuthCa: params.userAuthCa,
    signing,
    signingCa: params.signingCa,
    userAuthPin: params.userAuthPin ?? DEV_USER_AUTH_PIN,
    signingPin: params.signingPin ?? DEV_SIGNING_PIN,
    facts,
  };
}

/**
 * Creates the development hierarchy, valid at `now`: user-auth CAs started 6 and 2 years ago, a
 * signing CA, and the identities
 * - `alice` (newer CA), `bob` (older CA);
 * - `revoked`: both certificates on the CRLs;
 * - `moved`: alice's card with the signing certificate she had before she moved (her own key, the
 *   old address), revoked with reason affiliationChanged as J-LIS does on a change of name or
 *   address; she still signs in, her identity verification is refused;
 * - `other-card`: alice's user-auth certificate with bob's signing certificate (a signing
 *   certificate of another card: the link file refuses it);
 * - with `factVariants`, one `facts-<variant>` card per DEV_FACT_VARIANTS entry.
 */
export async function createDevPki(options: { now?: Date; factVariants?: boolean } = {}): Promise<DevPki> {
  const now = options.now ?? new Date();
  const ago = (years: number) => new Date(now.getTime() - years * YEAR);
  const [older, newer, signingCa] = await Promise.all([
    createCa({ kind: 'user-auth', serialHex: '0133c349', ...jpkiValidity(ago(6), 10) }),
    createCa({ kind: 'user-auth', serialHex: '06d18006', ...jpkiValidity(ago(2), 10) }),
    createCa({ kind: 'signing', serialHex: '06d18007', ...jpkiValidity(ago(2), 10) }),
  ]);
  const variants = options.factVariants ? Object.entries(DEV_FACT_VARIANTS) : [];
  const [alice, bob, revoked, ...variantIdentities] = (await Promise.all([
    createDevIdentity({ label: 'alice', userAuthCa: newer, signingCa, now }),
    createDevIdentity({ label: 'bob', userAuthCa: older, signingCa, now }),
    createDevIdentity({ label: 'revoked', userAuthCa: newer, signingCa, now }),
    ...variants.map(([name, facts]) =>
      createDevIdentity({ label: `facts-${name}`, userAuthCa: newer, signingCa, now, facts }),
    ),
  ])) as [DevIdentity, DevIdentity, DevIdentity, ...DevIdentity[]];
  const movedFacts = { ...alice.facts, address: '大阪府大阪市北区中之島一丁目3番20号' };
  const moved: DevIdentity = {
    ...alice,
    label: 'moved',
    facts: movedFacts,
    signing: await issueSigningCertificate({
      ca: signingCa,
      facts: movedFacts,
      prefecture: '大阪府',
      city: '大阪市北区',
      privateKeyPem: alice.signing.privateKeyPem,
      ...jpkiValidity(new Date(now.getTime() - 400 * DAY), 5),
    }),
  };
  const otherCard: DevIdentity = {
    ...alice,
    label: 'other-card',
    signing: bob.signing,
    signingCa: bob.signingCa,
    signingPin: bob.signingPin,
    facts: bob.facts,
    signingCardUserAuthSerialHex: bob.userAuth.serialHex,
  };
  const crlTimes = {
    thisUpdate: new Date(now.getTime() - DAY),
    nextUpdate: new Date(now.getTime() + 2 * DAY),
  };
  const crlsFor = async (ca: DevCa, revokedSerials: [serialHex: string, reason: X509CrlReason][]) => {
    const name = `${ca.kind}-${ca.serialHex}`;
    const entries = revokedSerials.map(([serialHex, reason]) => ({
      serialHex,
      revokedAt: crlTimes.thisUpdate,
      reason,
    }));
    return [
      { name: `${name}.empty.crl`, der: await issueCrl({ ca, ...crlTimes, crlNumber: 1 }) },
      { name: `${name}.revoked.crl`, der: await issueCrl({ ca, ...crlTimes, crlNumber: 2, entries }) },
    ];
  };
  const crls = (
    await Promise.all([
      crlsFor(newer, [[revoked.userAuth.serialHex, X509CrlReason.keyCompromise]]),
      crlsFor(older, [['7fffffff', X509CrlReason.keyCompromise]]),
      crlsFor(signingCa, [
        [revoked.signing.serialHex, X509CrlReason.keyCompromise],
        [moved.signing.serialHex, X509CrlReason.affiliationChanged],
      ]),
    ])
  ).flat();
  return {
    userAuthCas: [older, newer],
    signingCa,
    identities: [alice, bob, revoked, moved, otherCard, ...variantIdentities],
    crls,
  };
}

/** Layout of a written development PKI, saved as `manifest.json` (paths relative to the folder). */
export interface DevPkiManifest {
  readonly warning: string;
  readonly createdAt: string;
  readonly userAuthTrustAnchors: readonly string[];
  readonly signingCa: string;
  readonly crls: readonly string[];
  readonly identities: readonly string[];
  /**
   * The certificate link file (FileCertificateLinkSource): each identity's signing serial → the
   * user-auth serial of its card. Absent in development PKIs written before identity verification.
   */
  readonly certificateLinks?: string;
}

/** Where writeDevPki puts the certificate link file. */
export const CERTIFICATE_LINKS_FILE = 'certificate-links.json';

/** The link of each identity: its signing certificate's serial → the user-auth serial of the card it was issued to. */
export function devCertificateLinks(
  identities: readonly DevIdentity[],
): [signing: string, userAuth: string][] {
  return identities.map((identity) => [
    identity.signing.serialHex,
    identity.signingCardUserAuthSerialHex ?? identity.userAuth.serialHex,
  ]);
}

/** Writes `pki` under `dir` (CA certificates and keys, CRLs, one folder per identity) and returns the manifest. */
export async function writeDevPki(dir: string, pki: DevPki): Promise<DevPkiManifest> {
  await mkdir(join(dir, 'ca'), { recursive: true });
  await mkdir(join(dir, 'crl'), { recursive: true });
  const caPath = (ca: DevCa) => `ca/${ca.kind}-${ca.serialHex}.pem`;
  for (const ca of [...pki.userAuthCas, pki.signingCa]) await writeCertificate(dir, caPath(ca), ca);
  for (const crl of pki.crls) await writeFile(join(dir, 'crl', crl.name), crl.der);
  for (const identity of pki.identities)
    await writeDevIdentity(join(dir, 'identities', identity.label), identity);
  await writeFile(
    join(dir, CERTIFICATE_LINKS_FILE),
    certificateLinkFileText(devCertificateLinks(pki.identities)),
    {
      mode: 0o600,
    },
  );
  const manifest: DevPkiManifest = {
    warning: 'DEVELOPMENT ONLY: private keys and PINs in clear. Never trust these CAs in production.',
    createdAt: new Date().toISOString(),
    userAuthTrustAnchors: pki.userAuthCas.map(caPath),
    signingCa: caPath(pki.signingCa),
    crls: pki.crls.map((crl) => `crl/${crl.name}`),
    identities: pki.identities.map((identity) => `identities/${identity.label}`),
    certificateLinks: CERTIFICATE_LINKS_FILE,
  };
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** The files of one identity folder, named after the card's elementary files they mirror. */
export const IDENTITY_FILES = {
  userAuthCertificate: 'user-auth.pem',
  userAuthKey: 'user-auth.key.pem',
  userAuthCa: 'user-auth-ca.pem',
  signingCertificate: 'signing.pem',
  signingKey: 'signing.key.pem',
  signingCa: 'signing-ca.pem',
  card: 'card.json',
} as const;

/** Writes one identity folder: what a virtual card needs to behave as this person's card. */
export async function writeDevIdentity(dir: string, identity: DevIdentity): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeCertificate(
    dir,
    IDENTITY_FILES.userAuthCertificate,
    identity.userAuth,
    IDENTITY_FILES.userAuthKey,
  );
  await writeCertificate(dir, IDENTITY_FILES.signingCertificate, identity.signing, IDENTITY_FILES.signingKey);
  await writeFile(join(dir, IDENTITY_FILES.userAuthCa), identity.userAuthCa.pem);
  await writeFile(join(dir, IDENTITY_FILES.signingCa), identity.signingCa.pem);
  const card = {
    warning: 'DEVELOPMENT ONLY',
    label: identity.label,
    userAuthPin: identity.userAuthPin,
    signingPin: identity.signingPin,
    facts: identity.facts,
  };
  await writeFile(join(dir, IDENTITY_FILES.card), `${JSON.stringify(card, null, 2)}\n`, { mode: 0o600 });
}

async function writeCertificate(dir: string, path: string, certificate: DevCertificate, keyPath?: string) {
  await writeFile(join(dir, path), certificate.pem);
  await writeFile(join(dir, keyPath ?? path.replace(/\.pem$/, '.key.pem')), certificate.privateKeyPem, {
    mode: 0o600,
  });
}

/**
 * The certificate link file of the development PKI written under `dir`: the manifest's, or, for
 * a PKI written before identity verification (no `certificateLinks`), one written now from its
 * identity folders (each folder's signing certificate linked to its user-auth certificate).
 */
export async function ensureDevCertificateLinks(dir: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as DevPkiManifest;
  if (manifest.certificateLinks) return join(dir, manifest.certificateLinks);
  const serialOf = async (path: string) => {
    const [der] = decodePemOrDer(await readFile(path), 'CERTIFICATE');
    if (!der) throw new Error(`${path} holds no certificate`);
    return serialHex(parseCertificate(der).serialNumber);
  };
  const links = await Promise.all(
    manifest.identities.map(
      async (identity) =>
        [
          await serialOf(join(dir, identity, IDENTITY_FILES.signingCertificate)),
          await serialOf(join(dir, identity, IDENTITY_FILES.userAuthCertificate)),
        ] as const,
    ),
  );
  const path = join(dir, CERTIFICATE_LINKS_FILE);
  await writeFile(path, certificateLinkFileText(links), { mode: 0o600 });
  return path;
}

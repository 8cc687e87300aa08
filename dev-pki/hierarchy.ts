/**
 * The complete development PKI: two user-auth CA generations with one DN, a signing CA, card
 * identities (user-auth + signing certificate, keys and PINs, i.e. what a card holds), and an
 * empty and a non-empty CRL per CA. Written to a folder for the CLI, tests and the local stack.
 * DEVELOPMENT ONLY: private keys and PINs are stored in clear.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type BasicFacts,
  createCa,
  type DevCa,
  type DevCertificate,
  issueCrl,
  issueSigningCertificate,
  issueUserAuthCertificate,
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
  readonly facts: BasicFacts;
}

export interface DevPki {
  /** Two generations of the user-auth CA, oldest first; identical subject DN. */
  readonly userAuthCas: readonly [DevCa, DevCa];
  readonly signingCa: DevCa;
  readonly identities: readonly DevIdentity[];
  /** One empty and one non-empty CRL per CA (the non-empty one lists the `revoked` identity). */
  readonly crls: readonly { readonly name: string; readonly der: Uint8Array }[];
}

export const DEV_USER_AUTH_PIN = '1234';
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
  readonly facts?: BasicFacts;
  readonly userAuthPin?: string;
  readonly signingPin?: string;
}

/** Issues a fresh card identity: new keys, new serials, a user-auth and a signing certificate. */
export async function createDevIdentity(params: DevIdentityParams): Promise<DevIdentity> {
  const validity = jpkiValidity(new Date(params.now.getTime() - DAY), 5);
  const facts = params.facts ?? {
    name: '個人 太郎',
    birthDate: '419900101',
    gender: '1',
    address: '東京都千代田区霞が関二丁目1番2号',
  };
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
 * Creates the development hierarchy, valid at `now`: user-auth CAs started 6 and 2 years ago,
 * a signing CA, identities `alice` (newer CA), `bob` (older CA) and `revoked` (on the CRLs).
 */
export async function createDevPki(options: { now?: Date } = {}): Promise<DevPki> {
  const now = options.now ?? new Date();
  const ago = (years: number) => new Date(now.getTime() - years * YEAR);
  const [older, newer, signingCa] = await Promise.all([
    createCa({ kind: 'user-auth', serialHex: '0133c349', ...jpkiValidity(ago(6), 10) }),
    createCa({ kind: 'user-auth', serialHex: '06d18006', ...jpkiValidity(ago(2), 10) }),
    createCa({ kind: 'signing', serialHex: '06d18007', ...jpkiValidity(ago(2), 10) }),
  ]);
  const identities = await Promise.all([
    createDevIdentity({ label: 'alice', userAuthCa: newer, signingCa, now }),
    createDevIdentity({ label: 'bob', userAuthCa: older, signingCa, now }),
    createDevIdentity({ label: 'revoked', userAuthCa: newer, signingCa, now }),
  ]);
  const revoked = identities[2] as DevIdentity;
  const crlTimes = {
    thisUpdate: new Date(now.getTime() - DAY),
    nextUpdate: new Date(now.getTime() + 2 * DAY),
  };
  const crlsFor = async (ca: DevCa, revokedSerials: string[]) => {
    const name = `${ca.kind}-${ca.serialHex}`;
    const entries = revokedSerials.map((serialHex) => ({
      serialHex,
      revokedAt: crlTimes.thisUpdate,
      reason: X509CrlReason.keyCompromise,
    }));
    return [
      { name: `${name}.empty.crl`, der: await issueCrl({ ca, ...crlTimes, crlNumber: 1 }) },
      { name: `${name}.revoked.crl`, der: await issueCrl({ ca, ...crlTimes, crlNumber: 2, entries }) },
    ];
  };
  const crls = (
    await Promise.all([
      crlsFor(newer, [revoked.userAuth.serialHex]),
      crlsFor(older, ['7fffffff']),
      crlsFor(signingCa, [revoked.signing.serialHex]),
    ])
  ).flat();
  return { userAuthCas: [older, newer], signingCa, identities, crls };
}

/** Layout of a written development PKI, saved as `manifest.json` (paths relative to the folder). */
export interface DevPkiManifest {
  readonly warning: string;
  readonly createdAt: string;
  readonly userAuthTrustAnchors: readonly string[];
  readonly signingCa: string;
  readonly crls: readonly string[];
  readonly identities: readonly string[];
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
  const manifest: DevPkiManifest = {
    warning: 'DEVELOPMENT ONLY: private keys and PINs in clear. Never trust these CAs in production.',
    createdAt: new Date().toISOString(),
    userAuthTrustAnchors: pki.userAuthCas.map(caPath),
    signingCa: caPath(pki.signingCa),
    crls: pki.crls.map((crl) => `crl/${crl.name}`),
    identities: pki.identities.map((identity) => `identities/${identity.label}`),
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

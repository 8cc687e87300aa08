import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { AsnConvert } from '@peculiar/asn1-schema';
import { SubjectAlternativeName } from '@peculiar/asn1-x509';
import {
  createDevPki,
  DEV_FACT_VARIANTS,
  type DevIdentity,
  type DevPki,
  ensureDevCertificateLinks,
  writeDevPki,
} from '../../dev-pki/hierarchy.js';
import * as x509 from '../../dev-pki/x509.js';
import { readBasicFacts } from '../../functions/jpki/basic-facts.js';
import { parseCertificate } from '../../functions/jpki/certificate.js';
import { FileCertificateLinkSource } from '../../functions/jpki/certificate-links.js';
import { POLICY_SIGNING, POLICY_USER_AUTH } from '../../protocol/oids.js';
import { devPki } from '../support/dev-pki.js';

let pki: DevPki;
beforeAll(async () => {
  pki = await devPki();
});

const certificate = (der: Uint8Array) => new x509.X509Certificate(der);

describe('user-auth CA generations', () => {
  it('share one subject DN but have different keys, both self-signed CA certificates', async () => {
    const [older, newer] = pki.userAuthCas.map((ca) => certificate(ca.der)) as [
      x509.X509Certificate,
      x509.X509Certificate,
    ];
    expect(older.subject).toBe(newer.subject);
    expect(older.subject).toBe(
      'C=JP, O=JPKI, OU=JPKI for user authentication, OU=Japan Agency for Local Authority Information Systems',
    );
    expect(Buffer.from(older.publicKey.rawData).equals(Buffer.from(newer.publicKey.rawData))).toBe(false);
    for (const ca of [older, newer]) {
      expect(await ca.verify({ signatureOnly: true })).toBe(true);
      const constraints = ca.getExtension(x509.BasicConstraintsExtension);
      expect(constraints?.ca).toBe(true);
      expect(constraints?.critical).toBe(true);
      const usages = ca.getExtension(x509.KeyUsagesExtension);
      expect(usages?.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
      expect(usages?.critical).toBe(true);
    }
  });

  it('encode C as PrintableString and the other attributes as UTF8String', () => {
    const name = certificate(pki.userAuthCas[0].der).subjectName.toJSON();
    const raw = Buffer.from(certificate(pki.userAuthCas[0].der).subjectName.toArrayBuffer());
    expect(name[0]).toEqual({ C: ['JP'] });
    expect(raw.includes(Buffer.from('130243', 'hex'))).toBe(false);
    expect(raw.includes(Buffer.from('1302', 'hex'))).toBe(true);
    expect(raw.includes(Buffer.from('0c044a504b49', 'hex'))).toBe(true);
  });
});

describe('user-auth certificate profile', () => {
  it('matches shared/jpki-card.md §3', async () => {
    const identity = pki.identities[0];
    if (!identity) throw new Error('no identity');
    const cert = certificate(identity.userAuth.der);
    expect(cert.serialNumber).toMatch(/^[0-7][0-9a-f]{7}$/);
    expect(cert.subject).toMatch(/^C=JP, CN=[A-Z0-9]{23}$/);
    expect(cert.notAfter.toISOString()).toMatch(/T14:59:59\.000Z$/);
    const key = cert.publicKey.algorithm as { modulusLength: number };
    expect(key.modulusLength).toBe(2048);
    const usages = cert.getExtension(x509.KeyUsagesExtension);
    expect(usages?.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    expect(usages?.critical).toBe(true);
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([
      x509.ExtendedKeyUsage.clientAuth,
    ]);
    const policies = cert.getExtension(x509.CertificatePolicyExtension);
    expect(policies?.policies).toEqual([POLICY_USER_AUTH]);
    expect(policies?.critical).toBe(true);
    const distribution = cert.getExtension(x509.CRLDistributionPointsExtension);
    const dirName = distribution?.distributionPoints[0]?.distributionPoint?.fullName?.[0]?.directoryName;
    expect(dirName && new x509.Name(dirName).toString()).toMatch(
      /OU=CRL Distribution Points, OU=.+, CN=.+ CRLDP$/,
    );
    expect(cert.getExtension(x509.AuthorityInfoAccessExtension)?.ocsp[0]?.value).toMatch(/^http:\/\//);
    const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
    expect(aki?.keyId).toBe(Buffer.from(identity.userAuthCa.subjectKeyId).toString('hex'));
    expect(aki?.certId?.serialNumber).toBe(identity.userAuthCa.serialHex);
    expect(
      await cert.verify({ publicKey: certificate(identity.userAuthCa.der).publicKey, signatureOnly: true }),
    ).toBe(true);
  });
});

describe('signing certificate profile', () => {
  it('carries the basic facts as otherNames and the signing policy', () => {
    const identity = pki.identities[0];
    if (!identity) throw new Error('no identity');
    const cert = certificate(identity.signing.der);
    expect(cert.getExtension(x509.CertificatePolicyExtension)?.policies).toEqual([POLICY_SIGNING]);
    expect(cert.getExtension(x509.KeyUsagesExtension)?.usages).toBe(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
    );
    const san = cert.getExtension('2.5.29.17');
    if (!san) throw new Error('no subjectAltName');
    const otherNames = AsnConvert.parse(san.value, SubjectAlternativeName).map(
      (name) => name.otherName?.typeId,
    );
    expect(otherNames).toEqual([
      '1.2.392.200149.8.5.5.1',
      '1.2.392.200149.8.5.5.4',
      '1.2.392.200149.8.5.5.3',
      '1.2.392.200149.8.5.5.5',
      '1.2.392.200149.8.5.5.2',
      '1.2.392.200149.8.5.5.6',
    ]);
    expect(Buffer.from(identity.signing.der).includes(Buffer.from(identity.facts.name))).toBe(true);
    expect(cert.getExtension(x509.CertificatePolicyExtension)?.critical).toBe(true);
  });

  it('reads back as the facts it was given, no substitutes unless flagged', () => {
    const identity = pki.identities[0] as DevIdentity;
    expect(readBasicFacts(identity.signing.der)).toMatchObject({
      name: identity.facts.name,
      address: identity.facts.address,
      nameSubstitutePositions: [],
      addressSubstitutePositions: [],
    });
  });
});

describe('identities', () => {
  const byLabel = (label: string) =>
    pki.identities.find((identity) => identity.label === label) as DevIdentity;

  it('are alice, bob, revoked, moved and other-card', () => {
    expect(pki.identities.map((identity) => identity.label)).toEqual([
      'alice',
      'bob',
      'revoked',
      'moved',
      'other-card',
    ]);
  });

  it("moved: alice's card with her old signing certificate (same key, old address), revoked for affiliationChanged", () => {
    const [alice, moved] = [byLabel('alice'), byLabel('moved')];
    expect(moved.userAuth).toBe(alice.userAuth);
    expect(moved.signing.serialHex).not.toBe(alice.signing.serialHex);
    expect(moved.signing.privateKeyPem).toBe(alice.signing.privateKeyPem);
    expect(readBasicFacts(moved.signing.der).address).toBe(moved.facts.address);
    expect(moved.facts.address).not.toBe(alice.facts.address);
    const signingCrl = pki.crls.find((crl) => crl.name === `signing-${pki.signingCa.serialHex}.revoked.crl`);
    const entry = new x509.X509Crl(signingCrl?.der as Uint8Array).findRevoked(moved.signing.serialHex);
    expect(entry?.reason).toBe(x509.X509CrlReason.affiliationChanged);
  });

  it("other-card: alice's user-auth certificate with bob's signing certificate, facts and password", () => {
    const [alice, bob, other] = [byLabel('alice'), byLabel('bob'), byLabel('other-card')];
    expect(other.userAuth).toBe(alice.userAuth);
    expect(other.signing).toBe(bob.signing);
    expect(other.facts).toBe(bob.facts);
    expect(other.signingCardUserAuthSerialHex).toBe(bob.userAuth.serialHex);
  });

  it('with factVariants, one card per fact variant, each read back exactly', async () => {
    const variants = await createDevPki({ factVariants: true });
    for (const [name, facts] of Object.entries(DEV_FACT_VARIANTS)) {
      const identity = variants.identities.find(
        (candidate) => candidate.label === `facts-${name}`,
      ) as DevIdentity;
      const read = readBasicFacts(identity.signing.der);
      expect(read.name).toBe(facts.name);
      expect(read.address).toBe(facts.address);
      expect(read.birthDate).toBe(
        `${facts.birthDate.slice(1, 5)}-${facts.birthDate.slice(5, 7)}-${facts.birthDate.slice(7)}`,
      );
    }
    expect(
      readBasicFacts(
        variants.identities.find((i) => i.label === 'facts-substitutes')?.signing.der as Uint8Array,
      ),
    ).toMatchObject({
      nameSubstitutePositions: [1],
      addressSubstitutePositions: [3],
    });
  });
});

describe('CRLs', () => {
  it('exist empty and non-empty for every CA and verify against it', async () => {
    for (const ca of [...pki.userAuthCas, pki.signingCa]) {
      const crls = pki.crls.filter((crl) => crl.name.startsWith(`${ca.kind}-${ca.serialHex}.`));
      expect(crls.map((crl) => crl.name.split('.')[1]).sort()).toEqual(['empty', 'revoked']);
      for (const crl of crls) {
        const parsed = new x509.X509Crl(crl.der);
        expect(await parsed.verify({ publicKey: certificate(ca.der).publicKey })).toBe(true);
        const listed = crl.name.includes('empty') ? 0 : ca === pki.signingCa ? 2 : 1;
        expect(parsed.entries.length).toBe(listed);
      }
    }
  });
});

describe('writeDevPki', () => {
  it('writes certificates, PKCS#8 keys readable only by the owner, CRLs, identities and a manifest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dev-pki-'));
    const manifest = await writeDevPki(dir, pki);
    expect(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'))).toEqual(manifest);
    expect(manifest.userAuthTrustAnchors).toHaveLength(2);
    for (const path of [...manifest.userAuthTrustAnchors, ...manifest.crls]) await stat(join(dir, path));
    const key = join(dir, manifest.identities[0] as string, 'user-auth.key.pem');
    expect(await readFile(key, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect((await stat(key)).mode & 0o077).toBe(0);
    const card = JSON.parse(await readFile(join(dir, manifest.identities[0] as string, 'card.json'), 'utf8'));
    expect(card.userAuthPin).toMatch(/^\d{4}$/);
    expect(manifest.certificateLinks).toBe('certificate-links.json');
  });

  it('writes the certificate link file: every signing serial to the user-auth serial of its card, development only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dev-pki-'));
    const manifest = await writeDevPki(dir, pki);
    const path = join(dir, manifest.certificateLinks as string);
    const file = JSON.parse(await readFile(path, 'utf8')) as Record<string, string>;
    expect(file.warning).toMatch(/DEVELOPMENT ONLY/);
    expect((await stat(path)).mode & 0o077).toBe(0);
    const byLabel = (label: string) =>
      pki.identities.find((identity) => identity.label === label) as DevIdentity;
    const [alice, bob, moved] = [byLabel('alice'), byLabel('bob'), byLabel('moved')];
    expect(file[alice.signing.serialHex]).toBe(alice.userAuth.serialHex);
    expect(file[bob.signing.serialHex]).toBe(bob.userAuth.serialHex);
    expect(file[moved.signing.serialHex]).toBe(alice.userAuth.serialHex);
    const links = new FileCertificateLinkSource(path);
    expect(await links.userAuthSerialFor(parseCertificate(bob.signing.der))).toBe(bob.userAuth.serialHex);
  });

  it('gives the link file of a PKI written before identity verification, writing it from the identity folders', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dev-pki-'));
    const [alice, bob] = pki.identities as [DevIdentity, DevIdentity];
    const manifest = await writeDevPki(dir, { ...pki, identities: [alice, bob] });
    expect(await ensureDevCertificateLinks(dir)).toBe(join(dir, 'certificate-links.json'));
    const { certificateLinks: _, ...older } = manifest;
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(older));
    await rm(join(dir, 'certificate-links.json'));
    const path = await ensureDevCertificateLinks(dir);
    const links = new FileCertificateLinkSource(path, { authoritative: true });
    expect(await links.userAuthSerialFor(parseCertificate(alice.signing.der))).toBe(alice.userAuth.serialHex);
    expect(await links.userAuthSerialFor(parseCertificate(bob.signing.der))).toBe(bob.userAuth.serialHex);
  });
});

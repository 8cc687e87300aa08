/**
 * The local stack's PKI: the development JPKI hierarchy in the data folder (created once, so the
 * same virtual card is the same person on every start), its trust anchors — the user-auth CAs for
 * logins, the development signing CA for identity verification (issue #14) — the development
 * certificate link file, and revocation from CRLs re-issued at every start (a CRL past its
 * nextUpdate would fail every login closed): the `revoked` identity's certificates are on them.
 * A PKI written before identity verification gets its link file now (ensureDevCertificateLinks).
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createDevPki,
  type DevPkiManifest,
  ensureDevCertificateLinks,
  writeDevPki,
} from '../dev-pki/hierarchy.js';
import { issueCrl } from '../dev-pki/issue.js';
import { readDevCa } from '../dev-pki/read-ca.js';
import { parseCertificate } from '../functions/jpki/certificate.js';
import { FileCertificateLinkSource } from '../functions/jpki/certificate-links.js';
import { decodePemOrDer } from '../functions/jpki/pem.js';
import { combineTrustAnchors, loadTrustAnchors, type TrustAnchors } from '../functions/jpki/trust-anchors.js';
import { MemoryCrlSource } from '../functions/revocation/memory-crl-source.js';

const DAY = 86_400_000;

export interface DevTrust {
  readonly pkiDir: string;
  readonly manifest: DevPkiManifest;
  readonly trustAnchors: TrustAnchors;
  /** The development signing CA (identity verification). */
  readonly signingTrustAnchors: TrustAnchors;
  /** The development link file's signing → user-auth serials (authoritative: it lists every card). */
  readonly links: FileCertificateLinkSource;
  readonly revocation: MemoryCrlSource;
}

/** Creates the development PKI under `pkiDir` when missing; loads anchors and fresh CRLs. */
export async function loadDevTrust(pkiDir: string, log: (line: string) => void): Promise<DevTrust> {
  const manifestPath = join(pkiDir, 'manifest.json');
  if (!(await stat(manifestPath).catch(() => undefined))) {
    log(`Creating the development PKI in ${pkiDir} (once)…`);
    await writeDevPki(pkiDir, await createDevPki());
  }
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as DevPkiManifest;
  const cas = await Promise.all(
    manifest.userAuthTrustAnchors.map((path) => readDevCa(join(pkiDir, path), 'user-auth')),
  );
  const trustAnchors = loadTrustAnchors(cas.map((ca) => ca.der));
  const signingCa = await readDevCa(join(pkiDir, manifest.signingCa), 'signing');
  const signingTrustAnchors = loadTrustAnchors([signingCa.der]);
  // Revoked: the `revoked` card's two certificates and the signing certificate `moved` had before
  // its address changed (folders of PKIs written before identity verification may lack them).
  const certificateIn = async (identity: string, file: string) => {
    const pem = await readFile(join(pkiDir, 'identities', identity, file)).catch(() => undefined);
    return pem && parseCertificate(decodePemOrDer(pem, 'CERTIFICATE')[0] as Uint8Array);
  };
  const revoked = (
    await Promise.all([
      certificateIn('revoked', 'user-auth.pem'),
      certificateIn('revoked', 'signing.pem'),
      certificateIn('moved', 'signing.pem'),
    ])
  ).filter((certificate) => certificate !== undefined);
  const everyAnchor = combineTrustAnchors(trustAnchors, signingTrustAnchors);
  const revocation = new MemoryCrlSource(everyAnchor);
  const now = Date.now();
  for (const ca of [...cas, signingCa]) {
    const issuedHere = revoked.filter(
      (certificate) => everyAnchor.findSigner(certificate)?.certificate.der === ca.der,
    );
    await revocation.load(
      await issueCrl({
        ca,
        thisUpdate: new Date(now - 60_000),
        nextUpdate: new Date(now + 7 * DAY),
        crlNumber: Math.floor(now / 1000),
        entries: issuedHere.map((certificate) => ({
          serialHex: Buffer.from(certificate.serialNumber).toString('hex'),
          revokedAt: new Date(now - DAY),
        })),
      }),
    );
  }
  // The development link file lists every card of the PKI: authoritative (an unknown signing
  // certificate is refused).
  const links = new FileCertificateLinkSource(await ensureDevCertificateLinks(pkiDir), {
    authoritative: true,
  });
  return { pkiDir, manifest, trustAnchors, signingTrustAnchors, links, revocation };
}

/**
 * The local stack's PKI: the development JPKI hierarchy in the data folder (created once, so the
 * same virtual card is the same person on every start), its trust anchors, and revocation from
 * CRLs re-issued at every start (a CRL past its nextUpdate would fail every login closed).
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createDevPki, type DevPkiManifest, writeDevPki } from '../dev-pki/hierarchy.js';
import { issueCrl } from '../dev-pki/issue.js';
import { readDevCa } from '../dev-pki/read-ca.js';
import { parseCertificate } from '../functions/jpki/certificate.js';
import { decodePemOrDer } from '../functions/jpki/pem.js';
import { loadTrustAnchors, type TrustAnchors } from '../functions/jpki/trust-anchors.js';
import { MemoryCrlSource } from '../functions/revocation/memory-crl-source.js';

const DAY = 86_400_000;

export interface DevTrust {
  readonly pkiDir: string;
  readonly manifest: DevPkiManifest;
  readonly trustAnchors: TrustAnchors;
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
  const revokedPem = await readFile(join(pkiDir, 'identities', 'revoked', 'user-auth.pem'));
  const revoked = parseCertificate(decodePemOrDer(revokedPem, 'CERTIFICATE')[0] as Uint8Array);
  const revocation = new MemoryCrlSource(trustAnchors);
  const now = Date.now();
  for (const ca of cas) {
    const issuedRevoked = trustAnchors.findSigner(revoked)?.certificate.der === ca.der;
    await revocation.load(
      await issueCrl({
        ca,
        thisUpdate: new Date(now - 60_000),
        nextUpdate: new Date(now + 7 * DAY),
        crlNumber: Math.floor(now / 1000),
        entries: issuedRevoked
          ? [{ serialHex: Buffer.from(revoked.serialNumber).toString('hex'), revokedAt: new Date(now - DAY) }]
          : [],
      }),
    );
  }
  return { pkiDir, manifest, trustAnchors, revocation };
}

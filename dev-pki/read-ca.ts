/**
 * Reads a development CA written by writeDevPki back into a DevCa (certificate + key), so the
 * local stack can issue fresh CRLs at every start instead of serving stale ones.
 */
import { readFile } from 'node:fs/promises';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Name } from '@peculiar/asn1-x509';
import { parseCertificate, serialHex } from '../functions/jpki/certificate.js';
import { decodePemOrDer } from '../functions/jpki/pem.js';
import type { DevCa } from './issue.js';
import type { CaKind } from './names.js';

/** The CA in `certificatePath` with its key at `<name>.key.pem` next to it. */
export async function readDevCa(certificatePath: string, kind: CaKind): Promise<DevCa> {
  const pem = await readFile(certificatePath, 'utf8');
  const [der] = decodePemOrDer(Buffer.from(pem), 'CERTIFICATE');
  if (!der) throw new Error(`${certificatePath} holds no certificate`);
  const certificate = parseCertificate(der);
  if (!certificate.subjectKeyId) throw new Error(`${certificatePath} has no subject key identifier`);
  return {
    der,
    pem,
    serialHex: serialHex(certificate.serialNumber),
    privateKeyPem: await readFile(certificatePath.replace(/\.pem$/, '.key.pem'), 'utf8'),
    kind,
    name: AsnConvert.parse(certificate.subject, Name),
    subjectKeyId: certificate.subjectKeyId,
    organization: 'JPKI',
  };
}

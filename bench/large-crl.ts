/**
 * Writes very large development CRLs (a million entries) straight as DER, streaming to a file and
 * signing the tbsCertList with node:crypto as it is written: @peculiar/x509 would build a million
 * objects. Serials are consecutive 4-byte numbers, so two CRLs with shifted ranges differ by a
 * known number of entries at each end (the delta benchmark).
 */
import { createPrivateKey, createSign } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { DevCa } from '../dev-pki/issue.js';
import { parseCertificate } from '../functions/jpki/certificate.js';
import { contextTag, Tag } from '../protocol/der.js';
import {
  encodeAlgorithm,
  encodeBitString,
  encodeHeader,
  encodeOctetString,
  encodeOid,
  encodeSequence,
  encodeTime,
  encodeTlv,
  encodeUnsignedInteger,
} from '../protocol/der-writer.js';
import { Ext, OID_SHA256_WITH_RSA } from '../protocol/oids.js';

/** Serial numbers start here: positive, always 4 bytes. */
const SERIAL_BASE = 0x10000000;
/** keyCompromise, affiliationChanged, superseded: the reasons seen on JPKI CRLs. */
const REASONS = [1, 3, 4];
const ENTRIES_PER_WRITE = 16_384;

/** What to write: `count` entries with serials SERIAL_BASE + first … + first + count - 1. */
export interface LargeCrlParams {
  readonly ca: Pick<DevCa, 'der' | 'privateKeyPem' | 'subjectKeyId'>;
  readonly path: string;
  readonly first: number;
  readonly count: number;
  readonly crlNumber: number;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
}

/** The serial (INTEGER content, 4 bytes) of entry `index` of a large CRL. */
export function largeCrlSerial(index: number): Buffer {
  const serial = Buffer.alloc(4);
  serial.writeUInt32BE(SERIAL_BASE + index);
  return serial;
}

/** Writes the CRL described by `params` to `params.path`; returns its size in bytes. */
export async function writeLargeCrl(params: LargeCrlParams): Promise<number> {
  const key = createPrivateKey(params.ca.privateKeyPem);
  const signatureBytes = Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
  const issuer = parseCertificate(params.ca.der).subject;
  const revokedAt = encodeTime(params.thisUpdate);
  const entryTemplate = encodeSequence(
    encodeUnsignedInteger(largeCrlSerial(0)),
    revokedAt,
    encodeSequence(
      encodeSequence(encodeOid(Ext.crlReason), encodeOctetString(Buffer.of(Tag.ENUMERATED, 1, 0))),
    ),
  );
  const serialAt = 4;
  const reasonAt = entryTemplate.length - 1;

  const extensions = encodeTlv(
    contextTag(0, true),
    encodeSequence(
      encodeSequence(
        encodeOid(Ext.crlNumber),
        encodeOctetString(encodeUnsignedInteger(bigEndian(params.crlNumber))),
      ),
      encodeSequence(
        encodeOid(Ext.authorityKeyIdentifier),
        encodeOctetString(encodeSequence(encodeTlv(contextTag(0, false), params.ca.subjectKeyId))),
      ),
    ),
  );
  const algorithm = encodeAlgorithm(OID_SHA256_WITH_RSA);
  const revokedLength = entryTemplate.length * params.count;
  const tbsHead = Buffer.concat([
    Buffer.of(Tag.INTEGER, 1, 1),
    algorithm,
    issuer,
    encodeTime(params.thisUpdate),
    encodeTime(params.nextUpdate),
    encodeHeader(Tag.SEQUENCE, revokedLength),
  ]);
  const tbsLength = tbsHead.length + revokedLength + extensions.length;
  const tbsHeader = encodeHeader(Tag.SEQUENCE, tbsLength);
  const signatureLength = encodeHeader(Tag.BIT_STRING, signatureBytes + 1).length + signatureBytes + 1;
  const totalLength = tbsHeader.length + tbsLength + algorithm.length + signatureLength;

  const out = createWriteStream(params.path);
  const signer = createSign('sha256');
  const write = async (bytes: Buffer, signed: boolean) => {
    if (signed) signer.update(bytes);
    if (!out.write(bytes)) await once(out, 'drain');
  };
  await write(encodeHeader(Tag.SEQUENCE, totalLength), false);
  await write(Buffer.concat([tbsHeader, tbsHead]), true);
  for (let start = 0; start < params.count; start += ENTRIES_PER_WRITE) {
    const n = Math.min(ENTRIES_PER_WRITE, params.count - start);
    const batch = Buffer.allocUnsafe(n * entryTemplate.length);
    for (let i = 0; i < n; i++) {
      const at = i * entryTemplate.length;
      entryTemplate.copy(batch, at);
      batch.writeUInt32BE(SERIAL_BASE + params.first + start + i, at + serialAt);
      batch[at + reasonAt] = REASONS[(start + i) % REASONS.length] as number;
    }
    await write(batch, true);
  }
  await write(extensions, true);
  await write(Buffer.concat([algorithm, encodeBitString(signer.sign(key))]), false);
  out.end();
  await once(out, 'finish');
  return encodeHeader(Tag.SEQUENCE, totalLength).length + totalLength;
}

function bigEndian(value: number): Buffer {
  const bytes = Buffer.alloc(6);
  bytes.writeUIntBE(value, 0, 6);
  return bytes;
}

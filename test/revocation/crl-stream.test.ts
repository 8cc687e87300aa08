/** The streaming CRL reader and the per-entry certificate-key hasher it feeds. */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { DevPki } from '../../dev-pki/hierarchy.js';
import { createCa, issueCrl } from '../../dev-pki/issue.js';
import { X509Crl, X509CrlReason } from '../../dev-pki/x509.js';
import { serialHex } from '../../functions/jpki/certificate.js';
import type { TrustAnchors } from '../../functions/jpki/trust-anchors.js';
import { readCrlStream } from '../../functions/revocation/crl-stream.js';
import { certificateKey, certificateKeyHasher } from '../../functions/subject/certificate-key.js';
import { devPki, userAuthAnchors } from '../support/dev-pki.js';

const DAY = 86_400_000;
const now = new Date();
let pki: DevPki;
let anchors: TrustAnchors;

beforeAll(async () => {
  pki = await devPki();
  anchors = userAuthAnchors(pki);
});

function* chunked(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function* asyncChunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  yield* chunked(bytes, size);
}

async function read(der: Uint8Array, chunkSize = 7) {
  const entries: { serial: string; revokedAt: number; reason: number }[] = [];
  const crl = await readCrlStream(
    asyncChunks(der, chunkSize),
    anchors,
    () => (bytes, start, end, revokedAt, reason) => {
      entries.push({ serial: serialHex(bytes.subarray(start, end)), revokedAt, reason });
    },
  );
  return { crl, entries };
}

async function crlWith(count: number, crlNumber = 9) {
  const entries = Array.from({ length: count }, (_, i) => ({
    serialHex: (0x01000000 + i * 7919).toString(16).padStart(8, '0'),
    revokedAt: new Date(Math.floor(now.getTime() / 1000) * 1000 - i * 1000),
    reason: i % 2 ? X509CrlReason.superseded : X509CrlReason.affiliationChanged,
  }));
  const der = await issueCrl({
    ca: pki.userAuthCas[1],
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + DAY),
    crlNumber,
    entries,
  });
  return { der, entries };
}

describe('certificateKeyHasher', () => {
  it('gives the raw digest of certificateKey for every serial, leading zero bytes included', () => {
    const secret = randomBytes(32);
    const issuer = randomBytes(150);
    const hash = certificateKeyHasher(secret, issuer);
    const out = Buffer.alloc(32);
    for (const serial of [
      '00',
      '7f',
      '0080',
      '01020304',
      '00ff00ff00ff00ff00ff',
      randomBytes(20).toString('hex'),
    ]) {
      const bytes = Buffer.from(`aa${serial}`, 'hex');
      hash(bytes, 1, bytes.length, out, 0);
      expect(out.toString('base64url')).toBe(certificateKey(secret, issuer, Buffer.from(serial, 'hex')));
    }
  });

  it('works with a secret longer than a hash block', () => {
    const secret = randomBytes(100);
    const hash = certificateKeyHasher(secret, Buffer.from('issuer'));
    const out = Buffer.alloc(32);
    hash(Buffer.from([1, 2]), 0, 2, out, 0);
    expect(out.toString('base64url')).toBe(
      certificateKey(secret, Buffer.from('issuer'), Buffer.from([1, 2])),
    );
  });
});

describe('readCrlStream', () => {
  it('reads the same entries, times and number as @peculiar/x509, in chunks of any size', async () => {
    const { der, entries } = await crlWith(300);
    const parsed = new X509Crl(der);
    for (const size of [1, 7, 1000, der.length]) {
      const { crl, entries: read_ } = await read(der, size);
      expect(crl.signer.id).toBe(anchors.list[1]?.id);
      expect(crl.crlNumber).toBe(9n);
      expect(crl.thisUpdate).toEqual(parsed.thisUpdate);
      expect(crl.nextUpdate).toEqual(parsed.nextUpdate);
      expect(crl.entryCount).toBe(300);
      expect(crl.partition).toBeUndefined();
      expect(read_.map((entry) => entry.serial)).toEqual(entries.map((entry) => entry.serialHex));
      expect(read_.map((entry) => entry.revokedAt)).toEqual(
        entries.map((entry) => entry.revokedAt.getTime()),
      );
      expect(read_.map((entry) => entry.reason)).toEqual(
        entries.map((entry) => (entry.reason === X509CrlReason.superseded ? 4 : 3)),
      );
    }
  });

  it('reads an empty CRL', async () => {
    const { crl, entries } = await read(
      await issueCrl({
        ca: pki.userAuthCas[0],
        thisUpdate: now,
        nextUpdate: new Date(now.getTime() + DAY),
        crlNumber: 1,
      }),
    );
    expect(crl.signer.id).toBe(anchors.list[0]?.id);
    expect(entries).toEqual([]);
  });

  it('refuses a CRL whose signed part was altered (CRL_UNTRUSTED)', async () => {
    const { der } = await crlWith(20);
    const tampered = Buffer.from(der);
    const serialAt = tampered.indexOf(Buffer.from('01000000', 'hex'));
    tampered[serialAt + 3] = 0x01;
    await expect(read(tampered)).rejects.toMatchObject({ code: 'CRL_UNTRUSTED' });
  });

  it('refuses a CRL from a CA with the same DN but another key (CRL_UNTRUSTED)', async () => {
    const forged = await createCa({
      kind: 'user-auth',
      serialHex: '06d18006',
      notBefore: new Date(now.getTime() - DAY),
      notAfter: new Date(now.getTime() + DAY),
    });
    const der = await issueCrl({
      ca: forged,
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + DAY),
      crlNumber: 1,
    });
    await expect(read(der)).rejects.toMatchObject({ code: 'CRL_UNTRUSTED' });
  });

  it('refuses truncated input and trailing bytes (CRL_MALFORMED)', async () => {
    const { der } = await crlWith(5);
    await expect(read(der.subarray(0, der.length - 1))).rejects.toMatchObject({ code: 'CRL_MALFORMED' });
    await expect(read(der.subarray(0, 100))).rejects.toMatchObject({ code: 'CRL_MALFORMED' });
    await expect(read(Buffer.concat([der, Buffer.of(0)]))).rejects.toMatchObject({ code: 'CRL_MALFORMED' });
  });
});

import { beforeAll, describe, expect, it } from '@jest/globals';
import type { DevPki } from '../../dev-pki/hierarchy.js';
import { createCa, issueCrl } from '../../dev-pki/issue.js';
import { X509CrlReason } from '../../dev-pki/x509.js';
import { parseCertificate } from '../../functions/jpki/certificate.js';
import type { TrustAnchors } from '../../functions/jpki/trust-anchors.js';
import { CrlError, parseCrl } from '../../functions/revocation/crl.js';
import { MemoryCrlSource } from '../../functions/revocation/memory-crl-source.js';
import { devPki, userAuthAnchors } from '../support/dev-pki.js';

const DAY = 86_400_000;
let pki: DevPki;
let anchors: TrustAnchors;
const now = new Date();

beforeAll(async () => {
  pki = await devPki();
  anchors = userAuthAnchors(pki);
});

function query(identityIndex: number) {
  const identity = pki.identities[identityIndex];
  if (!identity) throw new Error('no identity');
  const certificate = parseCertificate(identity.userAuth.der);
  const issuer = anchors.findSigner(certificate);
  if (!issuer) throw new Error('no issuer');
  return { certificate, issuer, now };
}

describe('parseCrl', () => {
  it('reads issuer, times, number and entries with reasons', () => {
    const crl = pki.crls.find((c) => c.name === `user-auth-${pki.userAuthCas[1].serialHex}.revoked.crl`);
    if (!crl) throw new Error('no CRL');
    const parsed = parseCrl(crl.der);
    expect(parsed.crlNumber).toBe(2n);
    expect(parsed.entries).toHaveLength(1);
    expect(parsed.entries[0]?.reason).toBe('keyCompromise');
    expect(parsed.nextUpdate?.getTime()).toBeGreaterThan(parsed.thisUpdate.getTime());
  });

  it('refuses bytes that are not a CRL', () => {
    expect(() => parseCrl(Buffer.from('3003020101', 'hex'))).toThrow(CrlError);
  });
});

describe('MemoryCrlSource', () => {
  it('answers revoked with the reason for a listed serial, good otherwise', async () => {
    const source = new MemoryCrlSource(anchors);
    for (const crl of pki.crls.filter(
      (c) => c.name.startsWith('user-auth') && c.name.endsWith('.revoked.crl'),
    )) {
      source.load(crl.der);
    }
    expect(await source.status(query(2))).toMatchObject({ status: 'revoked', reason: 'keyCompromise' });
    expect(await source.status(query(0))).toEqual({ status: 'good' });
    expect(await source.status(query(1))).toEqual({ status: 'good' });
  });

  it('answers unknown for an issuer without a loaded CRL', async () => {
    const source = new MemoryCrlSource(anchors);
    const older = pki.crls.find((c) => c.name === `user-auth-${pki.userAuthCas[0].serialHex}.empty.crl`);
    if (!older) throw new Error('no CRL');
    source.load(older.der);
    expect(await source.status(query(0))).toMatchObject({ status: 'unknown' });
    expect(await source.status(query(1))).toEqual({ status: 'good' });
  });

  it('keeps the newer CRL when an older one is loaded after it', async () => {
    const ca = pki.userAuthCas[1];
    const revokedSerial = pki.identities[2]?.userAuth.serialHex as string;
    const source = new MemoryCrlSource(anchors);
    const entries = [{ serialHex: revokedSerial, revokedAt: now, reason: X509CrlReason.superseded }];
    source.load(
      await issueCrl({
        ca,
        thisUpdate: now,
        nextUpdate: new Date(now.getTime() + DAY),
        crlNumber: 5,
        entries,
      }),
    );
    source.load(
      await issueCrl({
        ca,
        thisUpdate: new Date(now.getTime() - DAY),
        nextUpdate: new Date(now.getTime() + DAY),
        crlNumber: 4,
      }),
    );
    expect(await source.status(query(2))).toMatchObject({ status: 'revoked', reason: 'superseded' });
  });

  it('answers unknown for a stale CRL, within the grace period good', async () => {
    const crl = await issueCrl({
      ca: pki.userAuthCas[1],
      thisUpdate: new Date(now.getTime() - 3 * DAY),
      nextUpdate: new Date(now.getTime() - DAY),
      crlNumber: 3,
    });
    const strict = new MemoryCrlSource(anchors);
    strict.load(crl);
    expect(await strict.status(query(0))).toMatchObject({ status: 'unknown' });
    const lenient = new MemoryCrlSource(anchors, { graceSeconds: 2 * 86_400 });
    lenient.load(crl);
    expect(await lenient.status(query(0))).toEqual({ status: 'good' });
  });

  it('refuses a CRL signed by a CA with the same DN that is not trusted', async () => {
    const forged = await createCa({
      kind: 'user-auth',
      serialHex: '06d18006',
      notBefore: new Date(now.getTime() - DAY),
      notAfter: new Date(now.getTime() + DAY),
    });
    const crl = await issueCrl({
      ca: forged,
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + DAY),
      crlNumber: 1,
    });
    expect(() => new MemoryCrlSource(anchors).load(crl)).toThrow(
      expect.objectContaining({ code: 'CRL_UNTRUSTED' }),
    );
  });
});

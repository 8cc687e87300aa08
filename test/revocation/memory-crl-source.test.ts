/**
 * MemoryCrlSource: CRLs read by the one streaming CRL reader, kept in memory per scope (CA key and
 * municipality partition), answering as a login asks.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { DevPki } from '../../dev-pki/hierarchy.js';
import { createCa, issueCrl, issueUserAuthCertificate } from '../../dev-pki/issue.js';
import { X509CrlReason } from '../../dev-pki/x509.js';
import { parseCertificate } from '../../functions/jpki/certificate.js';
import type { TrustAnchors } from '../../functions/jpki/trust-anchors.js';
import { CrlError } from '../../functions/revocation/crl.js';
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

describe('MemoryCrlSource', () => {
  it('answers revoked with the reason for a listed serial, good otherwise', async () => {
    const source = new MemoryCrlSource(anchors);
    for (const crl of pki.crls.filter(
      (c) => c.name.startsWith('user-auth') && c.name.endsWith('.revoked.crl'),
    )) {
      await source.load(crl.der);
    }
    expect(await source.status(query(2))).toMatchObject({ status: 'revoked', reason: 'keyCompromise' });
    expect(await source.status(query(0))).toEqual({ status: 'good' });
    expect(await source.status(query(1))).toEqual({ status: 'good' });
  });

  it('answers unknown for an issuer without a loaded CRL', async () => {
    const source = new MemoryCrlSource(anchors);
    const older = pki.crls.find((c) => c.name === `user-auth-${pki.userAuthCas[0].serialHex}.empty.crl`);
    if (!older) throw new Error('no CRL');
    await source.load(older.der);
    expect(await source.status(query(0))).toMatchObject({ status: 'unknown' });
    expect(await source.status(query(1))).toEqual({ status: 'good' });
  });

  it('keeps the newer CRL when an older one is loaded after it', async () => {
    const ca = pki.userAuthCas[1];
    const revokedSerial = pki.identities[2]?.userAuth.serialHex as string;
    const source = new MemoryCrlSource(anchors);
    const entries = [{ serialHex: revokedSerial, revokedAt: now, reason: X509CrlReason.superseded }];
    await source.load(
      await issueCrl({
        ca,
        thisUpdate: now,
        nextUpdate: new Date(now.getTime() + DAY),
        crlNumber: 5,
        entries,
      }),
    );
    await source.load(
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
    await strict.load(crl);
    expect(await strict.status(query(0))).toMatchObject({ status: 'unknown' });
    const lenient = new MemoryCrlSource(anchors, { graceSeconds: 2 * 86_400 });
    await lenient.load(crl);
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
    await expect(new MemoryCrlSource(anchors).load(crl)).rejects.toMatchObject({ code: 'CRL_UNTRUSTED' });
  });

  it('refuses bytes that are not a CRL', async () => {
    await expect(new MemoryCrlSource(anchors).load(Buffer.from('3003020101', 'hex'))).rejects.toBeInstanceOf(
      CrlError,
    );
  });

  it('keeps the CRLs of two municipalities apart and answers each certificate from its own', async () => {
    const ca = pki.userAuthCas[1];
    const validity = {
      notBefore: new Date(now.getTime() - DAY),
      notAfter: new Date(now.getTime() + 30 * DAY),
    };
    const [inChiyoda, inSapporo] = await Promise.all([
      issueUserAuthCertificate({ ca, ...validity }),
      issueUserAuthCertificate({ ca, ...validity, prefecture: '北海道', city: '札幌市' }),
    ]);
    const municipalCrl = (partition: { prefecture: string; city: string }, revoked: string[]) =>
      issueCrl({
        ca,
        thisUpdate: now,
        nextUpdate: new Date(now.getTime() + DAY),
        crlNumber: 7,
        partition,
        entries: revoked.map((serialHex) => ({
          serialHex,
          revokedAt: now,
          reason: X509CrlReason.affiliationChanged,
        })),
      });
    const source = new MemoryCrlSource(anchors);
    await source.load(await municipalCrl({ prefecture: '東京都', city: '千代田区' }, [inChiyoda.serialHex]));
    const statusOf = (der: Uint8Array) => {
      const certificate = parseCertificate(der);
      const issuer = anchors.findSigner(certificate);
      if (!issuer) throw new Error('no issuer');
      return source.status({ certificate, issuer, now });
    };
    expect(await statusOf(inChiyoda.der)).toMatchObject({ status: 'revoked', reason: 'affiliationChanged' });
    expect(await statusOf(inSapporo.der)).toMatchObject({ status: 'unknown' });
    await source.load(await municipalCrl({ prefecture: '北海道', city: '札幌市' }, []));
    expect(await statusOf(inSapporo.der)).toEqual({ status: 'good' });
    expect(await statusOf(inChiyoda.der)).toMatchObject({ status: 'revoked' });
  });

  it('answers revoked while any covering CRL lists it: the whole-CA CRL and the municipality CRL alike', async () => {
    const ca = pki.userAuthCas[1];
    const card = await issueUserAuthCertificate({
      ca,
      notBefore: new Date(now.getTime() - DAY),
      notAfter: new Date(now.getTime() + 30 * DAY),
    });
    const crlListing = (revoked: string[], partition?: { prefecture: string; city: string }) =>
      issueCrl({
        ca,
        thisUpdate: now,
        nextUpdate: new Date(now.getTime() + DAY),
        crlNumber: 9,
        ...(partition ? { partition } : {}),
        entries: revoked.map((serialHex) => ({
          serialHex,
          revokedAt: now,
          reason: X509CrlReason.keyCompromise,
        })),
      });
    const source = new MemoryCrlSource(anchors);
    await source.load(await crlListing([card.serialHex]));
    await source.load(await crlListing([], { prefecture: '東京都', city: '千代田区' }));
    const certificate = parseCertificate(card.der);
    const issuer = anchors.findSigner(certificate);
    if (!issuer) throw new Error('no issuer');
    expect(await source.status({ certificate, issuer, now })).toMatchObject({
      status: 'revoked',
      reason: 'keyCompromise',
    });
  });
});

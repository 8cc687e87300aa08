/**
 * The OCSP request and the checks of a response (ocsp.ts), on responses signed for real by the
 * development CA or a responder it issued, each wrong in one way (ocsp-fixture.ts). The exchange
 * with a real responder (openssl ocsp) is in ocsp-source.test.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { DevIdentity, DevPki } from '../../dev-pki/hierarchy.js';
import { type DevCertificate, issueUserAuthCertificate } from '../../dev-pki/issue.js';
import { type ParsedCertificate, parseCertificate } from '../../functions/jpki/certificate.js';
import type { TrustAnchor } from '../../functions/jpki/trust-anchors.js';
import {
  buildOcspRequest,
  type OcspErrorCode,
  type OcspRequest,
  verifyOcspResponse,
} from '../../functions/revocation/ocsp.js';
import { childrenOf, contentOf, type DerElement, decodeOid, readWhole, Tag } from '../../protocol/der.js';
import { OID_EKU_OCSP_SIGNING, OID_OCSP_NONCE, OID_SHA256 } from '../../protocol/oids.js';
import { devPki, userAuthAnchors } from '../support/dev-pki.js';
import { madeResponse, type ResponseSpec, unsuccessfulResponse } from './ocsp-fixture.js';

const MINUTE = 60_000;
const DAY = 1_440 * MINUTE;
const TIMES = { skewMs: MINUTE, maxAgeMs: 5 * MINUTE };

let pki: DevPki;
let alice: DevIdentity;
let certificate: ParsedCertificate;
let issuer: TrustAnchor;
let otherGeneration: TrustAnchor;
let delegated: DevCertificate;
let withoutEku: DevCertificate;
let expiredDelegated: DevCertificate;
let request: OcspRequest;

beforeAll(async () => {
  pki = await devPki();
  const anchors = userAuthAnchors(pki);
  alice = pki.identities[0] as DevIdentity;
  certificate = parseCertificate(alice.userAuth.der);
  const found = anchors.findSigner(certificate);
  if (!found) throw new Error('no issuer');
  issuer = found;
  const other = anchors.list.find((anchor) => anchor.id !== issuer.id);
  if (!other) throw new Error('no second CA generation');
  otherGeneration = other;
  const ca = alice.userAuthCa;
  const now = Date.now();
  const current = { notBefore: new Date(now - DAY), notAfter: new Date(now + 30 * DAY) };
  [delegated, withoutEku, expiredDelegated] = await Promise.all([
    issueUserAuthCertificate({ ca, ...current, extendedKeyUsage: [OID_EKU_OCSP_SIGNING], policies: [] }),
    issueUserAuthCertificate({ ca, ...current, policies: [] }),
    issueUserAuthCertificate({
      ca,
      notBefore: new Date(now - 30 * DAY),
      notAfter: new Date(now - DAY),
      extendedKeyUsage: [OID_EKU_OCSP_SIGNING],
      policies: [],
    }),
  ]);
  request = buildOcspRequest(certificate, issuer, randomBytes(32));
});

/** A response signed by the CA itself, echoing the request's nonce, changed by `spec`. */
function response(spec: Partial<ResponseSpec> = {}): Promise<Buffer> {
  return madeResponse(certificate, issuer, {
    signer: alice.userAuthCa,
    nonceValue: request.nonceValue,
    ...spec,
  });
}

function verify(der: Uint8Array, now = Date.now(), anchor = issuer) {
  return verifyOcspResponse(der, request, certificate, anchor, { now, ...TIMES });
}

function expectRefused(der: Uint8Array, code: OcspErrorCode, message?: RegExp) {
  expect(() => verify(der)).toThrow(
    expect.objectContaining({ code, ...(message ? { message: expect.stringMatching(message) } : {}) }),
  );
}

describe('buildOcspRequest', () => {
  it('names the certificate by a SHA-256 CertID whose AlgorithmIdentifier has no parameters, and carries the nonce', () => {
    const der = request.der;
    const children = (element: DerElement | undefined) => {
      if (!element) throw new Error('missing element');
      return childrenOf(der, element);
    };
    const [tbsRequest] = children(readWhole(der, Tag.SEQUENCE));
    const [requestList, extensionsTag] = children(tbsRequest);
    const [certId] = children(children(requestList)[0]);
    const [algorithm, nameHash, keyHash, serial] = children(certId);
    const algorithmParts = children(algorithm);
    expect(algorithmParts).toHaveLength(1);
    expect(decodeOid(contentOf(der, algorithmParts[0] as DerElement))).toBe(OID_SHA256);
    const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest();
    expect(Buffer.from(contentOf(der, nameHash as DerElement))).toEqual(sha256(certificate.issuer));
    expect(Buffer.from(contentOf(der, keyHash as DerElement))).toEqual(sha256(issuer.certificate.publicKey));
    expect(Buffer.from(contentOf(der, serial as DerElement)).toString('hex')).toBe(alice.userAuth.serialHex);
    const [nonce] = children(children(extensionsTag)[0]);
    const [oid, value] = children(nonce);
    expect(decodeOid(contentOf(der, oid as DerElement))).toBe(OID_OCSP_NONCE);
    expect(Buffer.from(contentOf(der, value as DerElement))).toEqual(request.nonceValue);
  });
});

describe('verifyOcspResponse accepts', () => {
  it('a response signed by the CA, named by its responderID byName', async () => {
    expect(verify(await response())).toMatchObject({ status: { status: 'good' } });
  });

  it('a responderID byKey, a SHA-1 CertID (RFC 5019 responders), and a revoked status with its reason', async () => {
    expect(
      verify(await response({ responderIdBy: 'key', certIdHash: 'sha1', status: 'revoked' })),
    ).toMatchObject({
      status: { status: 'revoked', reason: 'superseded' },
    });
  });

  it('a delegated responder the CA issued for OCSPSigning', async () => {
    const der = await response({ signer: delegated, certs: [delegated.der] });
    expect(verify(der)).toMatchObject({ status: { status: 'good' } });
  });

  it('a response without nextUpdate while thisUpdate is within the maximum age', async () => {
    const der = await response({ thisUpdate: new Date(Date.now() - 4 * MINUTE), nextUpdate: null });
    expect(verify(der)).toMatchObject({ status: { status: 'good' }, nextUpdate: undefined });
  });
});

describe('verifyOcspResponse refuses', () => {
  it('a non-successful responseStatus', () => {
    expectRefused(unsuccessfulResponse(3), 'OCSP_NOT_SUCCESSFUL', /tryLater/);
    expectRefused(unsuccessfulResponse(6), 'OCSP_NOT_SUCCESSFUL', /unauthorized/);
  });

  it('bytes that are not a DER OCSPResponse, or that have trailing bytes', async () => {
    expectRefused(Buffer.from('300302010a', 'hex'), 'OCSP_MALFORMED');
    expectRefused(Buffer.concat([await response(), Buffer.of(0)]), 'OCSP_MALFORMED', /trailing/);
  });

  it('a thisUpdate in the future (beyond the skew)', async () => {
    const der = await response({ thisUpdate: new Date(Date.now() + 5 * MINUTE) });
    expectRefused(der, 'OCSP_NOT_CURRENT', /thisUpdate is in the future/);
  });

  it('a producedAt in the future (beyond the skew)', async () => {
    const der = await response({ producedAt: new Date(Date.now() + 5 * MINUTE) });
    expectRefused(der, 'OCSP_NOT_CURRENT', /producedAt is in the future/);
  });

  it('a response past its nextUpdate', async () => {
    const der = await response({
      thisUpdate: new Date(Date.now() - 2 * DAY),
      nextUpdate: new Date(Date.now() - DAY),
    });
    expectRefused(der, 'OCSP_NOT_CURRENT', /past nextUpdate/);
  });

  it('a stale thisUpdate without nextUpdate (older than the maximum age)', async () => {
    const der = await response({ thisUpdate: new Date(Date.now() - 10 * MINUTE), nextUpdate: null });
    expectRefused(der, 'OCSP_NOT_CURRENT', /too old/);
  });

  it('a response without a nonce, or with another request’s nonce', async () => {
    expectRefused(await response({ nonceValue: undefined }), 'OCSP_NONCE_MISMATCH', /no nonce/);
    const other = buildOcspRequest(certificate, issuer, randomBytes(32));
    expectRefused(await response({ nonceValue: other.nonceValue }), 'OCSP_NONCE_MISMATCH', /differs/);
  });

  it('certStatus unknown', async () => {
    expectRefused(await response({ status: 'unknown' }), 'OCSP_UNKNOWN');
  });

  it('a response about another certificate', async () => {
    const bob = parseCertificate((pki.identities[1] as DevIdentity).userAuth.der);
    const der = await madeResponse(bob, issuer, { signer: alice.userAuthCa, nonceValue: request.nonceValue });
    expectRefused(der, 'OCSP_WRONG_CERTIFICATE');
  });

  it('a responder certificate without the OCSPSigning extended key usage', async () => {
    const der = await response({ signer: withoutEku, certs: [withoutEku.der] });
    expectRefused(der, 'OCSP_RESPONDER_NOT_AUTHORIZED', /not a current OCSPSigning certificate/);
  });

  it('an expired delegated responder', async () => {
    const der = await response({ signer: expiredDelegated, certs: [expiredDelegated.der] });
    expectRefused(der, 'OCSP_RESPONDER_NOT_AUTHORIZED');
  });

  it('a responderID that names a certificate the response does not carry', async () => {
    expectRefused(await response({ signer: delegated }), 'OCSP_RESPONDER_NOT_AUTHORIZED', /names neither/);
  });

  it('a delegated responder of the other CA generation (same DN, other key)', async () => {
    const der = await response({ signer: delegated, certs: [delegated.der] });
    expect(() => verify(der, Date.now(), otherGeneration)).toThrow(
      expect.objectContaining({ code: 'OCSP_RESPONDER_NOT_AUTHORIZED' }),
    );
  });

  it('a response whose responderID names the CA but that another key signed', async () => {
    const forged = await madeResponse(certificate, issuer, {
      signer: { der: alice.userAuthCa.der, privateKeyPem: delegated.privateKeyPem },
      nonceValue: request.nonceValue,
    });
    expectRefused(forged, 'OCSP_SIGNATURE_INVALID');
  });
});

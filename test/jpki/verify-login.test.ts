import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { DevPki } from '../../dev-pki/hierarchy.js';
import {
  createCa,
  type DevCa,
  type DevCertificate,
  issueCrl,
  issueSigningCertificate,
  issueUserAuthCertificate,
} from '../../dev-pki/issue.js';
import { KeyUsageFlags, X509Certificate } from '../../dev-pki/x509.js';
import { VerificationError, type VerificationErrorCode } from '../../functions/jpki/errors.js';
import { loadTrustAnchors, type TrustAnchors } from '../../functions/jpki/trust-anchors.js';
import { type LoginContext, verifyLogin } from '../../functions/jpki/verify-login.js';
import { MemoryCrlSource } from '../../functions/revocation/memory-crl-source.js';
import type { RevocationSource } from '../../functions/revocation/revocation-source.js';
import { devPki, newNonce, ORIGIN, signChallenge, userAuthAnchors } from '../support/dev-pki.js';

const DAY = 86_400_000;
const SECRET = Buffer.alloc(32, 7);
const GOOD: RevocationSource = { status: async () => ({ status: 'good' }) };

let pki: DevPki;
let anchors: TrustAnchors;
let newer: DevCa;
const now = new Date();
const valid = { notBefore: new Date(now.getTime() - DAY), notAfter: new Date(now.getTime() + 365 * DAY) };

function context(overrides: Partial<LoginContext> = {}): LoginContext {
  return {
    trustAnchors: anchors,
    now,
    clockSkewSeconds: 0,
    revocation: GOOD,
    certificateKeySecret: SECRET,
    ...overrides,
  };
}

/** Signs a fresh challenge with the certificate's own key and verifies it. */
function login(certificate: DevCertificate, overrides: Partial<LoginContext> = {}) {
  const nonce = newNonce();
  return verifyLogin(
    { certificate: certificate.der, signature: signChallenge(certificate.privateKeyPem, ORIGIN, nonce) },
    { origin: ORIGIN, nonce },
    context(overrides),
  );
}

async function expectRefused(promise: Promise<unknown>, code: VerificationErrorCode) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VerificationError);
  expect((error as VerificationError).code).toBe(code);
}

beforeAll(async () => {
  pki = await devPki();
  anchors = userAuthAnchors(pki);
  newer = pki.userAuthCas[1];
});

describe('accepts a valid login', () => {
  it.each([
    ['newer', 0],
    ['older', 1],
  ])('from the %s CA generation, with the certificate key and issuer generation', async (_label, index) => {
    const identity = pki.identities[index];
    if (!identity) throw new Error('dev PKI has no identity');
    const ca = identity.userAuthCa;
    const result = await login(identity.userAuth);
    expect(result.kind).toBe('user-auth');
    // The generation is named by the year the CA certificate starts, read here with another parser.
    expect(result.issuer.generation).toBe(String(new X509Certificate(ca.der).notBefore.getUTCFullYear()));
    expect(result.certificateKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(result.revocation).toBe('good');
    expect(JSON.stringify({ ...result, certificate: undefined })).not.toContain(identity.userAuth.serialHex);
  });

  it('names the generation by the CA start year also on 31 December (no year arithmetic on day counts)', async () => {
    const newYearsEve = new Date('2026-12-31T23:30:00Z');
    const ca = await createCa({
      kind: 'user-auth',
      serialHex: '06d18009',
      // "six years ago" as the dev PKI counts it, 6 × 365 days: 2021-01-01 (2024 had 366 days)
      notBefore: new Date(newYearsEve.getTime() - 6 * 365 * DAY),
      notAfter: new Date(newYearsEve.getTime() + 3650 * DAY),
    });
    const certificate = await issueUserAuthCertificate({
      ca,
      notBefore: new Date(newYearsEve.getTime() - DAY),
      notAfter: new Date(newYearsEve.getTime() + 365 * DAY),
    });
    const result = await login(certificate, { now: newYearsEve, trustAnchors: loadTrustAnchors([ca.der]) });
    expect(result.issuer.generation).toBe('2021');
  });

  it('gives the same certificate key on every login with one certificate, another for another certificate', async () => {
    const [alice, bob] = pki.identities;
    if (!alice || !bob) throw new Error('dev PKI has no identities');
    const first = await login(alice.userAuth);
    const second = await login(alice.userAuth);
    const other = await login(bob.userAuth);
    expect(second.certificateKey).toBe(first.certificateKey);
    expect(other.certificateKey).not.toBe(first.certificateKey);
  });

  it('tolerates the configured clock skew, and no more', async () => {
    const early = await issueUserAuthCertificate({
      ca: newer,
      notBefore: new Date(now.getTime() + 30_000),
      notAfter: valid.notAfter,
    });
    await expect(login(early, { clockSkewSeconds: 60 })).resolves.toMatchObject({ kind: 'user-auth' });
    await expectRefused(login(early, { clockSkewSeconds: 10 }), 'CERTIFICATE_NOT_YET_VALID');
  });
});

describe('refuses the issuer', () => {
  it('when a self-made CA has the identical JPKI DN', async () => {
    const forged = await createCa({ kind: 'user-auth', serialHex: newer.serialHex, ...valid });
    expect(Buffer.from(forged.name.toString())).toEqual(Buffer.from(newer.name.toString()));
    const certificate = await issueUserAuthCertificate({ ca: forged, ...valid });
    await expectRefused(login(certificate), 'ISSUER_UNTRUSTED');
  });

  it('when a forged certificate names a trusted CA key in its authority key identifier', async () => {
    const forged = await createCa({ kind: 'user-auth', serialHex: newer.serialHex, ...valid });
    const certificate = await issueUserAuthCertificate({
      ca: { ...forged, subjectKeyId: newer.subjectKeyId },
      ...valid,
    });
    await expectRefused(login(certificate), 'ISSUER_UNTRUSTED');
  });

  it('when the CA certificate has expired', async () => {
    const expired = await createCa({
      kind: 'user-auth',
      serialHex: '01',
      notBefore: new Date(now.getTime() - 3650 * DAY),
      notAfter: new Date(now.getTime() - DAY),
    });
    const certificate = await issueUserAuthCertificate({ ca: expired, ...valid });
    await expectRefused(
      login(certificate, { trustAnchors: loadTrustAnchors([expired.der, newer.der]) }),
      'ISSUER_NOT_VALID',
    );
  });
});

describe('refuses the certificate', () => {
  it('when it has expired', async () => {
    const certificate = await issueUserAuthCertificate({
      ca: newer,
      notBefore: new Date(now.getTime() - 400 * DAY),
      notAfter: new Date(now.getTime() - DAY),
    });
    await expectRefused(login(certificate), 'CERTIFICATE_EXPIRED');
  });

  it('when it is not valid yet', async () => {
    const certificate = await issueUserAuthCertificate({
      ca: newer,
      notBefore: new Date(now.getTime() + DAY),
      notAfter: valid.notAfter,
    });
    await expectRefused(login(certificate), 'CERTIFICATE_NOT_YET_VALID');
  });

  it('without keyUsage digitalSignature', async () => {
    const certificate = await issueUserAuthCertificate({
      ca: newer,
      ...valid,
      keyUsage: KeyUsageFlags.keyEncipherment,
    });
    await expectRefused(login(certificate), 'KEY_USAGE_INVALID');
  });

  it('with an extKeyUsage that excludes clientAuth', async () => {
    const certificate = await issueUserAuthCertificate({
      ca: newer,
      ...valid,
      extendedKeyUsage: ['1.3.6.1.5.5.7.3.4'],
    });
    await expectRefused(login(certificate), 'KEY_USAGE_INVALID');
  });

  it('without any certificate policy', async () => {
    const certificate = await issueUserAuthCertificate({ ca: newer, ...valid, policies: [] });
    await expectRefused(login(certificate), 'NOT_USER_AUTH_CERTIFICATE');
  });

  it('with another policy', async () => {
    const certificate = await issueUserAuthCertificate({
      ca: newer,
      ...valid,
      policies: ['1.2.392.200149.8.5.1.0.1'],
    });
    await expectRefused(login(certificate), 'NOT_USER_AUTH_CERTIFICATE');
  });

  it('when it is a signing certificate, even if its CA were trusted', async () => {
    const identity = pki.identities[0];
    if (!identity) throw new Error('dev PKI has no identity');
    await expectRefused(login(identity.signing), 'ISSUER_UNTRUSTED');
    const withSigningCa = loadTrustAnchors([...pki.userAuthCas.map((ca) => ca.der), pki.signingCa.der]);
    await expectRefused(
      login(identity.signing, { trustAnchors: withSigningCa }),
      'NOT_USER_AUTH_CERTIFICATE',
    );
    const fromUserAuthCa = await issueSigningCertificate({ ca: newer, ...valid, facts: identity.facts });
    await expectRefused(login(fromUserAuthCa), 'NOT_USER_AUTH_CERTIFICATE');
  });

  it('with an RSA-1024 key', async () => {
    const certificate = await issueUserAuthCertificate({ ca: newer, ...valid, bits: 1024 });
    await expectRefused(login(certificate), 'KEY_NOT_ALLOWED');
  });

  it('with a non-RSA key', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ecPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const certificate = await issueUserAuthCertificate({ ca: newer, ...valid, privateKeyPem: ecPem });
    await expectRefused(login(certificate), 'KEY_NOT_ALLOWED');
  });

  it('when signed with SHA-1', async () => {
    const certificate = await issueUserAuthCertificate({ ca: newer, ...valid, hash: 'SHA-1' });
    await expectRefused(login(certificate), 'ALGORITHM_NOT_ALLOWED');
  });

  it('when it is garbage', async () => {
    await expectRefused(
      verifyLogin(
        { certificate: Buffer.from('not a certificate'), signature: Buffer.alloc(256) },
        { origin: ORIGIN, nonce: newNonce() },
        context(),
      ),
      'CERTIFICATE_MALFORMED',
    );
  });

  it('when it is 1 MiB, before reading it', async () => {
    await expectRefused(
      verifyLogin(
        { certificate: Buffer.alloc(1024 * 1024, 0x30), signature: Buffer.alloc(256) },
        { origin: ORIGIN, nonce: newNonce() },
        context(),
      ),
      'CERTIFICATE_TOO_LARGE',
    );
  });
});

describe('refuses the challenge signature', () => {
  const attempt = (sign: (nonce: string) => Buffer, storedNonce?: string) => {
    const identity = pki.identities[0];
    if (!identity) throw new Error('dev PKI has no identity');
    const nonce = newNonce();
    return verifyLogin(
      { certificate: identity.userAuth.der, signature: sign(nonce) },
      { origin: ORIGIN, nonce: storedNonce ?? nonce },
      context(),
    );
  };
  const key = () => pki.identities[0]?.userAuth.privateKeyPem as string;

  it('over another origin (a relaying site)', async () => {
    await expectRefused(
      attempt((nonce) => signChallenge(key(), 'https://evil.example', nonce)),
      'CHALLENGE_SIGNATURE_INVALID',
    );
  });

  it('over another nonce', async () => {
    await expectRefused(
      attempt(() => signChallenge(key(), ORIGIN, newNonce())),
      'CHALLENGE_SIGNATURE_INVALID',
    );
  });

  it('made by another key', async () => {
    const other = pki.identities[1]?.userAuth.privateKeyPem as string;
    await expectRefused(
      attempt((nonce) => signChallenge(other, ORIGIN, nonce)),
      'CHALLENGE_SIGNATURE_INVALID',
    );
  });

  it('when truncated or extended', async () => {
    await expectRefused(
      attempt((nonce) => signChallenge(key(), ORIGIN, nonce).subarray(1)),
      'SIGNATURE_MALFORMED',
    );
    await expectRefused(
      attempt((nonce) => Buffer.concat([signChallenge(key(), ORIGIN, nonce), Buffer.of(0)])),
      'SIGNATURE_MALFORMED',
    );
  });

  it('when the stored nonce is not a valid challenge input', async () => {
    await expectRefused(
      attempt((nonce) => signChallenge(key(), ORIGIN, nonce), 'short'),
      'CHALLENGE_INPUT_INVALID',
    );
  });
});

describe('revocation', () => {
  const crlSource = async (name: string) => {
    const source = new MemoryCrlSource(anchors);
    for (const crl of pki.crls.filter((c) => c.name.startsWith('user-auth') && c.name.endsWith(name))) {
      await source.load(crl.der);
    }
    return source;
  };

  it('refuses a revoked certificate', async () => {
    const revoked = pki.identities.find((identity) => identity.label === 'revoked');
    if (!revoked) throw new Error('dev PKI has no revoked identity');
    await expectRefused(login(revoked.userAuth, { revocation: await crlSource('revoked.crl') }), 'REVOKED');
  });

  it('accepts a certificate that the current CRL does not list', async () => {
    const alice = pki.identities[0];
    if (!alice) throw new Error('dev PKI has no identity');
    await expect(
      login(alice.userAuth, { revocation: await crlSource('revoked.crl') }),
    ).resolves.toMatchObject({
      revocation: 'good',
    });
  });

  it('fails closed when the status is unknown, unless the operator allows it', async () => {
    const alice = pki.identities[0];
    if (!alice) throw new Error('dev PKI has no identity');
    const empty = new MemoryCrlSource(anchors);
    await expectRefused(login(alice.userAuth, { revocation: empty }), 'REVOCATION_UNKNOWN');
    await expect(
      login(alice.userAuth, { revocation: empty, allowUnknownRevocation: true }),
    ).resolves.toMatchObject({ revocation: 'unknown' });
  });

  it('treats a CRL past its nextUpdate as unknown', async () => {
    const alice = pki.identities[0];
    if (!alice) throw new Error('dev PKI has no identity');
    const stale = new MemoryCrlSource(anchors);
    await stale.load(
      await issueCrl({
        ca: newer,
        thisUpdate: new Date(now.getTime() - 10 * DAY),
        nextUpdate: new Date(now.getTime() - DAY),
        crlNumber: 9,
      }),
    );
    await expectRefused(login(alice.userAuth, { revocation: stale }), 'REVOCATION_UNKNOWN');
  });
});

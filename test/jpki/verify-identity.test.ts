import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type DevIdentity, type DevPki, writeDevPki } from '../../dev-pki/hierarchy.js';
import {
  basicFactOtherNames,
  createCa,
  type DevCertificate,
  issueCrl,
  issueSigningCertificate,
  issueUserAuthCertificate,
  type SigningParams,
} from '../../dev-pki/issue.js';
import { KeyUsageFlags } from '../../dev-pki/x509.js';
import { readBasicFacts } from '../../functions/jpki/basic-facts.js';
import {
  CertificateLinkFileError,
  type CertificateLinkSource,
  FileCertificateLinkSource,
} from '../../functions/jpki/certificate-links.js';
import { VerificationError, type VerificationErrorCode } from '../../functions/jpki/errors.js';
import {
  combineTrustAnchors,
  loadTrustAnchors,
  type TrustAnchors,
} from '../../functions/jpki/trust-anchors.js';
import { type IdentityContext, verifyIdentity } from '../../functions/jpki/verify-identity.js';
import { verifyLogin } from '../../functions/jpki/verify-login.js';
import { CrlStore } from '../../functions/revocation/crl-store.js';
import { MemoryCrlSource } from '../../functions/revocation/memory-crl-source.js';
import type { RevocationQuery, RevocationSource } from '../../functions/revocation/revocation-source.js';
import { StoredCrlSource } from '../../functions/revocation/stored-crl-source.js';
import { BasicFactOid, POLICY_SIGNING, POLICY_USER_AUTH } from '../../protocol/oids.js';
import { challengeSignedData, identitySignedData } from '../../protocol/signed-data.js';
import { useLocalTables } from '../storage/local-table.js';
import {
  devPki,
  newNonce,
  ORIGIN,
  signChallenge,
  signIdentity,
  userAuthAnchors,
} from '../support/dev-pki.js';

const DAY = 86_400_000;
const newTable = useLocalTables();
const SECRET = Buffer.alloc(32, 9);
const now = new Date();
const valid = { notBefore: new Date(now.getTime() - DAY), notAfter: new Date(now.getTime() + 365 * DAY) };

let pki: DevPki;
let dir: string;
let signingAnchors: TrustAnchors;
let userAuth: TrustAnchors;
/** The CRLs of the development PKI that list revoked certificates, for both kinds of CA. */
let crls: MemoryCrlSource;
let links: FileCertificateLinkSource;
let person: Record<'alice' | 'bob' | 'revoked' | 'moved' | 'otherCard', DevIdentity>;

beforeAll(async () => {
  pki = await devPki();
  dir = await mkdtemp(join(tmpdir(), 'myna-verify-identity-'));
  const manifest = await writeDevPki(dir, pki);
  signingAnchors = loadTrustAnchors([pki.signingCa.der]);
  userAuth = userAuthAnchors(pki);
  crls = new MemoryCrlSource(combineTrustAnchors(userAuth, signingAnchors));
  for (const crl of pki.crls.filter((c) => c.name.endsWith('.revoked.crl'))) await crls.load(crl.der);
  links = new FileCertificateLinkSource(join(dir, manifest.certificateLinks as string));
  const byLabel = (label: string) =>
    pki.identities.find((identity) => identity.label === label) as DevIdentity;
  person = {
    alice: byLabel('alice'),
    bob: byLabel('bob'),
    revoked: byLabel('revoked'),
    moved: byLabel('moved'),
    otherCard: byLabel('other-card'),
  };
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function context(overrides: Partial<IdentityContext> = {}): IdentityContext {
  return {
    signingTrustAnchors: signingAnchors,
    userAuthTrustAnchors: userAuth,
    now,
    clockSkewSeconds: 0,
    revocation: crls,
    allowUnknownRevocation: false,
    certificateKeySecret: SECRET,
    links,
    ...overrides,
  };
}

interface AnswerParts {
  readonly userAuth?: DevCertificate;
  readonly signing?: DevCertificate;
  /** Signs instead of the signing key over the OP's challenge. */
  readonly sign?: (nonce: string) => Uint8Array;
}

/** What `identity`'s card answers to a fresh challenge (parts replaced as given), verified. */
function verify(identity: DevIdentity, parts: AnswerParts = {}, overrides: Partial<IdentityContext> = {}) {
  const nonce = newNonce();
  const signing = parts.signing ?? identity.signing;
  return verifyIdentity(
    {
      userAuthCertificate: (parts.userAuth ?? identity.userAuth).der,
      signingCertificate: signing.der,
      signature: parts.sign ? parts.sign(nonce) : signIdentity(signing.privateKeyPem, ORIGIN, nonce),
    },
    { origin: ORIGIN, nonce },
    context(overrides),
  );
}

async function expectRefused(promise: Promise<unknown>, code: VerificationErrorCode, detail?: RegExp) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VerificationError);
  expect((error as VerificationError).code).toBe(code);
  if (detail) expect((error as VerificationError).message).toMatch(detail);
}

/** alice's signing certificate re-issued with one thing changed (her signing key kept). */
function aliceSigning(changes: Partial<SigningParams>): Promise<DevCertificate> {
  return issueSigningCertificate({
    ca: pki.signingCa,
    facts: person.alice.facts,
    privateKeyPem: person.alice.signing.privateKeyPem,
    ...valid,
    ...changes,
  });
}

describe('verifyIdentity accepts', () => {
  it("a card's answer: the facts, the login's certificate key, the evidence", async () => {
    const { alice } = person;
    const nonce = newNonce();
    const signature = signIdentity(alice.signing.privateKeyPem, ORIGIN, nonce);
    const identity = await verifyIdentity(
      { userAuthCertificate: alice.userAuth.der, signingCertificate: alice.signing.der, signature },
      { origin: ORIGIN, nonce },
      context(),
    );
    const login = await verifyLogin(
      {
        certificate: alice.userAuth.der,
        signature: signChallenge(alice.userAuth.privateKeyPem, ORIGIN, nonce),
      },
      { origin: ORIGIN, nonce },
      {
        trustAnchors: userAuth,
        now,
        clockSkewSeconds: 0,
        revocation: crls,
        certificateKeySecret: SECRET,
        allowUnknownRevocation: true,
      },
    );
    expect(identity).toEqual({
      facts: readBasicFacts(alice.signing.der),
      userAuthCertificateKey: login.certificateKey,
      signingIssuer: { id: signingAnchors.list[0]?.id, generation: signingAnchors.list[0]?.generation },
      signingCertificate: alice.signing.der,
      signedData: identitySignedData(ORIGIN, nonce),
      signature,
      verifiedAt: now,
      revocationStatus: 'good',
    });
    expect(identity.facts).toMatchObject({ name: '個人 太郎', birthDate: '1990-01-01', gender: 'male' });
    expect(Buffer.from(identity.signedData).toString('utf8')).toBe(
      `myna-oidc identity verification v1\n${ORIGIN}\n${nonce}\n`,
    );
  });

  it('a signing CA of any generation (same DN), chosen by signature', async () => {
    const olderSigning = await createCa({
      kind: 'signing',
      serialHex: '0133c34a',
      notBefore: new Date(now.getTime() - 6 * 365 * DAY),
      notAfter: new Date(now.getTime() + 4 * 365 * DAY),
    });
    const bothGenerations = loadTrustAnchors([olderSigning.der, pki.signingCa.der]);
    const older = await issueSigningCertificate({
      ca: olderSigning,
      facts: person.bob.facts,
      privateKeyPem: person.bob.signing.privateKeyPem,
      ...valid,
    });
    const identity = await verify(
      person.bob,
      { signing: older },
      {
        signingTrustAnchors: bothGenerations,
        allowUnknownRevocation: true,
        links: undefined,
      },
    );
    expect(identity.signingIssuer.id).toBe(bothGenerations.list[0]?.id);
    expect(identity.revocationStatus).toBe('unknown');
  });

  it('the configured clock skew on the signing certificate, and no more', async () => {
    const expired = await aliceSigning({
      notBefore: valid.notBefore,
      notAfter: new Date(now.getTime() - 30_000),
    });
    await expect(
      verify(person.alice, { signing: expired }, { clockSkewSeconds: 60, links: undefined }),
    ).resolves.toBeDefined();
    await expectRefused(
      verify(person.alice, { signing: expired }, { clockSkewSeconds: 10, links: undefined }),
      'SIGNING_CERTIFICATE_EXPIRED',
    );
  });
});

describe('verifyIdentity refuses the signing certificate', () => {
  it('when a self-made CA with the identical JPKI DN issued it', async () => {
    const impostor = await createCa({ kind: 'signing', serialHex: '06d18007', ...valid });
    const forged = await aliceSigning({ ca: impostor });
    await expectRefused(verify(person.alice, { signing: forged }), 'SIGNING_CHAIN_INVALID');
  });

  it('when the user-auth CA issued it', async () => {
    const fromUserAuthCa = await aliceSigning({ ca: pki.userAuthCas[1] });
    await expectRefused(verify(person.alice, { signing: fromUserAuthCa }), 'SIGNING_CHAIN_INVALID');
  });

  it('when the signing CA certificate has expired', async () => {
    await expectRefused(
      verify(person.alice, {}, { now: new Date(now.getTime() + 9 * 365 * DAY), links: undefined }),
      'SIGNING_CHAIN_INVALID',
      /the CA is not valid now/,
    );
  });

  it('when it is the user-auth certificate, even if the user-auth CA were trusted for signing', async () => {
    const { alice } = person;
    await expectRefused(verify(alice, { signing: alice.userAuth }), 'SIGNING_CHAIN_INVALID');
    await expectRefused(
      verify(
        alice,
        { signing: alice.userAuth },
        { signingTrustAnchors: combineTrustAnchors(signingAnchors, userAuth) },
      ),
      'SIGNING_POLICY_INVALID',
      /kind: user-auth/,
    );
  });

  it('when it carries the user-auth policy besides the signing one', async () => {
    const both = await aliceSigning({ policies: [POLICY_SIGNING, POLICY_USER_AUTH] });
    await expectRefused(verify(person.alice, { signing: both }), 'SIGNING_POLICY_INVALID');
  });

  it('when it has expired', async () => {
    const expired = await aliceSigning({
      notBefore: new Date(now.getTime() - 2 * 365 * DAY),
      notAfter: new Date(now.getTime() - DAY),
    });
    await expectRefused(verify(person.alice, { signing: expired }), 'SIGNING_CERTIFICATE_EXPIRED');
  });

  it('when it is not valid yet', async () => {
    const early = await aliceSigning({ notBefore: new Date(now.getTime() + DAY), notAfter: valid.notAfter });
    await expectRefused(
      verify(person.alice, { signing: early }),
      'SIGNING_CERTIFICATE_INVALID',
      /not valid yet/,
    );
  });

  it('without keyUsage nonRepudiation', async () => {
    const authOnly = await aliceSigning({ keyUsage: KeyUsageFlags.digitalSignature });
    await expectRefused(
      verify(person.alice, { signing: authOnly }),
      'SIGNING_KEY_USAGE_INVALID',
      /nonRepudiation/,
    );
  });

  it('without keyUsage digitalSignature', async () => {
    const nonRepudiationOnly = await aliceSigning({ keyUsage: KeyUsageFlags.nonRepudiation });
    await expectRefused(
      verify(person.alice, { signing: nonRepudiationOnly }),
      'SIGNING_KEY_USAGE_INVALID',
      /digitalSignature/,
    );
  });

  it('without a certificate policy, or with another one', async () => {
    const none = await aliceSigning({ policies: [] });
    await expectRefused(verify(person.alice, { signing: none }), 'SIGNING_POLICY_INVALID');
    const testCard = await aliceSigning({ policies: ['1.2.392.200149.8.5.1.0.20'] });
    await expectRefused(verify(person.alice, { signing: testCard }), 'SIGNING_POLICY_INVALID');
  });

  it('when the signing policy is not critical', async () => {
    const lax = await aliceSigning({ policiesCritical: false });
    await expectRefused(verify(person.alice, { signing: lax }), 'SIGNING_POLICY_INVALID', /not critical/);
  });

  it('when it is garbage or larger than any card certificate', async () => {
    const garbage = { ...person.alice.signing, der: Uint8Array.from([0x30, 0x03, 0x02, 0x01, 0x01]) };
    await expectRefused(
      verify(person.alice, { signing: garbage, sign: () => new Uint8Array(256) }),
      'SIGNING_CERTIFICATE_INVALID',
    );
    const huge = { ...person.alice.signing, der: new Uint8Array(1 << 20) };
    await expectRefused(
      verify(person.alice, { signing: huge, sign: () => new Uint8Array(256) }),
      'SIGNING_CERTIFICATE_INVALID',
      /too large/,
    );
  });

  it('when its basic facts are malformed', async () => {
    const noBirthDate = await aliceSigning({
      otherNames: basicFactOtherNames(person.alice.facts).filter(
        (entry) => entry.typeId !== BasicFactOid.birthDate,
      ),
    });
    await expectRefused(
      verify(person.alice, { signing: noBirthDate }),
      'FACTS_MALFORMED',
      /birth date: missing/,
    );
  });

  it('when it is revoked because the address changed (affiliationChanged)', async () => {
    await expectRefused(verify(person.moved), 'SIGNING_REVOKED', /affiliationChanged/);
  });

  it('when it is revoked for key compromise', async () => {
    await expectRefused(verify(person.revoked), 'SIGNING_REVOKED', /keyCompromise/);
  });

  it('when its revocation status is unknown, unless the operator allows it', async () => {
    const userAuthOnly = new MemoryCrlSource(combineTrustAnchors(userAuth, signingAnchors));
    for (const crl of pki.crls.filter((c) => c.name.startsWith('user-auth')))
      await userAuthOnly.load(crl.der);
    await expectRefused(verify(person.alice, {}, { revocation: userAuthOnly }), 'SIGNING_REVOCATION_UNKNOWN');
    const identity = await verify(
      person.alice,
      {},
      { revocation: userAuthOnly, allowUnknownRevocation: true },
    );
    expect(identity.revocationStatus).toBe('unknown');
  });

  it('when the signing CRL is past its nextUpdate', async () => {
    const stale = new MemoryCrlSource(signingAnchors);
    await stale.load(
      await issueCrl({
        ca: pki.signingCa,
        thisUpdate: new Date(now.getTime() - 3 * DAY),
        nextUpdate: new Date(now.getTime() - DAY),
        crlNumber: 9,
      }),
    );
    await expectRefused(
      verify(person.alice, {}, { revocation: stale }),
      'SIGNING_REVOCATION_UNKNOWN',
      /stale/,
    );
  });
});

describe('verifyIdentity refuses the signature', () => {
  it('over another origin (a relaying site)', async () => {
    await expectRefused(
      verify(person.alice, {
        sign: (nonce) => signIdentity(person.alice.signing.privateKeyPem, 'https://evil.example', nonce),
      }),
      'IDENTITY_SIGNATURE_INVALID',
    );
  });

  it('over another nonce', async () => {
    await expectRefused(
      verify(person.alice, {
        sign: () => signIdentity(person.alice.signing.privateKeyPem, ORIGIN, newNonce()),
      }),
      'IDENTITY_SIGNATURE_INVALID',
    );
  });

  it("over the login's signed data of the same challenge", async () => {
    await expectRefused(
      verify(person.alice, {
        sign: (nonce) => signChallenge(person.alice.signing.privateKeyPem, ORIGIN, nonce),
      }),
      'IDENTITY_SIGNATURE_INVALID',
    );
    expect(challengeSignedData(ORIGIN, newNonce()).length).toBe(64);
  });

  it('made with the user-authentication key', async () => {
    await expectRefused(
      verify(person.alice, {
        sign: (nonce) => signIdentity(person.alice.userAuth.privateKeyPem, ORIGIN, nonce),
      }),
      'IDENTITY_SIGNATURE_INVALID',
    );
  });

  it('when truncated or extended', async () => {
    const sign = (nonce: string) => signIdentity(person.alice.signing.privateKeyPem, ORIGIN, nonce);
    await expectRefused(
      verify(person.alice, { sign: (nonce) => sign(nonce).subarray(1) }),
      'IDENTITY_SIGNATURE_INVALID',
      /size/,
    );
    await expectRefused(
      verify(person.alice, { sign: (nonce) => Buffer.concat([sign(nonce), Buffer.of(0)]) }),
      'IDENTITY_SIGNATURE_INVALID',
      /size/,
    );
  });

  it('when the stored nonce is not a valid challenge input', async () => {
    await expectRefused(
      verifyIdentity(
        {
          userAuthCertificate: person.alice.userAuth.der,
          signingCertificate: person.alice.signing.der,
          signature: new Uint8Array(256),
        },
        { origin: ORIGIN, nonce: 'short' },
        context(),
      ),
      'CHALLENGE_INPUT_INVALID',
    );
  });

  it('before any revocation or link look-up', async () => {
    const asked: string[] = [];
    const revocation: RevocationSource = {
      status: async (_: RevocationQuery) => {
        asked.push('revocation');
        return { status: 'good' };
      },
    };
    const spy: CertificateLinkSource = {
      userAuthSerialFor: async () => {
        asked.push('links');
        return undefined;
      },
    };
    await expectRefused(
      verify(person.alice, { sign: () => new Uint8Array(256) }, { revocation, links: spy }),
      'IDENTITY_SIGNATURE_INVALID',
    );
    expect(asked).toEqual([]);
    await verify(person.alice, {}, { revocation, links: spy });
    expect(asked.sort()).toEqual(['links', 'revocation']);
  });
});

describe('verifyIdentity refuses the user-auth certificate', () => {
  it('when the signing certificate is given in its place', async () => {
    const { alice } = person;
    await expectRefused(verify(alice, { userAuth: alice.signing }), 'ISSUER_UNTRUSTED');
    await expectRefused(
      verify(
        alice,
        { userAuth: alice.signing },
        { userAuthTrustAnchors: combineTrustAnchors(userAuth, signingAnchors) },
      ),
      'NOT_USER_AUTH_CERTIFICATE',
    );
  });

  it('when it has expired (the login code: it is the login certificate)', async () => {
    const expired = await issueUserAuthCertificate({
      ca: pki.userAuthCas[1],
      privateKeyPem: person.alice.userAuth.privateKeyPem,
      notBefore: new Date(now.getTime() - 5 * 365 * DAY),
      notAfter: new Date(now.getTime() - DAY),
    });
    await expectRefused(
      verify(person.alice, { userAuth: expired }, { links: undefined }),
      'CERTIFICATE_EXPIRED',
    );
  });
});

describe('verifyIdentity with a certificate link source', () => {
  it('refuses a signing certificate of another card (CARD_MISMATCH)', async () => {
    await expectRefused(verify(person.otherCard), 'CARD_MISMATCH', /another user-auth certificate/);
  });

  it('without one, accepts it and gives the certificate key of the card that signed in (the caller compares)', async () => {
    const identity = await verify(person.otherCard, {}, { links: undefined });
    const own = await verify(person.alice, {}, { links: undefined });
    expect(identity.userAuthCertificateKey).toBe(own.userAuthCertificateKey);
    expect(identity.facts).toEqual(readBasicFacts(person.bob.signing.der));
  });

  it('accepts a signing certificate the source does not know, unless it is authoritative', async () => {
    const unknownToLinks = await aliceSigning({});
    await expect(verify(person.alice, { signing: unknownToLinks })).resolves.toBeDefined();
    const file = join(dir, 'certificate-links.json');
    await expectRefused(
      verify(
        person.alice,
        { signing: unknownToLinks },
        { links: new FileCertificateLinkSource(file, { authoritative: true }) },
      ),
      'CARD_MISMATCH',
      /does not know/,
    );
    await expect(
      verify(person.alice, {}, { links: new FileCertificateLinkSource(file, { authoritative: true }) }),
    ).resolves.toBeDefined();
  });

  it('reads serials written with leading zeros or in upper case, and refuses a broken file', async () => {
    const file = join(dir, 'hand-written-links.json');
    const upper = (hex: string) => `00${hex.toUpperCase()}`;
    await writeFile(
      file,
      JSON.stringify({ [upper(person.alice.signing.serialHex)]: upper(person.bob.userAuth.serialHex) }),
    );
    await expectRefused(
      verify(person.alice, {}, { links: new FileCertificateLinkSource(file) }),
      'CARD_MISMATCH',
    );
    await writeFile(file, '{"warning": "x", "abc": "0102"}');
    expect(() => new FileCertificateLinkSource(file)).toThrow(CertificateLinkFileError);
    await writeFile(file, '[1]');
    expect(() => new FileCertificateLinkSource(file)).toThrow(CertificateLinkFileError);
    expect(() => new FileCertificateLinkSource(join(dir, 'missing.json'))).toThrow(CertificateLinkFileError);
  });
});

describe('verifyIdentity with CRLs of both CAs imported into one table (the deployed revocation source)', () => {
  async function storedSource(anchors: TrustAnchors) {
    const table = await newTable();
    const store = new CrlStore(table);
    const imported: unknown[] = [];
    for (const crl of pki.crls.filter((c) => c.name.endsWith('.revoked.crl'))) {
      const path = join(dir, crl.name);
      await writeFile(path, crl.der);
      imported.push(
        await store.importFile(path, { anchors, secret: SECRET, now }).catch((error: unknown) => error),
      );
    }
    return { source: new StoredCrlSource({ store, secret: SECRET, metadataCacheSeconds: 0 }), imported };
  }

  it("answers the moved person's signing certificate as revoked, her login and alice's identity as good", async () => {
    const { source } = await storedSource(combineTrustAnchors(userAuth, signingAnchors));
    await expectRefused(
      verify(person.moved, {}, { revocation: source }),
      'SIGNING_REVOKED',
      /affiliationChanged/,
    );
    expect((await verify(person.alice, {}, { revocation: source })).revocationStatus).toBe('good');
    const nonce = newNonce();
    const login = await verifyLogin(
      {
        certificate: person.moved.userAuth.der,
        signature: signChallenge(person.moved.userAuth.privateKeyPem, ORIGIN, nonce),
      },
      { origin: ORIGIN, nonce },
      { trustAnchors: userAuth, now, clockSkewSeconds: 0, revocation: source, certificateKeySecret: SECRET },
    );
    expect(login.revocation).toBe('good');
  });

  it('cannot answer for signing certificates when the CRLs were imported trusting only the user-auth CAs', async () => {
    const { source, imported } = await storedSource(userAuth);
    expect(imported).toContainEqual(expect.objectContaining({ code: 'CRL_UNTRUSTED' }));
    await expectRefused(verify(person.alice, {}, { revocation: source }), 'SIGNING_REVOCATION_UNKNOWN');
  });
});

/** The release of a transaction and the consent list it is chosen from. */
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { DevPki } from '../../dev-pki/hierarchy.js';
import { consentItems } from '../../functions/identity/consent-items.js';
import { identityDisclosures } from '../../functions/identity/disclosures.js';
import { identityRequestOf } from '../../functions/identity/identity-request.js';
import { buildRelease, type IdentityVerification } from '../../functions/identity/release.js';
import type { BasicFacts } from '../../functions/jpki/basic-facts.js';
import { parseCertificate, serialHex } from '../../functions/jpki/certificate.js';
import { devPki } from '../support/dev-pki.js';

const FACTS: BasicFacts = {
  name: '山田　太郎',
  nameSubstitutePositions: [1],
  gender: 'male',
  genderCode: '1',
  birthDate: '2006-12-02',
  address: '東京都千代田区千代田１番１号',
  addressSubstitutePositions: [4],
};
/** JST 2026-12-01 12:00: the day before the 20th birthday. */
const VERIFIED_AT = new Date('2026-12-01T03:00:00Z');
const settings = { enabled: true, ageThresholds: [18, 20, 65] };
const client = { client_id: 'rp', scope: 'openid name address birthdate gender' };
const RETENTION = { evidenceRetentionDays: 30 };

let pki: DevPki;
let verification: IdentityVerification;

beforeAll(async () => {
  pki = await devPki();
  verification = {
    verifiedAt: VERIFIED_AT,
    revocationStatus: 'good',
    signingCertificate: (pki.identities[0] as { signing: { der: Uint8Array } }).signing.der,
    signedData: new TextEncoder().encode('myna-oidc identity verification v1\nhttps://op.example\nnonce\n'),
    signature: new Uint8Array([1, 2, 3]),
  };
});

const requestOf = (scope: string, claims?: object) =>
  identityRequestOf({ scope, claims: claims && JSON.stringify(claims) }, client, settings) ??
  (() => {
    throw new Error('no identity request');
  })();

describe('buildRelease', () => {
  it('gives the scope claims in the ID token and userinfo, nothing else of the facts', () => {
    const release = buildRelease(requestOf('openid name birthdate'), FACTS, [], verification, client);
    const expected = {
      name: '山田　太郎',
      birthdate: '2006-12-02',
      myna_substitute_characters: { name: [1] },
    };
    expect(release.idToken).toEqual(expected);
    expect(release.userinfo).toEqual(expected);
    expect(release.claimNames).toEqual(['name', 'birthdate']);
    expect(JSON.stringify(release)).not.toContain('千代田');
    expect(release.evidence).toBeUndefined();
  });

  it('answers age_over_20 with a boolean and no birth date', () => {
    const release = buildRelease(
      requestOf('openid', {
        id_token: { age_over_20: { essential: true }, age_over_18: { essential: true } },
      }),
      FACTS,
      [],
      verification,
      client,
    );
    expect(release.idToken).toEqual({ age_over_20: false, age_over_18: true });
    expect(release.userinfo).toEqual({});
    expect(JSON.stringify(release)).not.toMatch(/2006|12-02/);
    const nextDay = buildRelease(
      requestOf('openid', { id_token: { age_equal_or_over: { '20': { essential: true } } } }),
      FACTS,
      [],
      { ...verification, verifiedAt: new Date('2026-12-01T15:00:00Z') },
      client,
    );
    expect(nextDay.idToken).toEqual({ age_equal_or_over: { '20': true } });
  });

  it('leaves out the optional claims the user did not select, never the required ones', () => {
    const request = requestOf('openid name', {
      userinfo: { gender: null, address: { region: null, locality: null } },
    });
    const release = buildRelease(request, FACTS, ['address.locality'], verification, client);
    expect(release.userinfo).toEqual({
      name: '山田　太郎',
      address: { locality: '千代田区' },
      myna_substitute_characters: { name: [1], address: { locality: [1] } },
    });
    expect(release.idToken).toEqual({ name: '山田　太郎', myna_substitute_characters: { name: [1] } });
    expect(release.claimNames).toEqual(['name', 'address.locality']);
  });

  it('puts verified claims with an IDA verification (jp_aml, electronic_signature by J-LIS), no serial', () => {
    const request = requestOf('openid', {
      id_token: {
        verified_claims: {
          verification: { trust_framework: null },
          claims: { name: { essential: true }, address: { essential: true }, gender: null },
        },
      },
    });
    const release = buildRelease(request, FACTS, ['gender'], verification, client);
    expect(release.idToken).toEqual({
      verified_claims: {
        verification: {
          trust_framework: 'jp_aml',
          time: '2026-12-01T03:00:00Z',
          evidence: [
            {
              type: 'electronic_signature',
              signature_type: 'jpki_signing_certificate',
              issuer: 'J-LIS',
              created_at: '2026-12-01T03:00:00Z',
            },
          ],
        },
        claims: {
          name: '山田　太郎',
          address: { formatted: '東京都千代田区千代田１番１号', region: '東京都', locality: '千代田区' },
          gender: 'male',
          myna_substitute_characters: { name: [1], address: { formatted: [4], locality: [1] } },
        },
      },
    });
  });

  it('names the signing certificate serial in the evidence only for a raw-serial client asking for it', () => {
    const claims = {
      id_token: { verified_claims: { verification: {}, claims: { birthdate: { essential: true } } } },
    };
    const withSerialScope = requestOf('openid myna_certificate_serial', claims);
    const serial = serialHex(parseCertificate(verification.signingCertificate).serialNumber);
    const rawSerialClient = { ...client, myna_raw_serial_claim: true };
    const flagged = buildRelease(withSerialScope, FACTS, [], verification, rawSerialClient);
    const evidence = (
      flagged.idToken.verified_claims as { verification: { evidence: { serial_number?: string }[] } }
    ).verification.evidence[0];
    expect(evidence?.serial_number).toBe(serial);
    expect(identityDisclosures(rawSerialClient, withSerialScope, RETENTION).signingSerial).toBe(true);
    // Flagged, but the request has no myna_certificate_serial scope: no serial (and none disclosed).
    const withoutScope = requestOf('openid', claims);
    expect(
      JSON.stringify(buildRelease(withoutScope, FACTS, [], verification, rawSerialClient)),
    ).not.toContain(serial);
    expect(identityDisclosures(rawSerialClient, withoutScope, RETENTION).signingSerial).toBe(false);
    expect(JSON.stringify(buildRelease(withSerialScope, FACTS, [], verification, client))).not.toContain(
      serial,
    );
  });

  it('discloses the whole signing certificate exactly when the release carries it, whatever is ticked', () => {
    const ageOnly = requestOf('openid', { id_token: { age_over_20: { essential: true } } });
    const address = Buffer.from((pki.identities[0] as { facts: { address: string } }).facts.address, 'utf8');
    for (const metadata of [
      {},
      { myna_identity_evidence: true },
      { myna_retain_identity_evidence: true },
      { myna_identity_evidence: true, myna_retain_identity_evidence: true },
    ]) {
      const flagged = { ...client, ...metadata };
      const release = buildRelease(ageOnly, FACTS, [], verification, flagged);
      const disclosures = identityDisclosures(flagged, ageOnly, RETENTION);
      expect(release.claimNames).toEqual(['age_over_20']);
      // The certificate in the evidence holds the address (and every other fact) though only an age was asked.
      const certificate = release.evidence && Buffer.from(release.evidence.signing_certificate, 'base64url');
      expect(certificate?.includes(address) ?? false).toBe(release.evidence !== undefined);
      expect(release.evidence !== undefined).toBe(
        disclosures.signingCertificate || disclosures.retentionDays !== undefined,
      );
      expect(disclosures).toEqual({
        signingCertificate: 'myna_identity_evidence' in metadata,
        ...('myna_retain_identity_evidence' in metadata
          ? { retentionDays: RETENTION.evidenceRetentionDays }
          : {}),
        signingSerial: false,
      });
    }
  });

  it('carries the evidence material only for clients flagged for evidence or retention', () => {
    const request = requestOf('openid name');
    expect(buildRelease(request, FACTS, [], verification, client).evidence).toBeUndefined();
    for (const flag of ['myna_identity_evidence', 'myna_retain_identity_evidence']) {
      const release = buildRelease(request, FACTS, [], verification, { ...client, [flag]: true });
      expect(release.evidence).toEqual({
        signing_certificate: Buffer.from(verification.signingCertificate).toString('base64url'),
        signed_data: Buffer.from(verification.signedData).toString('base64url'),
        signature: 'AQID',
        verified_at: '2026-12-01T03:00:00Z',
        revocation_status: 'good',
      });
    }
  });
});

describe('consentItems', () => {
  it('lists each claim once with its label, display value, required and substituted', () => {
    const request = requestOf('openid name', {
      id_token: {
        age_over_20: null,
        gender: { purpose: 'to address you' },
        verified_claims: { verification: {}, claims: { name: null, address: { region: null } } },
      },
    });
    expect(consentItems(request, FACTS, 'ja', VERIFIED_AT)).toEqual([
      { claim: 'name', label: '氏名', value: '山田　太郎', required: true, substituted: true },
      { claim: 'age_over_20', label: '20歳以上', value: 'いいえ', required: false, substituted: false },
      {
        claim: 'gender',
        label: '性別',
        value: '男性',
        required: false,
        substituted: false,
        purpose: 'to address you',
      },
      {
        claim: 'address.region',
        label: '住所の都道府県',
        value: '東京都',
        required: false,
        substituted: false,
      },
    ]);
    expect(
      consentItems(request, FACTS, 'en', VERIFIED_AT).map((item) => `${item.label}: ${item.value}`),
    ).toEqual([
      'Name: 山田　太郎',
      'Aged 20 or over: No',
      'Gender: Male',
      'Prefecture of the address: 東京都',
    ]);
  });

  it('shows what the release gives, and leaves out what the facts cannot give', () => {
    const request = requestOf('openid address', { userinfo: { address: { locality: null } } });
    const abroad = { ...FACTS, address: 'Somewhere 1-1', addressSubstitutePositions: [] };
    expect(consentItems(request, abroad, 'en', VERIFIED_AT).map((item) => item.claim)).toEqual(['address']);
    expect(buildRelease(request, abroad, ['address.locality'], verification, client).userinfo).toEqual({
      address: { formatted: 'Somewhere 1-1' },
    });
  });
});

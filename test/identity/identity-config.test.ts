/**
 * Identity configuration: settings and their defaults (no identity without an authoritative link
 * source unless opted in; unknown signing revocation refused by default), the Lambda's variables,
 * client metadata, an OP without signing CAs (no identity scopes advertised).
 */
import { describe, expect, it } from '@jest/globals';
import { runCli } from '../../cli/main.js';
import { IDENTITY_DEFAULTS } from '../../functions/defaults.js';
import { loadTrustAnchors } from '../../functions/jpki/trust-anchors.js';
import { ClientMetadataError, validateClientMetadata } from '../../functions/op/client-metadata.js';
import { resolveOpConfig } from '../../functions/op/config.js';
import { readLambdaEnv } from '../../functions/op/lambda-env.js';
import { startOpServer } from '../../functions/op/local-server.js';
import { ClientRegistry } from '../../functions/storage/client-registry.js';
import { useLocalTables } from '../storage/local-table.js';
import { runCaptured } from '../support/cli.js';
import { devPki } from '../support/dev-pki.js';
import { authorizationRequest, loginPageOf, relyingParty, TestBrowser } from '../support/oidc-flow.js';
import { TEST_CLIENTS, testOpConfig } from '../support/op-stack.js';

const newTable = useLocalTables();
const ISSUER = 'https://login.example.jp';

describe('identity settings', () => {
  it('are off without signing trust anchors, with the documented defaults', async () => {
    const config = resolveOpConfig(await testOpConfig(ISSUER, { table: await newTable() }));
    expect(config.identity).toEqual({ enabled: false, ...IDENTITY_DEFAULTS, ageThresholds: [18, 20, 65] });
    expect(IDENTITY_DEFAULTS.evidenceRetentionDays).toBe(2557);
  });

  it('are on with signing trust anchors; thresholds sorted, retention and links as given', async () => {
    const pki = await devPki();
    const base = await testOpConfig(ISSUER, { table: await newTable() });
    const links = { authoritative: true, userAuthSerialFor: async () => undefined };
    const config = resolveOpConfig({
      ...base,
      signingTrustAnchors: loadTrustAnchors([pki.signingCa.der]),
      identity: { ageThresholds: [65, 16], evidenceRetentionDays: 30, links },
    });
    expect(config.identity).toEqual({
      enabled: true,
      ageThresholds: [16, 65],
      evidenceRetentionDays: 30,
      allowUnknownRevocation: false,
      acceptUnlinkedSigningCertificates: false,
      links,
    });
  });

  it('refuse signing trust anchors without an authoritative link source unless the operator opts in', async () => {
    const pki = await devPki();
    const base = {
      ...(await testOpConfig(ISSUER, { table: await newTable() })),
      signingTrustAnchors: loadTrustAnchors([pki.signingCa.der]),
    };
    const partial = { userAuthSerialFor: async () => undefined };
    expect(() => resolveOpConfig(base)).toThrow(
      /needs a certificate link source \(identity\.links.*identity\.acceptUnlinkedSigningCertificates: true/,
    );
    expect(() => resolveOpConfig({ ...base, identity: { links: partial } })).toThrow(
      /needs an authoritative certificate link source/,
    );
    for (const identity of [
      { acceptUnlinkedSigningCertificates: true },
      { links: partial, acceptUnlinkedSigningCertificates: true },
    ]) {
      expect(resolveOpConfig({ ...base, identity }).identity).toMatchObject({
        enabled: true,
        acceptUnlinkedSigningCertificates: true,
      });
    }
    // The opt-in and the links mean nothing without signing trust anchors.
    const { signingTrustAnchors: _none, ...off } = base;
    expect(resolveOpConfig({ ...off, identity: { links: partial } }).identity.enabled).toBe(false);
  });

  it('refuse a signing certificate of unknown revocation status by default, apart from the login setting', async () => {
    const base = await testOpConfig(ISSUER, { table: await newTable() });
    expect(IDENTITY_DEFAULTS.allowUnknownRevocation).toBe(false);
    const loginOnly = resolveOpConfig({ ...base, allowUnknownRevocation: true });
    expect(loginOnly.allowUnknownRevocation).toBe(true);
    expect(loginOnly.identity.allowUnknownRevocation).toBe(false);
    const both = resolveOpConfig({ ...base, identity: { allowUnknownRevocation: true } });
    expect([both.allowUnknownRevocation, both.identity.allowUnknownRevocation]).toEqual([false, true]);
  });

  it('refuses unusable settings, naming them', async () => {
    const base = await testOpConfig(ISSUER, { table: await newTable() });
    for (const identity of [
      { ageThresholds: [] },
      { ageThresholds: [18, 18] },
      { ageThresholds: [0] },
      { ageThresholds: [18.5] },
      { ageThresholds: [151] },
    ]) {
      expect(() => resolveOpConfig({ ...base, identity })).toThrow(/identity\.ageThresholds/);
    }
    expect(() => resolveOpConfig({ ...base, identity: { evidenceRetentionDays: 0 } })).toThrow(
      /identity\.evidenceRetentionDays/,
    );
  });
});

describe('the Lambda environment', () => {
  const env = {
    OP_ISSUER: ISSUER,
    OP_TABLE_NAME: 't',
    OP_SECRET_ID: 's',
    OP_TRUST_ANCHORS_FILE: 'trust-anchors.pem',
  };

  it('reads the signing trust anchors file and the identity settings (all optional)', () => {
    const unset = readLambdaEnv(env);
    expect(unset).toMatchObject({
      signingTrustAnchorsFile: undefined,
      identity: { allowUnknownRevocation: false, acceptUnlinkedSigningCertificates: false },
    });
    expect(unset.certificateLinks).toBeUndefined();
    expect(
      readLambdaEnv({
        ...env,
        OP_SIGNING_TRUST_ANCHORS_FILE: 'signing-trust-anchors.pem',
        OP_IDENTITY_AGE_THRESHOLDS: '18, 20,21',
        OP_IDENTITY_EVIDENCE_RETENTION_DAYS: '365',
        OP_CERTIFICATE_LINKS_FILE: 'certificate-links.json',
        OP_IDENTITY_ALLOW_UNKNOWN_REVOCATION: 'true',
      }),
    ).toMatchObject({
      signingTrustAnchorsFile: 'signing-trust-anchors.pem',
      certificateLinks: { file: 'certificate-links.json', authoritative: true },
      identity: {
        ageThresholds: [18, 20, 21],
        evidenceRetentionDays: 365,
        allowUnknownRevocation: true,
        acceptUnlinkedSigningCertificates: false,
      },
    });
    expect(
      readLambdaEnv({
        ...env,
        OP_CERTIFICATE_LINKS_FILE: 'links.json',
        OP_CERTIFICATE_LINKS_AUTHORITATIVE: 'false',
        OP_IDENTITY_ACCEPT_UNLINKED_SIGNING_CERTIFICATES: 'true',
      }),
    ).toMatchObject({
      certificateLinks: { file: 'links.json', authoritative: false },
      identity: { acceptUnlinkedSigningCertificates: true },
    });
  });

  it('refuses malformed identity variables', () => {
    expect(() => readLambdaEnv({ ...env, OP_IDENTITY_AGE_THRESHOLDS: '18;20' })).toThrow(
      /OP_IDENTITY_AGE_THRESHOLDS/,
    );
    expect(() => readLambdaEnv({ ...env, OP_IDENTITY_EVIDENCE_RETENTION_DAYS: '7y' })).toThrow(
      /OP_IDENTITY_EVIDENCE_RETENTION_DAYS/,
    );
    for (const name of [
      'OP_CERTIFICATE_LINKS_AUTHORITATIVE',
      'OP_IDENTITY_ACCEPT_UNLINKED_SIGNING_CERTIFICATES',
      'OP_IDENTITY_ALLOW_UNKNOWN_REVOCATION',
    ]) {
      expect(() => readLambdaEnv({ ...env, OP_CERTIFICATE_LINKS_FILE: 'links.json', [name]: 'yes' })).toThrow(
        new RegExp(`${name} must be "true" or "false"`),
      );
    }
  });
});

describe('identity client metadata', () => {
  const base = { client_id: 'rp', client_secret: 'x'.repeat(32), redirect_uris: ['https://rp.example/cb'] };

  it('accepts the identity scopes, flags and purposes', async () => {
    await expect(
      validateClientMetadata({
        ...base,
        scope: 'openid name birthdate',
        myna_identity_evidence: true,
        myna_retain_identity_evidence: false,
        myna_remember_identity_consent: true,
        myna_purpose: 'Opening an account',
        'myna_purpose#ja': '口座開設のため',
      }),
    ).resolves.toBeUndefined();
  });

  it('refuses non-boolean flags and empty or overlong purposes', async () => {
    for (const metadata of [
      { myna_identity_evidence: 'yes' },
      { myna_retain_identity_evidence: 1 },
      { myna_purpose: '' },
      { 'myna_purpose#ja': 'あ'.repeat(301) },
    ]) {
      await expect(validateClientMetadata({ ...base, ...metadata })).rejects.toThrow(ClientMetadataError);
    }
  });
});

describe('clients add|update with the identity options', () => {
  it('registers scopes, purposes and the evidence flags, and shows them', async () => {
    const table = await newTable();
    const cli = (...argv: string[]) =>
      runCaptured(runCli, [...argv, '--endpoint', table.endpoint, '--table', table.tableName]);
    const added = await cli(
      'clients',
      'add',
      'bank',
      '--redirect-uri',
      'https://bank.example/cb',
      '--scope',
      'openid name address',
      '--purpose',
      'Opening your account',
      '--purpose-ja',
      '口座開設のため',
      '--identity-evidence',
    );
    expect(added.code).toBe(0);
    expect(await new ClientRegistry(table).get('bank')).toMatchObject({
      scope: 'openid name address',
      myna_purpose: 'Opening your account',
      'myna_purpose#ja': '口座開設のため',
      myna_identity_evidence: true,
    });
    expect((await cli('clients', 'update', 'bank', '--retain-identity-evidence', '--purpose', '')).code).toBe(
      0,
    );
    const updated = await new ClientRegistry(table).get('bank');
    expect(updated).toMatchObject({ myna_retain_identity_evidence: true, myna_identity_evidence: true });
    expect(updated?.myna_purpose).toBeUndefined();
    expect((await cli('clients', 'list')).out).toMatch(/identity evidence, retains identity evidence/);
    const refused = await cli('clients', 'update', 'bank', '--purpose-ja', 'あ'.repeat(301));
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(/myna_purpose#ja must have at most 300 characters/);
  });
});

describe('an OP without signing trust anchors', () => {
  it('advertises no identity scopes or claims, ignores the scopes and refuses identity claims requests', async () => {
    const table = await newTable();
    // A registration naming an identity scope still loads (the scope is dropped from it).
    const registered = { ...TEST_CLIENTS.thirdParty, client_id: 'rp-birthdate', scope: 'openid birthdate' };
    const op = await startOpServer({
      config: (url) => testOpConfig(url, { table, clients: [...Object.values(TEST_CLIENTS), registered] }),
    });
    try {
      const discovery = (await (await fetch(`${op.url}/.well-known/openid-configuration`)).json()) as Record<
        string,
        unknown
      >;
      expect(discovery.verified_claims_supported).toBeUndefined();
      expect(discovery.claims_supported).not.toContain('birthdate');
      expect(discovery.scopes_supported).toEqual(['openid', 'offline_access', 'myna_certificate_serial']);
      for (const client of [TEST_CLIENTS.thirdParty, registered]) {
        const rp = await relyingParty({
          issuer: op.url,
          clientId: client.client_id,
          clientSecret: client.client_secret,
        });
        const { url } = await authorizationRequest(rp, client.redirect_uris[0] as string, {
          scope: 'openid birthdate',
        });
        // An unsupported scope is ignored (OIDC Core 5.4): a plain sign-in, no identity step.
        const login = await loginPageOf(await new TestBrowser().navigate(url, () => false));
        expect(login.html).toContain('data-purpose="sign-in"');
      }
      const metadata = TEST_CLIENTS.thirdParty;
      const rp = await relyingParty({
        issuer: op.url,
        clientId: metadata.client_id,
        clientSecret: metadata.client_secret,
      });
      const redirectUri = metadata.redirect_uris[0] as string;
      const requests: Record<string, string>[] = [
        { scope: 'openid', claims: JSON.stringify({ id_token: { age_over_20: null } }) },
        { scope: 'openid', claims: JSON.stringify({ userinfo: { name: { essential: true } } }) },
      ];
      for (const params of requests) {
        const { url } = await authorizationRequest(rp, redirectUri, params);
        const step = await new TestBrowser().navigate(url, (next) => next.href.startsWith(redirectUri));
        expect(step.response).toBeUndefined();
        expect(step.url.searchParams.get('error')).toBe('invalid_request');
        expect(step.url.searchParams.get('error_description')).toMatch(
          /identity verification is not available/,
        );
      }
    } finally {
      await op.close();
    }
  });
});

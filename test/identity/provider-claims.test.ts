/** The transaction claims at the token endpoint: no storage read for a login that asked for nothing sealed. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { Adapter, AdapterPayload, Client, KoaContextWithOIDC } from 'oidc-provider';
import { identityClaimsConfiguration, TransactionClaims } from '../../functions/identity/provider-claims.js';
import { SealedClaimsCarrier } from '../../functions/op/sealed-claims.js';
import { generateSecrets } from '../../functions/secrets/local-secrets.js';
import { IdentityEvidenceStore } from '../../functions/storage/identity-evidence.js';

/** An adapter in memory that counts its reads. */
class CountingAdapter implements Partial<Adapter> {
  readonly items = new Map<string, AdapterPayload>();
  reads = 0;
  async upsert(id: string, payload: AdapterPayload): Promise<void> {
    this.items.set(id, payload);
  }
  async find(id: string): Promise<AdapterPayload | undefined> {
    this.reads += 1;
    return this.items.get(id);
  }
  async destroy(id: string): Promise<void> {
    this.items.delete(id);
  }
}

const settings = { enabled: true, ageThresholds: [18, 20, 65], evidenceRetentionDays: 30 };

async function claimsWith(store: CountingAdapter) {
  const secret = new Uint8Array(randomBytes(32));
  const carrier = new SealedClaimsCarrier(secret, store as unknown as Adapter);
  return {
    carrier,
    claims: new TransactionClaims({
      issuer: 'https://op.example',
      settings,
      carrier,
      evidenceStore: new IdentityEvidenceStore(secret, store as unknown as Adapter),
      secrets: await generateSecrets(),
      subjectOf: () => 'sub',
    }),
  };
}

const rp = (metadata: object = {}) =>
  ({ clientId: 'rp', metadata: () => ({ client_id: 'rp', ...metadata }) }) as unknown as Client;
const ctx = { oidc: { entities: {} } } as unknown as KoaContextWithOIDC;
const code = (scope: string, claims?: object) => ({
  kind: 'AuthorizationCode',
  jti: 'code-1',
  scope,
  claims,
});

describe('TransactionClaims', () => {
  it('reads nothing for a login that asked neither for identity claims nor for the raw serial', async () => {
    const store = new CountingAdapter();
    const { claims } = await claimsWith(store);
    expect(await claims.of(ctx, 'id_token', 'openid', code('openid'), rp(), 'account')).toEqual({});
    expect(
      await claims.of(ctx, 'id_token', 'openid myna_certificate_serial', code('openid'), rp(), 'account'),
    ).toEqual({});
    expect(
      await claims.of(
        ctx,
        'userinfo',
        'openid',
        { kind: 'AccessToken', jti: 'at-1', scope: 'openid' },
        rp(),
        'a',
      ),
    ).toEqual({});
    expect(store.reads).toBe(0);
  });

  it('takes the code’s release once for an identity request, the serial only for a flagged client', async () => {
    const store = new CountingAdapter();
    const { claims, carrier } = await claimsWith(store);
    const release = { idToken: { name: '個人 太郎' }, userinfo: {}, claimNames: ['name'] };
    await carrier.park(
      { jti: 'code-1', clientId: 'rp', accountId: 'account' },
      { sealedSerial: carrier.sealSerial('0a1b', 'rp'), sealedIdentity: carrier.sealRelease(release, 'rp') },
      60,
    );
    const flagged = rp({ myna_raw_serial_claim: true });
    const scope = 'openid name myna_certificate_serial';
    expect(await claims.of(ctx, 'id_token', scope, code(scope), flagged, 'account')).toEqual({
      name: '個人 太郎',
      myna_certificate_serial: '0a1b',
    });
    expect(await claims.of(ctx, 'id_token', scope, code(scope), flagged, 'account')).toEqual({});
    expect(store.items.size).toBe(0);
  });
});

describe('identityClaimsConfiguration', () => {
  it('configures nothing when identity verification is off', () => {
    expect(identityClaimsConfiguration({ ...settings, enabled: false })).toEqual({
      claims: {},
      openidClaims: [],
      discovery: {},
    });
  });

  it('lists the scopes’ claims and one stand-alone claim per threshold', () => {
    const { claims, discovery } = identityClaimsConfiguration({ ...settings, ageThresholds: [18] });
    expect(claims).toEqual({
      name: ['name'],
      address: ['address'],
      birthdate: ['birthdate'],
      gender: ['gender'],
      verified_claims: null,
      age_equal_or_over: null,
      age_over_18: null,
    });
    expect(discovery.claims_in_verified_claims_supported).toEqual([
      'name',
      'address',
      'birthdate',
      'gender',
      'age_over_18',
      'age_equal_or_over',
      'myna_substitute_characters',
    ]);
  });
});

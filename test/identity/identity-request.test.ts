/** Identity requests from scopes and the claims parameter (incl. verified_claims), and their checks. */
import { describe, expect, it } from '@jest/globals';
import { errors } from 'oidc-provider';
import {
  assertClaimsParameter,
  type IdentityRequest,
  identityRequestOf,
} from '../../functions/identity/identity-request.js';

const settings = { enabled: true, ageThresholds: [18, 20, 65] };
const client = { client_id: 'rp', scope: 'openid name address birthdate gender' };

const request = (params: { scope?: string; claims?: unknown }, metadata: object = client) =>
  identityRequestOf(
    {
      scope: params.scope ?? 'openid',
      claims: params.claims === undefined ? undefined : JSON.stringify(params.claims),
    },
    metadata,
    settings,
  );

const summary = (identity: IdentityRequest | undefined) =>
  identity?.items.map(
    (item) =>
      `${item.inVerifiedClaims ? 'verified:' : ''}${item.claim}${item.required ? '!' : '?'}@${item.targets.join('+')}`,
  );

describe('identityRequestOf', () => {
  it('is undefined for a login that asks for nothing identity-related', () => {
    expect(request({ scope: 'openid offline_access' })).toBeUndefined();
    expect(request({ claims: { id_token: { auth_time: { essential: true } } } })).toBeUndefined();
  });

  it('reads the Digital Agency scopes as required claims in the ID token and userinfo', () => {
    expect(summary(request({ scope: 'openid name birthdate' }))).toEqual([
      'name!@id_token+userinfo',
      'birthdate!@id_token+userinfo',
    ]);
    expect(request({ scope: 'openid address gender' })?.verifiedClaims).toBe(false);
  });

  it('reads claims parameter members: optional unless essential, in the place they name', () => {
    const identity = request({
      claims: {
        id_token: { name: { essential: true }, age_over_20: null },
        userinfo: { name: null, gender: { purpose: 'to address you properly' } },
      },
    });
    expect(summary(identity)).toEqual([
      'name!@id_token+userinfo',
      'age_over_20?@id_token',
      'gender?@userinfo',
    ]);
    expect(identity?.items.find((item) => item.claim === 'gender')?.purpose).toBe('to address you properly');
  });

  it('derives age claims only for configured thresholds, and age_equal_or_over for all or the named ones', () => {
    expect(summary(request({ claims: { id_token: { age_over_17: null, age_over_65: null } } }))).toEqual([
      'age_over_65?@id_token',
    ]);
    expect(summary(request({ claims: { id_token: { age_equal_or_over: null } } }))).toEqual([
      'age_equal_or_over.18?@id_token',
      'age_equal_or_over.20?@id_token',
      'age_equal_or_over.65?@id_token',
    ]);
    expect(
      summary(request({ claims: { id_token: { age_equal_or_over: { '20': null, '21': null } } } })),
    ).toEqual(['age_equal_or_over.20?@id_token']);
  });

  it('reads address members: region and locality without the street', () => {
    expect(summary(request({ claims: { userinfo: { address: { region: null, locality: null } } } }))).toEqual(
      ['address.region?@userinfo', 'address.locality?@userinfo'],
    );
    expect(summary(request({ claims: { userinfo: { address: { postal_code: null } } } }))).toBeUndefined();
    expect(summary(request({ claims: { userinfo: { address: { essential: true } } } }))).toEqual([
      'address!@userinfo',
    ]);
    // A member that is no address member is not understood: ignored, the request stays the whole address.
    expect(summary(request({ claims: { userinfo: { address: { essential: true, x: 1 } } } }))).toEqual([
      'address!@userinfo',
    ]);
    expect(
      summary(request({ claims: { id_token: { age_equal_or_over: { essential: true, note: 'x' } } } })),
    ).toEqual([
      'age_equal_or_over.18!@id_token',
      'age_equal_or_over.20!@id_token',
      'age_equal_or_over.65!@id_token',
    ]);
  });

  it('says whether the scope asks for the certificate serial (raw-serial clients)', () => {
    expect(request({ scope: 'openid name myna_certificate_serial' })?.rawSerialScope).toBe(true);
    expect(request({ scope: 'openid name' })?.rawSerialScope).toBe(false);
  });

  it('reads verified_claims (object or array) into items inside verified_claims', () => {
    const identity = request({
      claims: {
        id_token: {
          verified_claims: {
            verification: { trust_framework: { value: 'jp_aml' } },
            claims: { name: null, birthdate: { essential: true } },
          },
        },
        userinfo: {
          verified_claims: [
            { verification: { trust_framework: null }, claims: { address: { locality: null } } },
            { verification: { trust_framework: { value: 'eidas' } }, claims: { gender: null } },
          ],
        },
      },
    });
    expect(identity?.verifiedClaims).toBe(true);
    expect(summary(identity)).toEqual([
      'verified:name?@id_token',
      'verified:birthdate!@id_token',
      'verified:address.locality?@userinfo',
    ]);
  });

  it('does not fulfil a verification it cannot meet (trust framework, evidence type)', () => {
    const ask = (verification: object) =>
      request({ claims: { id_token: { verified_claims: { verification, claims: { name: null } } } } });
    expect(ask({ trust_framework: { values: ['eidas', 'jp_aml'] } })).toBeDefined();
    expect(ask({ trust_framework: { values: ['eidas'] } })).toBeUndefined();
    expect(ask({ trust_framework: null, evidence: [{ type: { value: 'document' } }] })).toBeUndefined();
    expect(
      ask({ trust_framework: null, evidence: [{ type: { value: 'electronic_signature' } }] }),
    ).toBeDefined();
  });

  it('keeps one item per claim and form, merging targets and required', () => {
    expect(
      summary(
        request({ scope: 'openid name', claims: { userinfo: { name: null }, id_token: { name: null } } }),
      ),
    ).toEqual(['name!@id_token+userinfo']);
  });

  it('ignores claims-parameter facts the client is not registered for', () => {
    const ageOnly = { client_id: 'rp', scope: 'openid name' };
    expect(
      request({ claims: { id_token: { age_over_18: null, birthdate: null, name: null } } }, ageOnly),
    ).toEqual({
      items: [{ claim: 'name', required: false, targets: ['id_token'], inVerifiedClaims: false }],
      verifiedClaims: false,
      rawSerialScope: false,
    });
  });

  it('refuses identity requests when the OP has no signing trust anchors, ignores the rest', () => {
    const off = { enabled: false, ageThresholds: [18] };
    expect(() => identityRequestOf({ scope: 'openid name' }, client, off)).toThrow(errors.InvalidRequest);
    expect(identityRequestOf({ scope: 'openid' }, client, off)).toBeUndefined();
  });
});

describe('assertClaimsParameter', () => {
  const refuses = (claims: object, message: RegExp) => {
    try {
      assertClaimsParameter(claims, client, settings);
    } catch (error) {
      expect(error).toBeInstanceOf(errors.InvalidRequest);
      expect((error as errors.InvalidRequest).error_description).toMatch(message);
      return;
    }
    throw new Error(`accepted ${JSON.stringify(claims)}`);
  };

  it('accepts well-formed requests', () => {
    expect(() =>
      assertClaimsParameter(
        {
          id_token: { name: { essential: true, purpose: 'account opening' }, age_over_20: null },
          userinfo: {
            verified_claims: {
              verification: {
                trust_framework: { value: 'jp_aml' },
                evidence: [{ type: { value: 'electronic_signature' } }],
              },
              claims: { address: { region: null } },
            },
          },
        },
        client,
        settings,
      ),
    ).not.toThrow();
  });

  it('ignores members it does not understand (OIDC Core 5.5.1) and accepts IDA max_age', () => {
    const accepts = (claims: object) =>
      expect(() => assertClaimsParameter(claims, client, settings)).not.toThrow();
    accepts({ id_token: { email: { essential: true, x: 1 } } });
    accepts({ id_token: { name: { essential: true, x: [1], y: 'z' } } });
    accepts({ userinfo: { address: { region: null, x: 1 } } });
    accepts({
      id_token: {
        verified_claims: {
          verification: {
            trust_framework: null,
            time: { max_age: 63113852 },
            evidence: [{ type: { value: 'electronic_signature' }, created_at: { max_age: 3600 }, x: 1 }],
          },
          claims: { name: null, age_over_20: { essential: true, x: 1 } },
        },
      },
    });
    refuses(
      {
        id_token: { verified_claims: { verification: { time: { max_age: '1y' } }, claims: { name: null } } },
      },
      /verification\.time\.max_age must be a non-negative integer/,
    );
    refuses(
      {
        id_token: {
          verified_claims: {
            verification: { evidence: [{ created_at: { max_age: -1 } }] },
            claims: { name: null },
          },
        },
      },
      /evidence\[0\]\.created_at\.max_age must be a non-negative integer/,
    );
  });

  it('refuses ill-formed members, essential, values and purpose', () => {
    refuses({ id_token: { name: 'yes' } }, /claims\.id_token\.name must be null or an object/);
    refuses({ id_token: { name: { essential: 'true' } } }, /essential must be a boolean/);
    refuses({ id_token: { name: { values: 'a' } } }, /values must be an array/);
    refuses({ id_token: { name: { purpose: 'no' } } }, /purpose must be a string of 3 to 300/);
    refuses({ id_token: { name: { purpose: 'x'.repeat(301) } } }, /purpose must be a string of 3 to 300/);
    refuses(
      { userinfo: { address: { region: 1 } } },
      /claims\.userinfo\.address\.region must be null or an object/,
    );
  });

  it('refuses verified_claims without verification, with empty claims or bad evidence', () => {
    refuses({ id_token: { verified_claims: { claims: { name: null } } } }, /verification must be an object/);
    refuses(
      { id_token: { verified_claims: { verification: { trust_framework: null }, claims: {} } } },
      /claims must be a non-empty object/,
    );
    refuses({ id_token: { verified_claims: [] } }, /must not be empty/);
    refuses({ id_token: { verified_claims: ['x'] } }, /\[0\] must be an object/);
    refuses(
      { id_token: { verified_claims: { verification: { evidence: {} }, claims: { name: null } } } },
      /evidence must be an array/,
    );
    refuses(
      {
        id_token: {
          verified_claims: { verification: { trust_framework: 'jp_aml' }, claims: { name: null } },
        },
      },
      /trust_framework must be null or an object/,
    );
  });

  it('refuses identity claims when identity verification is off', () => {
    const off = { enabled: false, ageThresholds: [18] };
    expect(() => assertClaimsParameter({ id_token: { name: null } }, client, off)).toThrow(
      expect.objectContaining({
        error_description: expect.stringMatching(/identity verification is not available/),
      }),
    );
    expect(() =>
      assertClaimsParameter({ id_token: { auth_time: null } }, client, {
        enabled: false,
        ageThresholds: [18],
      }),
    ).not.toThrow();
  });
});

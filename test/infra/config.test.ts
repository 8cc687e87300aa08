/**
 * The deployment settings read from CDK context: the limits', the secrets' and the OP settings'
 * defaults (also written in cdk.json) and checks.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { App } from 'aws-cdk-lib';
import { DEFAULT_ACCOUNT_RETENTION_DAYS, LOGIN_LIMITS } from '../../functions/defaults.js';
import { ConfigError, DEFAULTS, readConfig } from '../../infra/config.js';
import { findProjectRoot } from '../../infra/paths.js';

const configOf = (context: Record<string, unknown>) => readConfig(new App({ context }).node);

describe('deployment settings', () => {
  it('default to stage throttling, reserved concurrency and a customer-managed KMS key', () => {
    const config = configOf({});
    expect(config).toMatchObject({
      throttleRateLimit: DEFAULTS.throttleRateLimit,
      throttleBurstLimit: DEFAULTS.throttleBurstLimit,
      reservedConcurrency: DEFAULTS.reservedConcurrency,
      encryption: 'customer',
      secretAdminArns: [],
    });
    expect([DEFAULTS.throttleRateLimit, DEFAULTS.throttleBurstLimit, DEFAULTS.reservedConcurrency]).toEqual([
      200, 400, 20,
    ]);
  });

  it('take other limits, the unreserved pool, AWS-owned keys and operator ARNs from context', () => {
    expect(
      configOf({
        throttleRateLimit: 50,
        throttleBurstLimit: '80',
        reservedConcurrency: 'none',
        encryption: 'aws-owned',
        secretAdminArns: 'arn:aws:iam::123456789012:role/Ops, arn:aws:iam::123456789012:role/Crl*',
      }),
    ).toMatchObject({
      throttleRateLimit: 50,
      throttleBurstLimit: 80,
      reservedConcurrency: undefined,
      encryption: 'aws-owned',
      secretAdminArns: ['arn:aws:iam::123456789012:role/Ops', 'arn:aws:iam::123456789012:role/Crl*'],
    });
  });

  it('refuse values that would stop the OP or open the secrets', () => {
    for (const context of [
      { reservedConcurrency: 0 },
      { throttleRateLimit: 0 },
      { throttleBurstLimit: 'lots' },
      { secretAdminArns: '*' },
      { secretAdminArns: 'arn:aws:iam::123:role/short-account' },
      { originVerifyVersion: 'v2' },
    ]) {
      expect(() => configOf(context)).toThrow(ConfigError);
    }
  });

  it("default the OP's login limits, account retention and private RP hosts to the OP's own defaults", () => {
    expect(configOf({})).toMatchObject({
      loginLimits: LOGIN_LIMITS,
      accountRetentionDays: DEFAULT_ACCOUNT_RETENTION_DAYS,
      privateRpHosts: [],
    });
  });

  it('cdk.json documents the same defaults (and the customer-managed key)', async () => {
    const { context } = JSON.parse(await readFile(join(findProjectRoot(), 'cdk.json'), 'utf8')) as {
      context: Record<string, unknown>;
    };
    expect(context).toMatchObject({
      encryption: 'customer',
      privateRpHosts: '',
      accountRetentionDays: DEFAULTS.accountRetentionDays,
      limitAnswersPerInteraction: LOGIN_LIMITS.answersPerInteraction,
      limitChallengesPerInteraction: LOGIN_LIMITS.challengesPerInteraction,
      limitInteractionsPerAddressPerMinute: LOGIN_LIMITS.interactionsPerAddressPerMinute,
    });
    expect(configOf(context)).toEqual(configOf({}));
  });

  it('take the identity link file, or the explicit opt-in to verify identities without it', () => {
    expect(configOf({})).toMatchObject({
      certificateLinksAuthoritative: true,
      identityAcceptUnlinkedSigningCertificates: false,
    });
    expect(configOf({ signingTrustAnchors: 'signing.pem', certificateLinks: 'links.json' })).toMatchObject({
      signingTrustAnchors: 'signing.pem',
      certificateLinks: 'links.json',
      certificateLinksAuthoritative: true,
    });
    expect(
      configOf({ signingTrustAnchors: 'signing.pem', identityAcceptUnlinkedSigningCertificates: 'true' }),
    ).toMatchObject({ certificateLinks: undefined, identityAcceptUnlinkedSigningCertificates: true });
  });

  it('take login limits, retention and private RP hosts from context', () => {
    expect(
      configOf({
        limitAnswersPerInteraction: 3,
        limitChallengesPerInteraction: '6',
        limitInteractionsPerAddressPerMinute: 1000,
        accountRetentionDays: '365',
        privateRpHosts: 'rp.internal.example, 10.0.0.7,[fd00::7]',
      }),
    ).toMatchObject({
      loginLimits: {
        answersPerInteraction: 3,
        challengesPerInteraction: 6,
        interactionsPerAddressPerMinute: 1000,
      },
      accountRetentionDays: 365,
      privateRpHosts: ['rp.internal.example', '10.0.0.7', '[fd00::7]'],
    });
  });

  it.each([
    [{ limitAnswersPerInteraction: 0 }, 'context limitAnswersPerInteraction must be at least 1 (default 5)'],
    [
      { limitChallengesPerInteraction: 'ten' },
      'context limitChallengesPerInteraction must be a positive integer',
    ],
    [
      { limitInteractionsPerAddressPerMinute: -1 },
      'context limitInteractionsPerAddressPerMinute must be a positive integer',
    ],
    [{ accountRetentionDays: 0 }, 'context accountRetentionDays must be at least 1 (default 1095)'],
    [{ accountRetentionDays: 1.5 }, 'context accountRetentionDays must be a positive integer'],
    [
      { privateRpHosts: 'https://rp.example' },
      'context privateRpHosts: private RP host "https://rp.example" must be',
    ],
    [
      { privateRpHosts: 'rp.example:8443' },
      'context privateRpHosts: private RP host "rp.example:8443" must be',
    ],
    [
      { signingTrustAnchors: 'signing.pem' },
      'context signingTrustAnchors (identity verification) needs certificateLinks (authoritative), or identityAcceptUnlinkedSigningCertificates=true',
    ],
    [
      {
        signingTrustAnchors: 'signing.pem',
        certificateLinks: 'links.json',
        certificateLinksAuthoritative: false,
      },
      'context signingTrustAnchors (identity verification) needs certificateLinks (authoritative)',
    ],
    [{ certificateLinksAuthoritative: 'yes' }, 'context certificateLinksAuthoritative must be true or false'],
  ])('refuse %j with a clear error', (context, message) => {
    expect(() => configOf(context)).toThrow(ConfigError);
    expect(() => configOf(context)).toThrow(message);
  });
});

/** The deployment settings read from CDK context: the limits' and the secrets' defaults and checks. */
import { describe, expect, it } from '@jest/globals';
import { App } from 'aws-cdk-lib';
import { ConfigError, DEFAULTS, readConfig } from '../../infra/config.js';

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
});

import { describe, expect, it } from '@jest/globals';
import { generateSecrets } from '../../functions/secrets/local-secrets.js';
import {
  parseIdentitySecret,
  parseSigningSecrets,
  serializeSecrets,
} from '../../functions/secrets/op-secrets.js';
import {
  type CustomResourceEvent,
  type CustomResourceResponse,
  createProvisionHandler,
  INITIAL_VERSION_TOKEN,
} from '../../functions/secrets/provision-handler.js';
import { fakeSecretsManager } from './fake-secrets-manager.js';

const SECRET = 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:MynaOidcSecret-abc';
const CERTIFICATE_KEY =
  'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:MynaOidcCertificateKey-def';
const PAIRWISE = 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:MynaOidcPairwise-ghi';

function event(type: CustomResourceEvent['RequestType']): CustomResourceEvent {
  return {
    RequestType: type,
    ResponseURL: 'https://cloudformation-custom-resource-response.example/put',
    StackId: 'arn:aws:cloudformation:ap-northeast-1:123456789012:stack/MynaOidc/x',
    RequestId: 'request-1',
    LogicalResourceId: 'SecretsProvision',
    ...(type === 'Create' ? {} : { PhysicalResourceId: SECRET }),
    ResourceProperties: {
      SigningSecretId: SECRET,
      CertificateKeySecretId: CERTIFICATE_KEY,
      PairwiseSecretId: PAIRWISE,
    },
  };
}

function harness(initial?: string, identity?: { certificateKey?: string; pairwise?: string }) {
  const fake = fakeSecretsManager({
    [SECRET]: initial,
    [CERTIFICATE_KEY]: identity?.certificateKey,
    [PAIRWISE]: identity?.pairwise,
  });
  const responses: CustomResourceResponse[] = [];
  const logs: string[] = [];
  const handler = createProvisionHandler({
    client: fake.client,
    respond: async (_url, body) => {
      responses.push(JSON.parse(body) as CustomResourceResponse);
    },
    log: (line) => logs.push(JSON.stringify(line)),
  });
  return { fake, responses, logs, handler };
}

describe('secret provisioning custom resource', () => {
  it('generates each secret once, on Create, with the fixed first-version token, the signing secret last', async () => {
    const { fake, responses, logs, handler } = harness();
    await handler(event('Create'));
    for (const id of [SECRET, CERTIFICATE_KEY, PAIRWISE]) {
      expect(fake.versions(id)).toHaveLength(1);
      expect(fake.versions(id)[0]?.token).toBe(INITIAL_VERSION_TOKEN);
    }
    expect(fake.calls.filter((call) => call.startsWith('Put')).at(-1)).toBe(`PutSecretValue ${SECRET}`);
    const value = fake.versions(SECRET)[0]?.value as string;
    const secrets = parseSigningSecrets(value);
    expect(secrets.jwks.keys.filter((key) => key.status === 'active')).toHaveLength(2);
    expect(secrets.legacySubjectSecret).toBeUndefined();
    const certificateKeyValue = fake.versions(CERTIFICATE_KEY)[0]?.value as string;
    const pairwiseValue = fake.versions(PAIRWISE)[0]?.value as string;
    const certificateKeySecret = parseIdentitySecret(certificateKeyValue, 'certificateKeySecret');
    const pairwiseSecret = parseIdentitySecret(pairwiseValue, 'pairwiseSecret');
    expect(certificateKeySecret).toHaveLength(32);
    expect(Buffer.from(pairwiseSecret)).not.toEqual(Buffer.from(certificateKeySecret));
    // Each secret holds its own part only.
    expect(Object.keys(JSON.parse(value)).sort()).toEqual(['cookieKeys', 'jwks']);
    expect(Object.keys(JSON.parse(certificateKeyValue))).toEqual(['certificateKeySecret']);
    expect(Object.keys(JSON.parse(pairwiseValue))).toEqual(['pairwiseSecret']);
    expect(responses).toEqual([
      expect.objectContaining({
        Status: 'SUCCESS',
        PhysicalResourceId: SECRET,
        Data: { Outcome: 'generated' },
      }),
    ]);
    // Neither the response nor the log carries a value.
    for (const text of [JSON.stringify(responses), ...logs]) {
      expect(text).not.toContain(Buffer.from(certificateKeySecret).toString('base64url'));
      expect(text).not.toContain(Buffer.from(pairwiseSecret).toString('base64url'));
      expect(text).not.toContain(secrets.cookieKeys[0]);
    }
  });

  it('never overwrites: Update and a repeated Create keep the existing value', async () => {
    const existing = serializeSecrets(await generateSecrets());
    const { fake, responses, handler } = harness(existing, { certificateKey: existing, pairwise: existing });
    await handler(event('Update'));
    await handler(event('Create'));
    for (const id of [SECRET, CERTIFICATE_KEY, PAIRWISE])
      expect(fake.versions(id)).toEqual([{ value: existing }]);
    expect(fake.calls.every((call) => call.startsWith('GetSecretValue'))).toBe(true);
    expect(responses.map((response) => response.Data?.Outcome)).toEqual(['kept', 'kept']);
  });

  it('refuses, without touching it, a secret holding something else, and still answers CloudFormation', async () => {
    const { fake, responses, logs, handler } = harness('hunter2-not-json');
    await handler(event('Update'));
    expect(fake.versions(SECRET)).toEqual([{ value: 'hunter2-not-json' }]);
    expect(fake.calls.filter((call) => call.startsWith('Put'))).toEqual([]);
    expect(responses[0]).toEqual(expect.objectContaining({ Status: 'FAILED', PhysicalResourceId: SECRET }));
    expect(responses[0]?.Reason).toMatch(/not the OP's secrets JSON; not touched/);
    expect([JSON.stringify(responses), ...logs].join('\n')).not.toContain('hunter2');
  });

  it('does nothing on Delete (the secret is retained)', async () => {
    const { fake, responses, handler } = harness();
    await handler(event('Delete'));
    expect(fake.calls).toEqual([]);
    expect(responses[0]?.Status).toBe('SUCCESS');
  });
});

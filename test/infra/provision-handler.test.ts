import { describe, expect, it } from '@jest/globals';
import { generateSecrets } from '../../functions/secrets/local-secrets.js';
import { parseSecrets, serializeSecrets } from '../../functions/secrets/op-secrets.js';
import {
  type CustomResourceEvent,
  type CustomResourceResponse,
  createProvisionHandler,
  INITIAL_VERSION_TOKEN,
} from '../../functions/secrets/provision-handler.js';
import { fakeSecretsManager } from './fake-secrets-manager.js';

const SECRET = 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:MynaOidcSecret-abc';

function event(type: CustomResourceEvent['RequestType']): CustomResourceEvent {
  return {
    RequestType: type,
    ResponseURL: 'https://cloudformation-custom-resource-response.example/put',
    StackId: 'arn:aws:cloudformation:ap-northeast-1:123456789012:stack/MynaOidc/x',
    RequestId: 'request-1',
    LogicalResourceId: 'SecretsProvision',
    ...(type === 'Create' ? {} : { PhysicalResourceId: SECRET }),
    ResourceProperties: { SecretId: SECRET },
  };
}

function harness(initial?: string) {
  const fake = fakeSecretsManager(SECRET, initial);
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
  it('generates the secrets once, on Create, with the fixed first-version token', async () => {
    const { fake, responses, logs, handler } = harness();
    await handler(event('Create'));
    expect(fake.versions).toHaveLength(1);
    expect(fake.versions[0]?.token).toBe(INITIAL_VERSION_TOKEN);
    const secrets = parseSecrets(fake.versions[0]?.value as string);
    expect(secrets.jwks.keys.filter((key) => key.status === 'active')).toHaveLength(2);
    expect(responses).toEqual([
      expect.objectContaining({
        Status: 'SUCCESS',
        PhysicalResourceId: SECRET,
        Data: { Outcome: 'generated' },
      }),
    ]);
    // Neither the response nor the log carries a value.
    const value = fake.versions[0]?.value as string;
    const subjectSecret = (JSON.parse(value) as { subjectSecret: string }).subjectSecret;
    for (const text of [JSON.stringify(responses), ...logs]) {
      expect(text).not.toContain(subjectSecret);
      expect(text).not.toContain(secrets.cookieKeys[0]);
    }
  });

  it('never overwrites: Update and a repeated Create keep the existing value', async () => {
    const existing = serializeSecrets(await generateSecrets());
    const { fake, responses, handler } = harness(existing);
    await handler(event('Update'));
    await handler(event('Create'));
    expect(fake.versions).toEqual([{ value: existing }]);
    expect(fake.calls).toEqual(['GetSecretValue', 'GetSecretValue']);
    expect(responses.map((response) => response.Data?.Outcome)).toEqual(['kept', 'kept']);
  });

  it('refuses, without touching it, a secret holding something else, and still answers CloudFormation', async () => {
    const { fake, responses, logs, handler } = harness('hunter2-not-json');
    await handler(event('Update'));
    expect(fake.versions).toEqual([{ value: 'hunter2-not-json' }]);
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

/**
 * A Secrets Manager client whose requests never leave the process: a middleware at the
 * `initialize` step answers GetSecretValue / PutSecretValue from an in-memory secret (the external
 * service is the only thing faked; the SDK client, commands and errors are the real ones).
 */
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';

export interface FakeSecret {
  /** Versions in write order; the last is AWSCURRENT. */
  readonly versions: { token?: string; value: string }[];
  readonly calls: string[];
  readonly client: SecretsManagerClient;
}

/** A client over one secret `secretId`, initially holding `value` (or no version). */
export function fakeSecretsManager(secretId: string, value?: string): FakeSecret {
  const fake: FakeSecret = {
    versions: value === undefined ? [] : [{ value }],
    calls: [],
    client: new SecretsManagerClient({
      region: 'ap-northeast-1',
      credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' },
    }),
  };
  fake.client.middlewareStack.add(
    () => async (args) => {
      const input = args.input as { SecretId?: string; SecretString?: string; ClientRequestToken?: string };
      if (input.SecretId !== secretId) {
        throw new ResourceNotFoundException({ message: 'no such secret', $metadata: {} });
      }
      if ('SecretString' in input && input.SecretString !== undefined) {
        fake.calls.push('PutSecretValue');
        const same = fake.versions.find(
          (version) => version.token && version.token === input.ClientRequestToken,
        );
        if (same && same.value !== input.SecretString) {
          throw new ResourceExistsException({ message: 'token reused with another value', $metadata: {} });
        }
        if (!same) fake.versions.push({ token: input.ClientRequestToken, value: input.SecretString });
        return { output: { ARN: secretId, $metadata: {} }, response: {} } as never;
      }
      fake.calls.push('GetSecretValue');
      const current = fake.versions.at(-1);
      if (!current) {
        throw new ResourceNotFoundException({
          message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
          $metadata: {},
        });
      }
      return { output: { ARN: secretId, SecretString: current.value, $metadata: {} }, response: {} } as never;
    },
    { step: 'initialize', name: 'fakeSecretsManager' },
  );
  return fake;
}

export { GetSecretValueCommand, PutSecretValueCommand };

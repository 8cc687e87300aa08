/**
 * A Secrets Manager client whose requests never leave the process: a middleware at the
 * `initialize` step answers GetSecretValue (AWSCURRENT, or AWSPREVIOUS with VersionStage) and
 * PutSecretValue from in-memory secrets (the external service is the only thing faked; the SDK
 * client, commands and errors are the real ones).
 */
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';

/** One secret's versions in write order; the last is AWSCURRENT, the one before AWSPREVIOUS. */
export type FakeVersions = { token?: string; value: string }[];

export interface FakeSecrets {
  /** The versions of each secret id. */
  readonly secrets: Map<string, FakeVersions>;
  /** `GetSecretValue <id>` / `PutSecretValue <id>`, in call order. */
  readonly calls: string[];
  readonly client: SecretsManagerClient;
  /** The versions of `secretId` (throws for an unknown id). */
  versions(secretId: string): FakeVersions;
}

/** A client over the secrets named in `initial`, each holding its value (undefined: no version yet). */
export function fakeSecretsManager(initial: Record<string, string | undefined>): FakeSecrets {
  const secrets = new Map<string, FakeVersions>(
    Object.entries(initial).map(([id, value]) => [id, value === undefined ? [] : [{ value }]]),
  );
  const fake: FakeSecrets = {
    secrets,
    calls: [],
    client: new SecretsManagerClient({
      region: 'ap-northeast-1',
      credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' },
    }),
    versions: (secretId) => {
      const versions = secrets.get(secretId);
      if (!versions) throw new Error(`no fake secret ${secretId}`);
      return versions;
    },
  };
  const missing = (message: string) => new ResourceNotFoundException({ message, $metadata: {} });
  fake.client.middlewareStack.add(
    () => async (args) => {
      const input = args.input as {
        SecretId?: string;
        SecretString?: string;
        ClientRequestToken?: string;
        VersionStage?: string;
      };
      const versions = secrets.get(input.SecretId ?? '');
      if (!versions) throw missing('no such secret');
      if ('SecretString' in input && input.SecretString !== undefined) {
        fake.calls.push(`PutSecretValue ${input.SecretId}`);
        const same = versions.find((version) => version.token && version.token === input.ClientRequestToken);
        if (same && same.value !== input.SecretString) {
          throw new ResourceExistsException({ message: 'token reused with another value', $metadata: {} });
        }
        if (!same) versions.push({ token: input.ClientRequestToken, value: input.SecretString });
        return { output: { ARN: input.SecretId, $metadata: {} }, response: {} } as never;
      }
      fake.calls.push(`GetSecretValue ${input.SecretId}`);
      const stage = input.VersionStage ?? 'AWSCURRENT';
      const version = stage === 'AWSPREVIOUS' ? versions.at(-2) : versions.at(-1);
      if (!version) {
        throw missing(`Secrets Manager can't find the specified secret value for staging label: ${stage}`);
      }
      return {
        output: { ARN: input.SecretId, SecretString: version.value, $metadata: {} },
        response: {},
      } as never;
    },
    { step: 'initialize', name: 'fakeSecretsManager' },
  );
  return fake;
}

export { GetSecretValueCommand, PutSecretValueCommand };

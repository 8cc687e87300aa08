/**
 * Where the OP's secrets live, behind one interface: the local data folder (development) or one
 * AWS Secrets Manager secret (deployed stack). Operator tools (`myna-oidc keys`) load, change and
 * save through it, so the rotation logic has one code path for both.
 */
import {
  PutSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { loadAwsSecrets } from './aws-secrets.js';
import { loadLocalSecrets, saveLocalSecrets } from './local-secrets.js';
import { type OpSecrets, serializeSecrets } from './op-secrets.js';

/** Loads and replaces the whole OpSecrets value of one deployment. */
export interface SecretStore {
  /** Human-readable location, for messages (folder path or secret id; never a value). */
  readonly location: string;
  load(): Promise<OpSecrets>;
  save(secrets: OpSecrets): Promise<void>;
}

/** `<dataDir>/secrets.json` (generated on first load, as the local stack does). */
export function localSecretStore(dataDir: string): SecretStore {
  return {
    location: dataDir,
    load: () => loadLocalSecrets(dataDir),
    save: (secrets) => saveLocalSecrets(dataDir, secrets),
  };
}

/** The Secrets Manager secret `secretId` (name or ARN); `save` adds a new AWSCURRENT version. */
export function awsSecretStore(secretId: string, client: SecretsManagerClient): SecretStore {
  return {
    location: secretId,
    load: () => loadAwsSecrets(secretId, client),
    save: async (secrets) => {
      await client.send(
        new PutSecretValueCommand({ SecretId: secretId, SecretString: serializeSecrets(secrets) }),
      );
    },
  };
}

/** True when `error` says the secret has no value yet (created without a version). */
export function isMissingSecretValue(error: unknown): boolean {
  return (
    error instanceof ResourceNotFoundException ||
    (error as { name?: string })?.name === 'ResourceNotFoundException'
  );
}

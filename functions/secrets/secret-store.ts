/**
 * Where the OP's signing secrets live, behind one interface: the local data folder (development)
 * or the signing secret in AWS Secrets Manager (deployed stack). Operator tools (`myna-oidc keys`)
 * load, change and save through it, so the rotation logic has one code path for both. A save
 * replaces the signing keys and cookie keys only: every other field of the stored value (the
 * identity secrets of the local file, the `subjectSecret` a pre-split secret still carries) is
 * written back unchanged.
 */
import { PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { readSecretString } from './aws-secrets.js';
import { loadLocalSecrets, saveLocalSecrets } from './local-secrets.js';
import { parseSigningSecrets, type SigningSecrets } from './op-secrets.js';

/** Loads and replaces the signing secrets of one deployment. */
export interface SecretStore {
  /** Human-readable location, for messages (folder path or secret id; never a value). */
  readonly location: string;
  load(): Promise<SigningSecrets>;
  save(secrets: SigningSecrets): Promise<void>;
}

/** `<dataDir>/secrets.json` (generated on first load, as the local stack does). */
export function localSecretStore(dataDir: string): SecretStore {
  return {
    location: dataDir,
    load: () => loadLocalSecrets(dataDir),
    save: async ({ jwks, cookieKeys }) =>
      saveLocalSecrets(dataDir, { ...(await loadLocalSecrets(dataDir)), jwks, cookieKeys }),
  };
}

/** The signing secret `secretId` (name or ARN); `save` adds a new AWSCURRENT version. */
export function awsSecretStore(secretId: string, client: SecretsManagerClient): SecretStore {
  return {
    location: secretId,
    load: async () => parseSigningSecrets(await readSecretString(secretId, client)),
    save: async ({ jwks, cookieKeys }) => {
      const stored = JSON.parse(await readSecretString(secretId, client)) as Record<string, unknown>;
      await client.send(
        new PutSecretValueCommand({
          SecretId: secretId,
          SecretString: `${JSON.stringify({ ...stored, jwks, cookieKeys }, null, 2)}\n`,
        }),
      );
    },
  };
}

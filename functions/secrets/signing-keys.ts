/**
 * Generating and rotating the token-signing keys. A rotation never signs with a key RPs have not
 * had the chance to fetch: a new key is first published as `next`; the following rotation makes it
 * `active`, turns the active key into `retiring` (still published, so tokens it signed verify) and
 * drops the previous retiring key. Run a rotation at least one JWKS cache lifetime plus the longest
 * token lifetime apart (e.g. every 30 days).
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import type { KeyStatus, SigningAlgorithm, SigningKey, SigningSecrets } from './op-secrets.js';
import { SIGNING_ALGORITHMS } from './op-secrets.js';

/** A fresh private signing key for `alg` with a random kid. */
export async function generateSigningKey(alg: SigningAlgorithm, status: KeyStatus): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'RS256' ? { modulusLength: 2048 } : {}),
  });
  return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg, use: 'sig', status };
}

/** One active key per signing algorithm: the key set of a new deployment. */
export async function initialSigningKeys(): Promise<SigningKey[]> {
  return Promise.all(SIGNING_ALGORITHMS.map((alg) => generateSigningKey(alg, 'active')));
}

const PROMOTION: Record<KeyStatus, KeyStatus | undefined> = {
  next: 'active',
  active: 'retiring',
  retiring: undefined,
};

/**
 * One rotation step, per algorithm: when a `next` key exists it becomes active, the active key
 * retires and the previous retiring key is dropped; then a new `next` key is appended. The first
 * rotation of a fresh key set therefore only publishes a next key and changes no signing key.
 */
export async function rotateSigningKeys<T extends SigningSecrets>(secrets: T): Promise<T> {
  const keys: SigningKey[] = [];
  for (const alg of SIGNING_ALGORITHMS) {
    const ofAlg = secrets.jwks.keys.filter((key) => key.alg === alg);
    const promote = ofAlg.some((key) => key.status === 'next');
    for (const key of ofAlg) {
      const status = promote ? PROMOTION[key.status] : key.status;
      if (status) keys.push({ ...key, status });
    }
    keys.push(await generateSigningKey(alg, 'next'));
  }
  return { ...secrets, jwks: { keys } };
}

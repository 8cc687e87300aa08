/**
 * The OP's secrets: token-signing keys (a rotation-aware private JWKS), cookie-signing keys and the
 * subject secret behind account keys and pairwise subjects. One JSON shape serves both the local
 * data folder and AWS Secrets Manager; this module parses, validates and serialises it.
 */
import type { JWK } from 'jose';
import { MIN_SECRET_BYTES } from '../subject/keyed-hash.js';

/** Signing algorithms the OP keeps a key for: RS256 (the OIDC default) and ES256. */
export const SIGNING_ALGORITHMS = ['RS256', 'ES256'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/**
 * Where a signing key is in its life:
 * - `next`: published in the JWKS but not used for signing yet (so RPs cache it before first use);
 * - `active`: signs new tokens (exactly one per algorithm);
 * - `retiring`: no longer signs, still published so tokens it signed keep verifying.
 */
export type KeyStatus = 'next' | 'active' | 'retiring';

/** A private signing key as stored: a JWK with kid, alg, use and its rotation status. */
export interface SigningKey extends JWK {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly use: 'sig';
  readonly status: KeyStatus;
}

/** Everything secret the OP needs. */
export interface OpSecrets {
  /** Private signing keys with their rotation status (see KeyStatus). */
  readonly jwks: { readonly keys: readonly SigningKey[] };
  /** Cookie-signing keys, newest first (oidc-provider signs with the first, verifies with all). */
  readonly cookieKeys: readonly string[];
  /** ≥ 32 bytes: account keys (HMAC of issuer + serial) and pairwise subjects. Never rotate it. */
  readonly subjectSecret: Uint8Array;
}

/** Raised when stored secrets are unreadable or incomplete. */
export class SecretsError extends Error {
  override name = 'SecretsError';
  constructor(
    readonly code: 'SECRETS_MALFORMED' | 'SECRETS_UNAVAILABLE',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const STATUS_ORDER: Record<KeyStatus, number> = { active: 0, next: 1, retiring: 2 };

/**
 * The JWKS to hand to oidc-provider: status stripped, and per algorithm the active key first
 * (oidc-provider signs with the first key matching an algorithm), then next, then retiring keys.
 */
export function providerJwks(secrets: OpSecrets): { keys: JWK[] } {
  const keys = [...secrets.jwks.keys].sort((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status]);
  return { keys: keys.map(({ status: _status, ...jwk }) => jwk) };
}

/** The JSON text of `secrets` (the subject secret as base64url). */
export function serializeSecrets(secrets: OpSecrets): string {
  return `${JSON.stringify(
    {
      jwks: secrets.jwks,
      cookieKeys: secrets.cookieKeys,
      subjectSecret: Buffer.from(secrets.subjectSecret).toString('base64url'),
    },
    null,
    2,
  )}\n`;
}

/** Parses and validates the JSON text of stored secrets; throws SecretsError(SECRETS_MALFORMED). */
export function parseSecrets(text: string): OpSecrets {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new SecretsError('SECRETS_MALFORMED', 'secrets are not JSON', { cause: error });
  }
  const fail = (why: string): never => {
    throw new SecretsError('SECRETS_MALFORMED', `secrets: ${why}`);
  };
  if (typeof raw !== 'object' || raw === null) return fail('not an object');
  const { jwks, cookieKeys, subjectSecret } = raw as Record<string, unknown>;
  const keys = (jwks as { keys?: unknown } | undefined)?.keys;
  if (!Array.isArray(keys)) return fail('jwks.keys is missing');
  for (const key of keys as SigningKey[]) {
    if (typeof key?.kid !== 'string' || !SIGNING_ALGORITHMS.includes(key.alg) || key.use !== 'sig') {
      fail('every signing key needs kid, use "sig" and alg RS256 or ES256');
    }
    if (!(key.status in STATUS_ORDER)) fail(`key ${key.kid} has no valid status`);
    if (typeof key.d !== 'string') fail(`key ${key.kid} is not a private key`);
  }
  for (const alg of SIGNING_ALGORITHMS) {
    const active = (keys as SigningKey[]).filter((key) => key.alg === alg && key.status === 'active');
    if (active.length !== 1) fail(`exactly one active ${alg} key is required (found ${active.length})`);
  }
  if (
    !Array.isArray(cookieKeys) ||
    cookieKeys.length === 0 ||
    !cookieKeys.every((key) => typeof key === 'string' && key.length >= 32)
  ) {
    fail('cookieKeys must be a non-empty list of strings of at least 32 characters');
  }
  if (typeof subjectSecret !== 'string') return fail('subjectSecret is missing');
  const secret = new Uint8Array(Buffer.from(subjectSecret, 'base64url'));
  if (secret.length < MIN_SECRET_BYTES) fail(`subjectSecret must have at least ${MIN_SECRET_BYTES} bytes`);
  return { jwks: { keys: keys as SigningKey[] }, cookieKeys: cookieKeys as string[], subjectSecret: secret };
}

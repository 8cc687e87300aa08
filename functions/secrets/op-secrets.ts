/**
 * The OP's secrets, by purpose: token-signing keys (a rotation-aware private JWKS) and cookie keys;
 * the certificate-key secret behind certificate keys and revocation entries; the pairwise secret behind
 * `sub`s. On AWS each purpose is its own Secrets Manager secret (so each role reads only what it
 * needs); the local data folder keeps all of them in one file. This module parses, validates and
 * serialises every shape, including the single secret of deployments made before the split
 * (`{ jwks, cookieKeys, subjectSecret }`), which keeps every certificate key and `sub` unchanged.
 */
import { randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import { MIN_SECRET_BYTES } from '../subject/keyed-hash.js';

/** Signing algorithms the OP keeps a key for: RS256 (the OIDC default) and ES256. */
export const SIGNING_ALGORITHMS = ['RS256', 'ES256'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/**
 * The JWS algorithms the OP signs with, and the key each one uses: PS256 (RSASSA-PSS, which FAPI 2.0
 * asks for) signs with the RSA key, so it needs no key, rotation or migration of its own.
 */
export const JWS_KEY_ALGORITHM = { RS256: 'RS256', PS256: 'RS256', ES256: 'ES256' } as const satisfies Record<
  string,
  SigningAlgorithm
>;
export type JwsAlgorithm = keyof typeof JWS_KEY_ALGORITHM;
export const JWS_ALGORITHMS = Object.keys(JWS_KEY_ALGORITHM) as JwsAlgorithm[];

/** The active key that signs with `alg` (PS256 and RS256 share the RSA key), without its status. */
export function activeSigningJwk(secrets: SigningSecrets, alg: string): JWK | undefined {
  const keyAlg = (JWS_KEY_ALGORITHM as Record<string, SigningAlgorithm | undefined>)[alg];
  const key = secrets.jwks.keys.find(
    (candidate) => candidate.status === 'active' && candidate.alg === keyAlg,
  );
  if (!key) return undefined;
  const { status: _status, alg: _alg, ...jwk } = key;
  return { ...jwk, alg };
}

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

/** The token-signing and cookie keys: what signs (the OP, and the logout-token signer for the notification job). */
export interface SigningSecrets {
  /** Private signing keys with their rotation status (see KeyStatus). */
  readonly jwks: { readonly keys: readonly SigningKey[] };
  /** Cookie-signing keys, newest first (oidc-provider signs with the first, verifies with all). */
  readonly cookieKeys: readonly string[];
}

/**
 * The two secrets behind a person's identifiers. Neither may ever change: a new value changes
 * every certificate key (so every account is lost) or every pairwise `sub` at every RP.
 */
export interface IdentitySecrets {
  /**
   * ≥ 32 bytes: the certificate key (HMAC of issuer + serial) that accounts and revocation entries
   * are keyed by, and (HKDF) the raw-serial seal key. Whoever holds it and a copy of the table can
   * recover every raw serial by enumeration (JPKI serials have 4 bytes): see docs/security.md.
   */
  readonly certificateKeySecret: Uint8Array;
  /** ≥ 32 bytes: pairwise subjects (HMAC of sector + account id). */
  readonly pairwiseSecret: Uint8Array;
}

/** Everything secret the OP needs. */
export interface OpSecrets extends SigningSecrets, IdentitySecrets {}

/** The JSON field of each identity secret (also the field of its own Secrets Manager secret). */
export type IdentitySecretField = keyof IdentitySecrets;

/**
 * The identity secrets of a deployment made before the split, from its one `subjectSecret`: both
 * are that value, byte for byte, because every stored certificate key and every `sub` an RP knows was
 * computed with it (HMAC-SHA-256 under it, with distinct labels) — a derived value (e.g. HKDF of
 * it) would change them all. The split then separates who may read each secret (its own Secrets
 * Manager secret and resource policy), not the values.
 */
export function legacyIdentitySecrets(subjectSecret: Uint8Array): IdentitySecrets {
  return { certificateKeySecret: subjectSecret, pairwiseSecret: subjectSecret };
}

/** Fresh, independent identity secrets (32 random bytes each) for a new deployment. */
export function generateIdentitySecrets(): IdentitySecrets {
  return {
    certificateKeySecret: new Uint8Array(randomBytes(32)),
    pairwiseSecret: new Uint8Array(randomBytes(32)),
  };
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
 * RSA keys go without `alg` (it is optional, RFC 7517 §4.4) so the same key signs RS256 and PS256
 * (JWS_KEY_ALGORITHM); the `kty` still tells RPs what each key is.
 */
export function providerJwks(secrets: Pick<SigningSecrets, 'jwks'>): { keys: JWK[] } {
  const keys = [...secrets.jwks.keys].sort((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status]);
  return {
    keys: keys.map(({ status: _status, ...jwk }) => {
      if (jwk.kty !== 'RSA') return jwk;
      const { alg: _alg, ...rsa } = jwk;
      return rsa;
    }),
  };
}

const base64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

/** Pretty JSON text with a final newline, as every stored shape is written. */
const jsonText = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** The JSON text of all of `secrets` (the local data folder's file). */
export function serializeSecrets(secrets: OpSecrets): string {
  return jsonText({
    jwks: secrets.jwks,
    cookieKeys: secrets.cookieKeys,
    certificateKeySecret: base64url(secrets.certificateKeySecret),
    pairwiseSecret: base64url(secrets.pairwiseSecret),
  });
}

/** The JSON text of the signing secret (keys only, no identity secret). */
export function serializeSigningSecrets(secrets: SigningSecrets): string {
  return jsonText({ jwks: secrets.jwks, cookieKeys: secrets.cookieKeys });
}

/** The JSON text of the Secrets Manager secret that holds one identity secret: `{ "<field>": "…" }`. */
export function serializeIdentitySecret(field: IdentitySecretField, value: Uint8Array): string {
  return jsonText({ [field]: base64url(value) });
}

const fail = (why: string): never => {
  throw new SecretsError('SECRETS_MALFORMED', `secrets: ${why}`);
};

function parseObject(text: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new SecretsError('SECRETS_MALFORMED', 'secrets are not JSON', { cause: error });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('not an object');
  return raw as Record<string, unknown>;
}

function secretBytes(raw: Record<string, unknown>, field: string): Uint8Array {
  const value = raw[field];
  if (typeof value !== 'string') return fail(`${field} is missing`);
  const bytes = new Uint8Array(Buffer.from(value, 'base64url'));
  if (bytes.length < MIN_SECRET_BYTES) fail(`${field} must have at least ${MIN_SECRET_BYTES} bytes`);
  return bytes;
}

function signingSecretsOf(raw: Record<string, unknown>): SigningSecrets {
  const { jwks, cookieKeys } = raw;
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
  return { jwks: { keys: keys as SigningKey[] }, cookieKeys: cookieKeys as string[] };
}

/** The signing secret as stored, and the pre-split `subjectSecret` it may still carry. */
export interface StoredSigningSecrets extends SigningSecrets {
  readonly legacySubjectSecret?: Uint8Array;
}

/** Parses the signing secret (also a pre-split single secret: its subjectSecret is returned apart). */
export function parseSigningSecrets(text: string): StoredSigningSecrets {
  const raw = parseObject(text);
  const signing = signingSecretsOf(raw);
  return raw.subjectSecret === undefined
    ? signing
    : { ...signing, legacySubjectSecret: secretBytes(raw, 'subjectSecret') };
}

/**
 * Parses the secret of one identity secret (`{ "<field>": "…" }`); a secret holding every part
 * (the local file's shape) or a pre-split single secret gives its value too.
 */
export function parseIdentitySecret(text: string, field: IdentitySecretField): Uint8Array {
  const raw = parseObject(text);
  if (raw[field] === undefined && raw.subjectSecret !== undefined) {
    return legacyIdentitySecrets(secretBytes(raw, 'subjectSecret'))[field];
  }
  return secretBytes(raw, field);
}

/**
 * Parses and validates all of the OP's secrets from one JSON text (the local file, or a single
 * Secrets Manager secret); a pre-split `subjectSecret` gives both identity secrets
 * (legacyIdentitySecrets). Throws SecretsError(SECRETS_MALFORMED).
 */
export function parseSecrets(text: string): OpSecrets {
  const raw = parseObject(text);
  const signing = signingSecretsOf(raw);
  const hasSplit = raw.certificateKeySecret !== undefined || raw.pairwiseSecret !== undefined;
  const identity = hasSplit
    ? {
        certificateKeySecret: secretBytes(raw, 'certificateKeySecret'),
        pairwiseSecret: secretBytes(raw, 'pairwiseSecret'),
      }
    : legacyIdentitySecrets(secretBytes(raw, 'subjectSecret'));
  return { ...signing, ...identity };
}

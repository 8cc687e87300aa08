/**
 * Domain-separated HMAC-SHA-256 over length-prefixed fields: the one construction behind account
 * keys, pairwise subjects and revocation keys, so that no two uses can collide and no field
 * boundary can be shifted.
 */
import { createHmac, type KeyObject } from 'node:crypto';

/** A deployment secret: raw bytes (at least 32) or a secret KeyObject. */
export type DeploymentSecret = Uint8Array | KeyObject;

export const MIN_SECRET_BYTES = 32;

/** Raised when a deployment secret is too short to be a secret. */
export class SecretError extends Error {
  readonly code = 'SECRET_TOO_SHORT';
  override name = 'SecretError';
}

/** HMAC-SHA-256(secret, label ‖ (u32 length ‖ field)…), base64url, where label is the first field. */
export function keyedHash(
  secret: DeploymentSecret,
  label: string,
  fields: readonly (Uint8Array | string)[],
): string {
  const size = secret instanceof Uint8Array ? secret.length : (secret.symmetricKeySize ?? 0);
  if (size < MIN_SECRET_BYTES)
    throw new SecretError(`deployment secret must have at least ${MIN_SECRET_BYTES} bytes`);
  const hmac = createHmac('sha256', secret);
  const length = Buffer.allocUnsafe(4);
  for (const field of [label, ...fields]) {
    const bytes = typeof field === 'string' ? Buffer.from(field, 'utf8') : field;
    length.writeUInt32BE(bytes.length);
    hmac.update(length).update(bytes);
  }
  return hmac.digest('base64url');
}

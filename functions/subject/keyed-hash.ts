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

/** HMAC-SHA-256(secret, label ‖ (u32 length ‖ field)…), base64url. */
export function keyedHash(
  secret: DeploymentSecret,
  label: string,
  fields: readonly (Uint8Array | string)[],
): string {
  const size = secret instanceof Uint8Array ? secret.length : (secret.symmetricKeySize ?? 0);
  if (size < MIN_SECRET_BYTES)
    throw new SecretError(`deployment secret must have at least ${MIN_SECRET_BYTES} bytes`);
  const parts = [label, ...fields].map((field) =>
    typeof field === 'string' ? Buffer.from(field, 'utf8') : field,
  );
  const input = Buffer.allocUnsafe(parts.reduce((total, part) => total + 4 + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    offset = input.writeUInt32BE(part.length, offset);
    input.set(part, offset);
    offset += part.length;
  }
  return createHmac('sha256', secret).update(input).digest('base64url');
}

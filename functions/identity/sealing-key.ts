/**
 * AES-256-GCM sealing under a key derived (HKDF-SHA-256) from an OP secret with a label of its
 * own: what the OP uses for everything it must hand through storage without storing it in plain
 * (the sealed claims carrier, op/sealed-claims.ts; retained evidence, storage/identity-evidence.ts).
 * A seal is base64url of iv (12 bytes) ‖ tag (16 bytes) ‖ ciphertext; the additional data binds it
 * to what it belongs to (purpose, client, record), so it opens for nothing else.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** One derived sealing key. */
export class SealingKey {
  readonly #key: Buffer;

  /** The key derived from `secret` for `label` (e.g. `myna-oidc/sealed-claims/v1`). */
  constructor(secret: Uint8Array, label: string) {
    this.#key = Buffer.from(hkdfSync('sha256', secret, new Uint8Array(0), label, 32));
  }

  /** `plain` sealed for `additionalData`. */
  seal(plain: string, additionalData: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv).setAAD(Buffer.from(additionalData));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** What `seal` sealed for `additionalData`; undefined when it was not, or was altered. */
  open(sealed: unknown, additionalData: string): string | undefined {
    if (typeof sealed !== 'string') return undefined;
    const bytes = Buffer.from(sealed, 'base64url');
    if (bytes.length < IV_BYTES + TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(0, IV_BYTES))
        .setAAD(Buffer.from(additionalData))
        .setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
      return plain.toString('utf8');
    } catch {
      return undefined;
    }
  }
}

/**
 * The raw-serial claim, for clients flagged `myna_raw_serial_claim` that request the scope
 * `myna_certificate_serial`. The OP keeps no raw serial at rest, so the serial is only available
 * in the ID token issued for the authorization code of the login where the card was used:
 * 1. the login sealed it (AES-256-GCM under a key derived from the subject secret, bound to the
 *    client) into the interaction result;
 * 2. when the authorization code of that login is issued, the sealed serial is stored under the
 *    code's id with the code's lifetime (model "MynaRawSerial");
 * 3. the token endpoint takes it (read once, then deleted) into the ID token.
 * Userinfo, refresh and later SSO logins never see it. Only ciphertext ever reaches storage.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Adapter } from 'oidc-provider';

/** The scope a flagged client requests to receive the claim. */
export const RAW_SERIAL_SCOPE = 'myna_certificate_serial';
/** The ID token claim: the certificate serial number as lower-case hex without leading zeros. */
export const RAW_SERIAL_CLAIM = 'myna_certificate_serial';
/** The adapter model that holds sealed serials between code issuance and redemption. */
export const RAW_SERIAL_MODEL = 'MynaRawSerial';

const SEAL_LABEL = 'myna-oidc/raw-serial-seal/v1';

/** Seals, parks and hands out raw serials as described above. */
export class RawSerialCarrier {
  readonly #key: Buffer;
  readonly #store: Adapter;

  constructor(certificateKeySecret: Uint8Array, store: Adapter) {
    this.#key = Buffer.from(hkdfSync('sha256', certificateKeySecret, new Uint8Array(0), SEAL_LABEL, 32));
    this.#store = store;
  }

  /** The serial sealed for `clientId` (base64url of iv ‖ tag ‖ ciphertext). */
  seal(serialHex: string, clientId: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv).setAAD(Buffer.from(clientId));
    const body = Buffer.concat([cipher.update(serialHex, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** Parks a sealed serial under the authorization code id `codeId` for `ttlSeconds`. */
  async park(codeId: string, sealed: string, ttlSeconds: number): Promise<void> {
    await this.#store.upsert(codeId, { sealed }, ttlSeconds);
  }

  /** Takes (reads and deletes) the serial parked for `codeId`, if any and sealed for `clientId`. */
  async take(codeId: string, clientId: string): Promise<string | undefined> {
    const parked = await this.#store.find(codeId);
    if (!parked) return undefined;
    await this.#store.destroy(codeId);
    const sealed = (parked as { sealed?: unknown }).sealed;
    if (typeof sealed !== 'string') return undefined;
    const bytes = Buffer.from(sealed, 'base64url');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(0, 12))
        .setAAD(Buffer.from(clientId))
        .setAuthTag(bytes.subarray(12, 28));
      return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}

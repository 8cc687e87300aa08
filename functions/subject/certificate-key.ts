/**
 * The certificate key: a keyed hash of issuer + serial. It is what the OP stores instead of the raw
 * certificate serial, which identifies a person across services like a second MyNumber.
 */
import { serialHex } from '../jpki/certificate.js';
import { type KeyedHashSecret, keyedHash, keyedHasher } from './keyed-hash.js';

/** Persisted in every stored key: keeps its original "account-key" wording, byte for byte. */
const CERTIFICATE_KEY_LABEL = 'myna-oidc/account-key/v1';

/**
 * HMAC-SHA-256 under the certificate-key secret of the certificate's issuer Name (DER) and serial
 * number (canonical hex), base64url. Stable for one certificate; a renewed certificate gets another key.
 */
export function certificateKey(
  secret: KeyedHashSecret,
  issuer: Uint8Array,
  serialNumber: Uint8Array,
): string {
  return keyedHash(secret, CERTIFICATE_KEY_LABEL, [issuer, serialHex(serialNumber)]);
}

/**
 * certificateKey for many serial numbers of one issuer, as raw 32-byte digests (CRL ingest):
 * `hash(bytes, start, end, out, offset)` writes the digest whose base64url is
 * certificateKey(secret, issuer, bytes[start, end)) to `out` at `offset`. Not safe for concurrent use.
 */
export function certificateKeyHasher(
  secret: KeyedHashSecret,
  issuer: Uint8Array,
): (serial: Uint8Array, start: number, end: number, out: Uint8Array, offset: number) => void {
  const hash = keyedHasher(secret, CERTIFICATE_KEY_LABEL, [issuer]);
  const hex = new Uint8Array(256);
  return (serial, start, end, out, offset) => {
    let first = start;
    while (first < end - 1 && serial[first] === 0) first++;
    if ((end - first) * 2 > hex.length) throw new RangeError('serial number too long');
    let length = 0;
    for (let i = first; i < end; i++) {
      const byte = serial[i] as number;
      hex[length++] = HEX_DIGITS[byte >>> 4] as number;
      hex[length++] = HEX_DIGITS[byte & 0x0f] as number;
    }
    hash(hex, 0, length, out, offset);
  };
}

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');

/**
 * The account key: a keyed hash of issuer + serial. It is what the OP stores instead of the raw
 * certificate serial, which identifies a person across services like a second MyNumber.
 */
import { serialHex } from '../jpki/certificate.js';
import { type DeploymentSecret, keyedHash } from './keyed-hash.js';

const ACCOUNT_KEY_LABEL = 'myna-oidc/account-key/v1';

/**
 * HMAC-SHA-256 under the deployment secret of the certificate's issuer Name (DER) and serial
 * number (canonical hex), base64url. Stable for one certificate; a renewed certificate gets another key.
 */
export function accountKey(secret: DeploymentSecret, issuer: Uint8Array, serialNumber: Uint8Array): string {
  return keyedHash(secret, ACCOUNT_KEY_LABEL, [issuer, serialHex(serialNumber)]);
}

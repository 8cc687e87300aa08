/**
 * The pseudonym fingerprint: a short, public function of the `sub` a service holds, so a person
 * can match the pseudonym the account page shows for a service with what that service shows
 * ("your MyNumber-card pseudonym: 3f2a-9c01"). It is not a secret and proves nothing: it only lets
 * two screens be compared by eye.
 *
 * Definition (stable; relying parties may compute it too): the first 4 bytes of
 * SHA-256(UTF-8 of `sub`), as 8 lowercase hex digits in two groups of 4 joined by `-`.
 * Example: sub `abc` → SHA-256 `ba7816bf…` → `ba78-16bf`.
 */
import { createHash } from 'node:crypto';

/** Bytes of the digest the fingerprint shows. */
const FINGERPRINT_BYTES = 4;

/** The fingerprint of `sub` (see the module comment), e.g. `ba78-16bf`. */
export function pseudonymFingerprint(sub: string): string {
  const hex = createHash('sha256')
    .update(sub, 'utf8')
    .digest('hex')
    .slice(0, FINGERPRINT_BYTES * 2);
  return `${hex.slice(0, 4)}-${hex.slice(4)}`;
}

/**
 * Pairwise subject identifiers (OpenID Connect Core 1.0 §8.1): each sector sees its own `sub` for
 * one account, so relying parties cannot link a person by comparing identifiers.
 */
import { type KeyedHashSecret, keyedHash } from './keyed-hash.js';

const PAIRWISE_LABEL = 'myna-oidc/pairwise-sub/v1';

/**
 * The `sub` that the sector `sectorIdentifier` (the host of the client's redirect URIs, or of its
 * sector_identifier_uri) sees for the account `accountId`: HMAC-SHA-256 under the pairwise secret, base64url.
 */
export function pairwiseSubject(
  secret: KeyedHashSecret,
  sectorIdentifier: string,
  accountId: string,
): string {
  if (sectorIdentifier.length === 0) throw new TypeError('sector identifier must not be empty');
  return keyedHash(secret, PAIRWISE_LABEL, [sectorIdentifier, accountId]);
}

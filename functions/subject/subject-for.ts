/**
 * The `sub` a client sees for an account: the one rule the OP (oidc-provider's
 * `pairwiseIdentifier`) and the revocation notification job (logout tokens) both apply, so a
 * logout token always names the `sub` the RP received in its ID token.
 *
 * - `public` subject type: the account id itself;
 * - `pairwise` (the OP's default): pairwiseSubject() of the client's sector — the host name of its
 *   `sector_identifier_uri`, else of its first redirect URI (OIDC Core §8.1: the "host component",
 *   without scheme or port). Moving an RP to another port keeps every user's `sub`; on the default
 *   port (every production https RP) the host name equals oidc-provider's own rule (URL `host`,
 *   port included), so those subjects did not change when the port was dropped.
 */
import type { KeyedHashSecret } from './keyed-hash.js';
import { pairwiseSubject } from './pairwise-subject.js';

/** The OP's subject type when a client registers none. */
export const DEFAULT_SUBJECT_TYPE = 'pairwise';

/** The client metadata (as registered, snake_case) that decides a subject. */
export interface SubjectClient {
  readonly client_id?: string;
  readonly subject_type?: string;
  readonly sector_identifier_uri?: string;
  readonly redirect_uris?: readonly string[];
}

/** Raised when a pairwise client has neither a sector_identifier_uri nor a redirect URI. */
export class SubjectError extends Error {
  override name = 'SubjectError';
  readonly code = 'SECTOR_UNKNOWN';
}

/** The sector identifier of a pairwise client (see the module comment). */
export function sectorOf(client: SubjectClient): string {
  const uri = client.sector_identifier_uri ?? client.redirect_uris?.[0];
  if (typeof uri !== 'string') {
    throw new SubjectError(`client ${client.client_id ?? '(unnamed)'} has no sector identifier`);
  }
  return new URL(uri).hostname;
}

/** The `sub` that `client` sees for `accountId` under the deployment's subject secret. */
export function subjectFor(secret: KeyedHashSecret, client: SubjectClient, accountId: string): string {
  if ((client.subject_type ?? DEFAULT_SUBJECT_TYPE) === 'public') return accountId;
  return pairwiseSubject(secret, sectorOf(client), accountId);
}

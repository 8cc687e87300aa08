/**
 * Where an account's "My account" page session is stored: one item per account, model
 * ACCOUNT_SESSION_MODEL, id accountSessionId(accountId) — so whoever erases an account (the page
 * itself, `myna-oidc accounts erase`) finds and deletes it from the account id alone, with no
 * index. Node built-ins only: the account records (accounts/account-records.ts) use it without
 * loading the OP.
 */
import { createHash } from 'node:crypto';

/** The adapter model holding account-page sessions. */
export const ACCOUNT_SESSION_MODEL = 'MynaAccountSession';

/** The id of `accountId`'s account-page session item: SHA-256 of a label and the id, base64url. */
export function accountSessionId(accountId: string): string {
  return createHash('sha256').update(`myna-oidc/account-session/v1\u0000${accountId}`).digest('base64url');
}

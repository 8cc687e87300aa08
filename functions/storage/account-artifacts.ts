/**
 * An account's live grants and sessions, and revoking them: what the revocation notification job
 * does to an account whose certificate was revoked. Found through the account-index pointers the
 * adapter writes (oidc-adapter.ts, one Query), never a scan; a pointer that outlived its grant or
 * session is skipped. Revoking a grant also revokes every token and code issued under it.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AdapterPayload } from 'oidc-provider';
import type { Clock } from './expiry.js';
import { createDynamoAdapter, type DynamoAdapterConstructor, listAccountArtifacts } from './oidc-adapter.js';

/**
 * Models bound to a grant, revoked with it: oidc-provider's, and the OP's sealed claims
 * (op/sealed-claims.ts: the identity release's userinfo claims parked under an access token carry
 * its grant id).
 */
export const GRANT_BOUND_MODELS = [
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'MynaSealedClaims',
] as const;

/** `payload` when it is the one of session `id`. */
function sessionOf(payload: AdapterPayload | undefined, id: string): AdapterPayload | undefined {
  return payload?.jti === id ? payload : undefined;
}

/** A live grant of the account. */
export interface AccountGrant {
  readonly id: string;
  readonly clientId: string;
}

/** A live session of the account: when it logged in, and the `sid` each client got. */
export interface AccountSession {
  readonly id: string;
  readonly loginTs: number;
  readonly authorizations: Readonly<Record<string, { readonly sid?: string }>>;
}

/** What an account holds (sessions newest first). */
export interface AccountArtifactSet {
  readonly grants: readonly AccountGrant[];
  readonly sessions: readonly AccountSession[];
}

/** Options of AccountArtifacts. */
export interface AccountArtifactsOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Current time in epoch milliseconds (default Date.now); decides what has expired. */
  readonly now?: Clock;
  /** False: revoke with single-item deletes only, never BatchWriteItem (DynamoAdapterOptions.batchWrites). */
  readonly batchWrites?: boolean;
}

/** Finds and revokes an account's grants and sessions; see the module comment. */
export class AccountArtifacts {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #Adapter: DynamoAdapterConstructor;

  constructor(options: AccountArtifactsOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#Adapter = createDynamoAdapter(options);
  }

  /** The account's live grants and sessions. */
  async find(accountId: string): Promise<AccountArtifactSet> {
    const grants: AccountGrant[] = [];
    const sessions: AccountSession[] = [];
    for (const ref of await listAccountArtifacts(this.#client, this.#tableName, accountId)) {
      const adapter = new this.#Adapter(ref.model);
      // A session whose uid pointer was written without its item (a batch that gave up) still
      // signs its browser in through the pointer: found by its uid, and ended (destroy) with it.
      const payload =
        (await adapter.find(ref.id)) ??
        (ref.uid === undefined
          ? undefined
          : sessionOf((await adapter.findByUid(ref.uid)) ?? undefined, ref.id));
      if (payload?.accountId !== accountId) continue;
      if (ref.model === 'Grant' && typeof payload.clientId === 'string') {
        grants.push({ id: ref.id, clientId: payload.clientId });
      } else if (ref.model === 'Session') {
        sessions.push({
          id: ref.id,
          loginTs: Number(payload.loginTs ?? 0),
          authorizations: (payload.authorizations ?? {}) as AccountSession['authorizations'],
        });
      }
    }
    sessions.sort((a, b) => b.loginTs - a.loginTs);
    return { grants, sessions };
  }

  /** Revokes the grants (with their tokens and codes) and destroys the sessions; idempotent. */
  async revoke({ grants, sessions }: AccountArtifactSet): Promise<void> {
    for (const grant of grants) {
      for (const model of GRANT_BOUND_MODELS) await new this.#Adapter(model).revokeByGrantId(grant.id);
      await new this.#Adapter('Grant').destroy(grant.id);
    }
    for (const session of sessions) await new this.#Adapter('Session').destroy(session.id);
  }
}

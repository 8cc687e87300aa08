/**
 * Fewer DynamoDB reads for oidc-provider's adapter, without weaker guarantees:
 *
 * - **Client metadata is cached in the warm process** for CLIENT_CACHE_TTL_MS (60 s): every
 *   request of a login reads its client, and clients change only when an operator runs
 *   `myna-oidc clients add|update|remove`. A change therefore reaches every warm OP instance
 *   within 60 s (the operator CLI says so); a change made through this same adapter (local stack,
 *   tests) drops the cached entry at once. Only clients that exist are kept (an unknown client_id
 *   is read again each time, so a new client works at once and random ids cannot fill memory).
 * - **Reads that follow a token are made together**: when a request reads an authorization code,
 *   access or refresh token, oidc-provider next reads its session (session-bound tokens), grant and
 *   account, one after another; `RequestScope.prefetch` reads those three with one BatchGetItem.
 *   Nothing is cached across requests: a destroyed session or grant is seen at once.
 */
import type { AdapterPayload } from 'oidc-provider';
import { accountItemKey } from '../accounts/dynamo-account-store.js';
import {
  CLIENT_MODEL,
  type DynamoAdapterConstructor,
  modelItemKey,
  uidPointerKey,
} from '../storage/oidc-adapter.js';
import type { RequestScope } from '../storage/request-scope.js';
import type { TableKey } from '../storage/table.js';

/** How long a warm instance uses client metadata it read, ms (see the module comment). */
export const CLIENT_CACHE_TTL_MS = 60_000;
/** At most this many clients are kept (a deployment has a handful). */
const CLIENT_CACHE_ENTRIES = 1_000;

/** Models whose payload names a grant, an account and (session-bound) a session. */
const TOKEN_MODELS: ReadonlySet<string> = new Set(['AuthorizationCode', 'AccessToken', 'RefreshToken']);

/** What storageReads needs. */
export interface StorageReadsOptions {
  readonly scope: RequestScope;
  /** Current time in epoch milliseconds (default Date.now). */
  readonly now?: () => number;
}

interface CachedClient {
  readonly payload: AdapterPayload;
  readonly until: number;
}

/** The keys oidc-provider reads after a token with this payload. */
function followingReads(payload: AdapterPayload): TableKey[] {
  const keys: TableKey[] = [];
  if (typeof payload.grantId === 'string') keys.push(modelItemKey('Grant', payload.grantId));
  if (typeof payload.accountId === 'string') keys.push(accountItemKey(payload.accountId));
  if (payload.expiresWithSession === true && typeof payload.sessionUid === 'string') {
    keys.push(uidPointerKey('Session', payload.sessionUid));
  }
  return keys;
}

/** `Base` with the client cache and the prefetch of the module comment. */
export function storageReads(
  Base: DynamoAdapterConstructor,
  options: StorageReadsOptions,
): DynamoAdapterConstructor {
  const { scope, now = Date.now } = options;
  const clients = new Map<string, CachedClient>();

  return class StorageReadsAdapter extends Base {
    override async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === CLIENT_MODEL) {
        const cached = clients.get(id);
        if (cached && cached.until > now()) return structuredClone(cached.payload);
        const payload = (await super.find(id)) ?? undefined;
        clients.delete(id);
        if (payload) {
          if (clients.size >= CLIENT_CACHE_ENTRIES) clients.delete(clients.keys().next().value as string);
          clients.set(id, { payload: structuredClone(payload), until: now() + CLIENT_CACHE_TTL_MS });
        }
        return payload;
      }
      const payload = (await super.find(id)) ?? undefined;
      if (payload && TOKEN_MODELS.has(this.model)) scope.prefetch(followingReads(payload));
      return payload;
    }

    override async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      if (this.model === CLIENT_MODEL) clients.delete(id);
      await super.upsert(id, payload, expiresIn);
    }

    override async destroy(id: string): Promise<void> {
      if (this.model === CLIENT_MODEL) clients.delete(id);
      await super.destroy(id);
    }
  };
}

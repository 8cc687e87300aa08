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
 * - **At oidc-provider's token endpoint, tokens are written while the consume they are issued on
 *   is in flight**: there oidc-provider consumes a grant source (code, refresh token, device or
 *   CIBA request) only after every check of the code itself (client, expiry, PKCE, redirect URI)
 *   has passed, and then builds the tokens; the consume (one conditional UpdateItem, as always)
 *   is sent at once but not awaited there, and the first access or refresh token saved after it
 *   is sent together with it and waits for it. If the consume fails (another redemption won), that token is deleted and the
 *   save throws StorageError ALREADY_CONSUMED, which the OP answers with `invalid_grant`: no
 *   response carries a token whose consume failed, the losing token was never handed out, and
 *   of concurrent redemptions exactly one still succeeds. A request that ends with a consume
 *   nobody waited for waits for it and fails (500) if it failed — also one that a later check
 *   refused anyway. One round trip less at the token endpoint. Every other consume is awaited
 *   where it is made and throws there: outside a request scope, of any other model, and on any
 *   other route — the account page's in-process code exchange (account/code-exchange.ts) relies
 *   on its consume failing at the call, before it begins a session.
 */
import Provider, { type AdapterPayload } from 'oidc-provider';
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

/** Models oidc-provider issues on the strength of a consume (see the module comment). */
const ISSUED_MODELS: ReadonlySet<string> = new Set(['AccessToken', 'RefreshToken']);
/**
 * Grant sources: oidc-provider consumes them at the token endpoint and, on success, saves an
 * access token next. Any other consume (a pushed authorization request's) is awaited as usual.
 */
const GRANT_SOURCE_MODELS: ReadonlySet<string> = new Set([
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);

/** True while oidc-provider's token endpoint handles the current request. */
export function atTokenEndpoint(): boolean {
  return Provider.ctx?.oidc?.route === 'token';
}

/** What storageReads needs. */
export interface StorageReadsOptions {
  readonly scope: RequestScope;
  /** Current time in epoch milliseconds (default Date.now). */
  readonly now?: () => number;
  /**
   * Where a grant source's consume may be sent without being awaited (see the module comment):
   * default atTokenEndpoint. Inside a request scope only.
   */
  readonly defersConsume?: () => boolean;
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
  const { scope, now = Date.now, defersConsume = atTokenEndpoint } = options;
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
      const consume = ISSUED_MODELS.has(this.model) ? scope.tracked() : undefined;
      if (consume === undefined) return;
      // Sent now, alongside the consume in flight, which it then waits for.
      const [sent, consumed] = await Promise.allSettled([scope.flush(), consume]);
      if (consumed.status === 'rejected') {
        await super.destroy(id);
        await scope.flush();
        throw consumed.reason;
      }
      if (sent.status === 'rejected') throw sent.reason;
    }

    override async consume(id: string): Promise<void> {
      if (!GRANT_SOURCE_MODELS.has(this.model) || !scope.active || !defersConsume()) {
        return super.consume(id);
      }
      scope.track(super.consume(id));
    }

    override async destroy(id: string): Promise<void> {
      if (this.model === CLIENT_MODEL) clients.delete(id);
      await super.destroy(id);
    }
  };
}

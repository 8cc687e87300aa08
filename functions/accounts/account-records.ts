/**
 * The account items on the table (layout: dynamo-account-store.ts) read and removed as a whole:
 * everything the OP holds about one account (`holdings` for the account page, with `traces` for
 * the export), and
 * its erasure (`erase`, for the account services — the account page and `myna-oidc accounts
 * erase`, accounts/account-services.ts — and for the login that finds an account past its
 * retention). Needs no secret: it works on account ids and certificate keys only.
 */
import { randomBytes } from 'node:crypto';
import { DeleteItemCommand, type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { ACCOUNT_SESSION_MODEL, accountSessionId } from '../op/account/account-session-id.js';
import {
  type AccountArtifactSet,
  AccountArtifacts,
  type AccountGrant,
  type AccountSession,
} from '../storage/account-artifacts.js';
import { batchDelete } from '../storage/batch-delete.js';
import { writeIf } from '../storage/conditional-write.js';
import { type Clock, epochSeconds } from '../storage/expiry.js';
import { type LogoutDelivery, LogoutQueue } from '../storage/logout-queue.js';
import {
  accountArtifactRefKey,
  createDynamoAdapter,
  type DynamoAdapterConstructor,
  listAccountArtifacts,
  modelItemKey,
} from '../storage/oidc-adapter.js';
import { type ReleaseEntry, ReleaseHistory, type RetainedEvidenceLink } from '../storage/release-history.js';
import { RevocationAuditLog } from '../storage/revocation-audit.js';
import { itemKey, type TableKey } from '../storage/table.js';
import type { Account, AccountCertificate } from './account-store.js';

const ACCOUNT_KIND = 'ACCOUNT';
const CERTIFICATE_KIND = 'CERT';

/** Separates an account id's item part (a certificate key) from its random part. */
const ACCOUNT_ID_SEPARATOR = '.';

/**
 * A new account's id: `<certificate key of its first certificate>.<16 random bytes, base64url>`.
 * The item is keyed by the certificate key (so a returning login of that certificate finds it with
 * one write, dynamo-account-store.ts); the random part makes every account new: an account created
 * after an erasure of the same card's has another id, so every service sees a new pairwise `sub`.
 */
export function newAccountId(certificateKey: string): string {
  return `${certificateKey}${ACCOUNT_ID_SEPARATOR}${randomBytes(16).toString('base64url')}`;
}

/**
 * The key of the account item `find(accountId)` reads (e.g. to prefetch it): keyed by the id's
 * certificate-key part (the whole id of an account from before ids had a random part). The item
 * is the account's only when its `accountId` attribute is the whole id.
 */
export function accountItemKey(accountId: string): TableKey {
  return itemKey(ACCOUNT_KIND, accountId.split(ACCOUNT_ID_SEPARATOR, 1)[0] as string);
}

/** The key of the certificate pointer of a certificate key. */
export function certificatePointerKey(certificateKey: string): TableKey {
  return itemKey(CERTIFICATE_KIND, certificateKey);
}

/** The certificate key a pointer item's partition names. */
export function certificateKeyOfPointer(pk: string): string {
  return pk.slice(CERTIFICATE_KIND.length + 1);
}

/** A certificate entry as stored on the account item. */
export type StoredCertificate = Omit<AccountCertificate, 'certificateKey'>;

/** The account item as stored (after unmarshall). */
export interface StoredAccount {
  readonly accountId: string;
  readonly createdAt: string;
  /** Epoch seconds (the TTL attribute); absent on accounts from before retention. */
  readonly expiresAt?: number;
  readonly certificates: Readonly<Record<string, StoredCertificate>>;
}

/** A `CERT#<certificate key>` item: the account holding the certificate, its issuing CA key. */
export interface CertificatePointer {
  readonly accountId: string;
  /** Absent on a pointer written before the CA-key binding, until its next login. */
  readonly issuerKeyId?: string;
  /** Epoch seconds (the TTL attribute); absent on pointers from before retention. */
  readonly expiresAt?: number;
}

/** What `erase` removed. */
export interface ErasedAccount {
  readonly accountId: string;
  /** False when there was no account item (whatever else was found is erased all the same). */
  readonly found: boolean;
  readonly certificates: number;
  readonly grants: number;
  readonly sessions: number;
  readonly accountRefs: number;
  readonly revocationAudits: number;
  /** Release history entries (storage/release-history.ts). */
  readonly releases: number;
  /**
   * Retained identity evidence records whose link to the account was cut: the records stay until
   * their own expiry (a service's record-keeping duty), naming no account.
   */
  readonly retainedEvidence: number;
  /** Back-channel logout queue items that named the account (pending ones re-queued without it). */
  readonly logoutQueueItems: number;
}

/** What the OP holds about one account, as the account page shows it. */
export interface AccountHoldings {
  /** The account, also when it has expired but is not erased yet; undefined when absent. */
  readonly account: Account | undefined;
  readonly grants: AccountArtifactSet['grants'];
  readonly sessions: AccountArtifactSet['sessions'];
  /** The release history still held, oldest first. */
  readonly releases: readonly ReleaseEntry[];
  /** Links to identity evidence records retained for services, oldest first. */
  readonly evidence: readonly RetainedEvidenceLink[];
}

/** The traces of an account in the job's records (the export shows them; erase removes them). */
export interface AccountTraces {
  /** The revocation notification job's records about the account's certificates. */
  readonly revocationAudits: readonly Record<string, unknown>[];
  /** Back-channel logout queue items naming the account or one of its certificates. */
  readonly logoutQueue: readonly (LogoutDelivery & { readonly sk: string })[];
}

/** What `erase` removes besides the account's own items. */
export interface EraseOptions {
  /** Pointers of these certificate keys too, when they still name the account. */
  readonly alsoCertificateKeys?: readonly string[];
  /**
   * The revocation job's audit records naming the account (default true). The OP's login leaves
   * them (they are the job's records, outside the partitions the OP may write).
   */
  readonly revocationAudits?: boolean;
  /**
   * Take the account off the back-channel logout queue (default true): one Query of the queue's
   * partition. The login that erases an expired account leaves it (the job's deliveries expire).
   */
  readonly logoutQueue?: boolean;
}

/** Options of AccountRecords. */
export interface AccountRecordsOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Current time in epoch milliseconds (default Date.now); decides which grants are live. */
  readonly now?: Clock;
  /** The release history (default: on the same table, default retention). */
  readonly history?: ReleaseHistory;
}

/** Reads and erases whole accounts; see the module comment. */
export class AccountRecords {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #artifacts: AccountArtifacts;
  readonly #audits: RevocationAuditLog;
  readonly #Adapter: DynamoAdapterConstructor;
  readonly #now: Clock;
  readonly #history: ReleaseHistory;
  readonly #logoutQueue: LogoutQueue;

  constructor(options: AccountRecordsOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#artifacts = new AccountArtifacts(options);
    this.#audits = new RevocationAuditLog(options);
    this.#Adapter = createDynamoAdapter(options);
    this.#now = options.now ?? Date.now;
    this.#history = options.history ?? new ReleaseHistory(options);
    this.#logoutQueue = new LogoutQueue(options);
  }

  /** The account's live grants and sessions (sessions newest first). */
  artifacts(accountId: string): Promise<AccountArtifactSet> {
    return this.#artifacts.find(accountId);
  }

  /** Revokes these grants with every token and code issued under them; idempotent. */
  revokeGrants(grants: readonly AccountGrant[]): Promise<void> {
    return this.#artifacts.revoke({ grants, sessions: [] });
  }

  /** Ends these sessions (their refresh tokens bound to the session stop working); idempotent. */
  revokeSessions(sessions: readonly AccountSession[]): Promise<void> {
    return this.#artifacts.revoke({ grants: [], sessions });
  }

  /**
   * Takes `clientId` out of session `sessionId` (its `sid` and grant link), keeping the session
   * and its expiry for the other clients: the next authorization request of that client starts
   * without a grant. Nothing when the session is gone.
   */
  async removeFromSession(sessionId: string, clientId: string): Promise<void> {
    const sessions = new this.#Adapter('Session');
    const payload = await sessions.find(sessionId);
    const authorizations = payload?.authorizations;
    if (!payload || !authorizations || !(clientId in authorizations)) return;
    const { [clientId]: _removed, ...kept } = authorizations;
    const expiresIn = Number(payload.exp) - epochSeconds(this.#now());
    if (!(expiresIn > 0)) return;
    await sessions.upsert(sessionId, { ...payload, authorizations: kept }, expiresIn);
  }

  /**
   * The account item as stored, expired or not (strongly consistent); undefined when absent or
   * when its key holds another account (created after this one was erased).
   */
  async stored(accountId: string): Promise<StoredAccount | undefined> {
    const stored = await this.storedAt(accountItemKey(accountId));
    return stored?.accountId === accountId ? stored : undefined;
  }

  /** The account item under `key`, whichever account it is (strongly consistent). */
  async storedAt(key: TableKey): Promise<StoredAccount | undefined> {
    const { Item } = await this.#client.send(
      new GetItemCommand({ TableName: this.#tableName, Key: marshall(key), ConsistentRead: true }),
    );
    return Item && (unmarshall(Item) as StoredAccount);
  }

  /** The pointer of the certificate with this key, if any (expired or not; strongly consistent). */
  async pointer(certificateKey: string): Promise<CertificatePointer | undefined> {
    const { Item } = await this.#client.send(
      new GetItemCommand({
        TableName: this.#tableName,
        Key: marshall(certificatePointerKey(certificateKey)),
        ConsistentRead: true,
      }),
    );
    return Item && (unmarshall(Item) as CertificatePointer);
  }

  /** What the OP holds about the account, as the account page shows it (see AccountTraces for the rest). */
  async holdings(accountId: string): Promise<AccountHoldings> {
    const stored = await this.stored(accountId);
    const { grants, sessions } = await this.#artifacts.find(accountId);
    const { releases, evidence } = await this.#history.read(accountId);
    return { account: stored && toAccount(stored), grants, sessions, releases, evidence };
  }

  /**
   * The account's traces in the job's records: the audit record of each of `certificateKeys` (one
   * GetItem each) that names the account, and the logout queue items naming it (one Query).
   */
  async traces(accountId: string, certificateKeys: readonly string[]): Promise<AccountTraces> {
    return {
      revocationAudits: await this.#auditsOf(accountId, certificateKeys),
      logoutQueue: await this.#logoutQueue.namingAccount(accountId, certificateKeys),
    };
  }

  /**
   * Erases the account: its grants (with their tokens and codes) and sessions, its account-index
   * pointers, its account-page session, its release history with its links to retained identity
   * evidence (the records stay, unlinked, until their own expiry), the revocation job's audit records of its certificates, its
   * traces on the back-channel logout queue, the pointers of its certificates, then the account
   * item (see EraseOptions). Idempotent; a run interrupted by a
   * crash is completed by running it again (the account item, which names the certificates, goes
   * last).
   */
  async erase(accountId: string, options: EraseOptions = {}): Promise<ErasedAccount> {
    const stored = await this.stored(accountId);
    const artifacts = await this.#artifacts.find(accountId);
    await this.#artifacts.revoke(artifacts);
    const refs = await listAccountArtifacts(this.#client, this.#tableName, accountId);
    // With the account-index pointers: the account page's session item (op/account/), if any.
    await batchDelete(this.#client, this.#tableName, [
      ...refs.map((ref) => marshall(accountArtifactRefKey(accountId, ref))),
      marshall(modelItemKey(ACCOUNT_SESSION_MODEL, accountSessionId(accountId))),
    ]);
    const { releases, evidenceLinks } = await this.#history.eraseAll(accountId);
    const certificateKeys = Object.keys(stored?.certificates ?? {});
    const allKeys = [...new Set([...certificateKeys, ...(options.alsoCertificateKeys ?? [])])];
    const audits = options.revocationAudits === false ? [] : await this.#auditsOf(accountId, allKeys);
    for (const audit of audits) await this.#audits.remove(String(audit.certificateKey));
    const logoutQueueItems =
      options.logoutQueue === false ? 0 : await this.#logoutQueue.forgetAccount(accountId, certificateKeys);
    for (const key of allKeys) await this.#deleteNaming(certificatePointerKey(key), accountId);
    // Unless its key holds another account by now.
    await this.#deleteNaming(accountItemKey(accountId), accountId);
    return {
      accountId,
      found: stored !== undefined,
      certificates: certificateKeys.length,
      grants: artifacts.grants.length,
      sessions: artifacts.sessions.length,
      accountRefs: refs.length,
      revocationAudits: audits.length,
      releases,
      retainedEvidence: evidenceLinks,
      logoutQueueItems,
    };
  }

  /** The audit records of `certificateKeys` that name the account (one GetItem each, never the whole partition). */
  async #auditsOf(accountId: string, certificateKeys: readonly string[]): Promise<Record<string, unknown>[]> {
    const records: Record<string, unknown>[] = [];
    for (const key of certificateKeys) {
      const record = await this.#audits.find(key);
      if (record?.accountId === accountId) records.push(record);
    }
    return records;
  }

  /** Deletes the item (a certificate pointer, the account item) only while it names `accountId`. */
  async #deleteNaming(key: TableKey, accountId: string): Promise<void> {
    await writeIf(
      this.#client,
      new DeleteItemCommand({
        TableName: this.#tableName,
        Key: marshall(key),
        ConditionExpression: 'accountId = :accountId',
        ExpressionAttributeValues: marshall({ ':accountId': accountId }),
      }),
    );
  }
}

/** The account as the store hands it out, from its stored item. */
export function toAccount(stored: StoredAccount): Account {
  const certificates = Object.entries(stored.certificates)
    .map(([certificateKey, entry]) => {
      // Entries from before data minimisation may still hold the certificate's notAfter until
      // their next login: it is never read or shown. The pointer's expiry an entry records is the
      // login's bookkeeping (dynamo-account-store.ts recordKnownCertificate), not the account's.
      const {
        notAfter: _unused,
        pointerExpiresAt: _bookkeeping,
        ...kept
      } = entry as StoredCertificate & { notAfter?: string; pointerExpiresAt?: number };
      return { certificateKey, ...kept };
    })
    .sort(
      (a, b) =>
        a.firstSeenAt.localeCompare(b.firstSeenAt) || a.certificateKey.localeCompare(b.certificateKey),
    );
  return {
    accountId: stored.accountId,
    createdAt: stored.createdAt,
    ...(stored.expiresAt === undefined ? {} : { expiresAt: new Date(stored.expiresAt * 1000).toISOString() }),
    certificates,
  };
}

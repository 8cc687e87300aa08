/**
 * The release history of an account: for each sign-in that reached a service, which service, when,
 * and the NAMES of the scopes and claims it received (for an identity verification, the names of
 * the facts released) — never a value. The account page and the export show it
 * (accounts/account-services.ts).
 *
 * Items: `ReleaseHistory#<account id>` / `<ISO time>#<random>` (one partition per account, so
 * `list` is one strongly consistent Query in time order and `eraseAll` a Query plus batch
 * deletes), with `clientId`, `at`, `scopes`, `claims`, `identityClaims` and `expiresAt` (the TTL
 * attribute: `at` + the retention period, default defaults.ts DEFAULT_RELEASE_HISTORY_RETENTION_DAYS).
 * TTL deletes late, so `list` leaves out what has expired.
 *
 * `record` is ONE unconditional PutItem: inside a request scope (storage/request-scope.ts) it is
 * held and joins the request's one BatchWriteItem, so the login costs no extra DynamoDB call.
 *
 * The same partition holds the account's links to retained identity evidence
 * (storage/identity-evidence.ts; `recordEvidence`, when the OP retains a record for a service's
 * record-keeping duty): `<ISO time>#evidence#<record id>` with `clientId`, `recordId`,
 * `createdAt`, `keptUntil` (the record's own expiry, also the link's TTL). Never the record's
 * content. `eraseAll` deletes the links with the history: the record itself stays until its own
 * expiry, naming no account.
 */
import { randomUUID } from 'node:crypto';
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { DEFAULT_RELEASE_HISTORY_RETENTION_DAYS } from '../defaults.js';
import { batchDelete } from './batch-delete.js';
import { type Clock, epochSeconds, expiresAtAfter, hasExpired } from './expiry.js';
import { partitionQuery, queryPages } from './query-pages.js';
import { EXPIRES_AT_ATTRIBUTE, itemKey } from './table.js';

const HISTORY_KIND = 'ReleaseHistory';
const DAY_SECONDS = 24 * 60 * 60;

/** One release: a service received these scope and claim names at `at`. */
export interface ReleaseEntry {
  readonly accountId: string;
  readonly clientId: string;
  readonly at: Date;
  readonly scopes: readonly string[];
  /** Claim names the service can receive under the grant (ID token and userinfo). */
  readonly claims: readonly string[];
  /** Names of the identity facts released in this sign-in (identity verification), if any. */
  readonly identityClaims?: readonly string[];
}

/** The account's link to an identity evidence record the OP retains for a service. */
export interface RetainedEvidenceLink {
  readonly accountId: string;
  readonly clientId: string;
  readonly recordId: string;
  readonly createdAt: Date;
  /** The record's own expiry: it is kept until then, also after an erasure (without this link). */
  readonly keptUntil: Date;
}

/** What the partition holds for one account: releases and evidence links, oldest first. */
export interface AccountReleaseData {
  readonly releases: readonly ReleaseEntry[];
  readonly evidence: readonly RetainedEvidenceLink[];
}

/** What `eraseAll` deleted. */
export interface ErasedReleaseData {
  readonly releases: number;
  readonly evidenceLinks: number;
}

/** Options of ReleaseHistory. */
export interface ReleaseHistoryOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** How long an entry is kept, days (default DEFAULT_RELEASE_HISTORY_RETENTION_DAYS). */
  readonly retentionDays?: number;
  /** Current time in epoch milliseconds (default Date.now); decides what has expired. */
  readonly now?: Clock;
}

interface StoredEntry {
  readonly pk: string;
  readonly sk: string;
  readonly clientId: string;
  readonly at: string;
  readonly scopes?: string[];
  readonly claims?: string[];
  readonly identityClaims?: string[];
  /** Evidence links only. */
  readonly recordId?: string;
  readonly keptUntil?: string;
  readonly expiresAt?: number;
}

/** The release history; see the module comment. */
export class ReleaseHistory {
  readonly retentionDays: number;
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #now: Clock;

  constructor(options: ReleaseHistoryOptions) {
    const retentionDays = options.retentionDays ?? DEFAULT_RELEASE_HISTORY_RETENTION_DAYS;
    if (!Number.isInteger(retentionDays) || retentionDays < 1) {
      throw new RangeError(
        `release history retention must be a whole number of days >= 1, not ${retentionDays}`,
      );
    }
    this.retentionDays = retentionDays;
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#now = options.now ?? Date.now;
  }

  /** Records one release (one unconditional PutItem; see the module comment). */
  async record(entry: ReleaseEntry): Promise<void> {
    const at = entry.at.getTime();
    const item = {
      ...itemKey(HISTORY_KIND, entry.accountId, `${entry.at.toISOString()}#${randomUUID()}`),
      clientId: entry.clientId,
      at: entry.at.toISOString(),
      scopes: [...new Set(entry.scopes)],
      claims: [...new Set(entry.claims)],
      ...(entry.identityClaims?.length ? { identityClaims: [...new Set(entry.identityClaims)] } : {}),
      [EXPIRES_AT_ATTRIBUTE]: expiresAtAfter(at, this.retentionDays * DAY_SECONDS),
    };
    await this.#client.send(new PutItemCommand({ TableName: this.#tableName, Item: marshall(item) }));
  }

  /**
   * Links the account to the evidence record the OP has just retained for a service (one
   * unconditional PutItem, expiring with the record); see the module comment.
   */
  async recordEvidence(link: RetainedEvidenceLink): Promise<void> {
    const item = {
      ...itemKey(HISTORY_KIND, link.accountId, `${link.createdAt.toISOString()}#evidence#${link.recordId}`),
      clientId: link.clientId,
      at: link.createdAt.toISOString(),
      recordId: link.recordId,
      keptUntil: link.keptUntil.toISOString(),
      [EXPIRES_AT_ATTRIBUTE]: epochSeconds(link.keptUntil.getTime()),
    };
    await this.#client.send(new PutItemCommand({ TableName: this.#tableName, Item: marshall(item) }));
  }

  /** The account's unexpired releases, oldest first. */
  async list(accountId: string): Promise<ReleaseEntry[]> {
    return [...(await this.read(accountId)).releases];
  }

  /** The account's unexpired releases and evidence links, oldest first (one Query). */
  async read(accountId: string): Promise<AccountReleaseData> {
    const nowMs = this.#now();
    const releases: ReleaseEntry[] = [];
    const evidence: RetainedEvidenceLink[] = [];
    for (const stored of await this.#stored(accountId)) {
      if (hasExpired(stored.expiresAt, nowMs)) continue;
      const { clientId } = stored;
      if (stored.recordId !== undefined) {
        const keptUntil = new Date(stored.keptUntil ?? 0);
        if (!(nowMs < keptUntil.getTime())) continue;
        evidence.push({
          accountId,
          clientId,
          recordId: stored.recordId,
          createdAt: new Date(stored.at),
          keptUntil,
        });
        continue;
      }
      releases.push({
        accountId,
        clientId,
        at: new Date(stored.at),
        scopes: stored.scopes ?? [],
        claims: stored.claims ?? [],
        ...(stored.identityClaims ? { identityClaims: stored.identityClaims } : {}),
      });
    }
    return { releases, evidence };
  }

  /**
   * Deletes every entry of the account, expired or not — its releases and its links to retained
   * evidence (the records stay, unlinked); returns how many of each there were.
   */
  async eraseAll(accountId: string): Promise<ErasedReleaseData> {
    const stored = await this.#stored(accountId);
    await batchDelete(
      this.#client,
      this.#tableName,
      stored.map(({ pk, sk }) => marshall({ pk, sk })),
    );
    const evidenceLinks = stored.filter((entry) => entry.recordId !== undefined).length;
    return { releases: stored.length - evidenceLinks, evidenceLinks };
  }

  async #stored(accountId: string): Promise<StoredEntry[]> {
    const entries: StoredEntry[] = [];
    const query = partitionQuery(this.#tableName, itemKey(HISTORY_KIND, accountId).pk);
    for await (const items of queryPages(this.#client, query)) {
      for (const item of items) entries.push(unmarshall(item) as StoredEntry);
    }
    return entries;
  }
}

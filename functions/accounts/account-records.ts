/**
 * The account items on the table (layout: dynamo-account-store.ts) read and removed as a whole:
 * everything the OP holds about one account (`holdings`, for `myna-oidc accounts export`), and
 * its erasure (`erase`, for `myna-oidc accounts erase` and for the login that finds an account
 * past its retention). Needs no secret: it works on account ids and certificate keys only.
 */
import { DeleteItemCommand, type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { type AccountArtifactSet, AccountArtifacts } from '../storage/account-artifacts.js';
import { batchDelete } from '../storage/batch-delete.js';
import { writeIf } from '../storage/conditional-write.js';
import type { Clock } from '../storage/expiry.js';
import { accountArtifactRefKey, listAccountArtifacts } from '../storage/oidc-adapter.js';
import { RevocationAuditLog } from '../storage/revocation-audit.js';
import { itemKey, type TableKey } from '../storage/table.js';
import type { Account, AccountCertificate } from './account-store.js';

const ACCOUNT_KIND = 'ACCOUNT';
const CERTIFICATE_KIND = 'CERT';

/** The key of the account item `find(accountId)` reads (e.g. to prefetch it). */
export function accountItemKey(accountId: string): TableKey {
  return itemKey(ACCOUNT_KIND, accountId);
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
}

/** Everything the OP holds about one account. */
export interface AccountHoldings {
  /** The account, also when it has expired but is not erased yet; undefined when absent. */
  readonly account: Account | undefined;
  readonly grants: AccountArtifactSet['grants'];
  readonly sessions: AccountArtifactSet['sessions'];
  /** The revocation notification job's records about the account's certificates. */
  readonly revocationAudits: readonly Record<string, unknown>[];
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
}

/** Options of AccountRecords. */
export interface AccountRecordsOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Current time in epoch milliseconds (default Date.now); decides which grants are live. */
  readonly now?: Clock;
}

/** Reads and erases whole accounts; see the module comment. */
export class AccountRecords {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #artifacts: AccountArtifacts;
  readonly #audits: RevocationAuditLog;

  constructor(options: AccountRecordsOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#artifacts = new AccountArtifacts(options);
    this.#audits = new RevocationAuditLog(options);
  }

  /** The account item as stored, expired or not (strongly consistent). */
  async stored(accountId: string): Promise<StoredAccount | undefined> {
    const { Item } = await this.#client.send(
      new GetItemCommand({
        TableName: this.#tableName,
        Key: marshall(accountItemKey(accountId)),
        ConsistentRead: true,
      }),
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

  /** Everything the OP holds about the account. */
  async holdings(accountId: string): Promise<AccountHoldings> {
    const stored = await this.stored(accountId);
    const { grants, sessions } = await this.#artifacts.find(accountId);
    return {
      account: stored && toAccount(stored),
      grants,
      sessions,
      revocationAudits: await this.#auditsOf(accountId),
    };
  }

  /**
   * Erases the account: its grants (with their tokens and codes) and sessions, its account-index
   * pointers, the revocation job's audit records of its certificates, the pointers of its
   * certificates, then the account item (see EraseOptions). Idempotent; a run interrupted by a
   * crash is completed by running it again (the account item, which names the certificates, goes
   * last).
   */
  async erase(accountId: string, options: EraseOptions = {}): Promise<ErasedAccount> {
    const stored = await this.stored(accountId);
    const artifacts = await this.#artifacts.find(accountId);
    await this.#artifacts.revoke(artifacts);
    const refs = await listAccountArtifacts(this.#client, this.#tableName, accountId);
    await batchDelete(
      this.#client,
      this.#tableName,
      refs.map((ref) => marshall(accountArtifactRefKey(accountId, ref))),
    );
    const audits = options.revocationAudits === false ? [] : await this.#auditsOf(accountId);
    for (const audit of audits) await this.#audits.remove(String(audit.certificateKey));
    const certificateKeys = Object.keys(stored?.certificates ?? {});
    for (const key of new Set([...certificateKeys, ...(options.alsoCertificateKeys ?? [])])) {
      await this.#deletePointer(key, accountId);
    }
    await this.#client.send(
      new DeleteItemCommand({ TableName: this.#tableName, Key: marshall(accountItemKey(accountId)) }),
    );
    return {
      accountId,
      found: stored !== undefined,
      certificates: certificateKeys.length,
      grants: artifacts.grants.length,
      sessions: artifacts.sessions.length,
      accountRefs: refs.length,
      revocationAudits: audits.length,
    };
  }

  /** The audit records naming the account (a Query of the audit partition). */
  async #auditsOf(accountId: string): Promise<Record<string, unknown>[]> {
    return (await this.#audits.list()).filter((record) => record.accountId === accountId);
  }

  /** Deletes a certificate pointer unless it names another account. */
  async #deletePointer(certificateKey: string, accountId: string): Promise<void> {
    await writeIf(
      this.#client,
      new DeleteItemCommand({
        TableName: this.#tableName,
        Key: marshall(certificatePointerKey(certificateKey)),
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

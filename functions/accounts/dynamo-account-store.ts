/**
 * Accounts in DynamoDB. Items (see storage/table.ts):
 * - `ACCOUNT#<accountId>`: accountId, createdAt, and `certificates`, a map certificate key →
 *   { issuerGeneration, notAfter, firstSeenAt, lastSeenAt } (a map, so adding one certificate or
 *   touching its lastSeenAt is a single-path update that cannot clobber a concurrent one);
 * - `CERT#<certificateKey>`: the accountId holding that certificate.
 * Only keyed hashes (account keys) are written, never a raw serial. Writes are ordered so a crash
 * between two of them leaves nothing a later login cannot complete: an account is created before
 * its certificate pointer, a pointer is written before its certificate entry. No transactions.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { ParsedCertificate } from '../jpki/certificate.js';
import { batchGet } from '../storage/batch-get.js';
import type { Clock } from '../storage/expiry.js';
import { itemKey, PARTITION_KEY, type TableKey } from '../storage/table.js';
import { accountKey } from '../subject/account-key.js';
import type { KeyedHashSecret } from '../subject/keyed-hash.js';
import type {
  Account,
  AccountCertificate,
  AccountStore,
  LoginCertificate,
  PredecessorSource,
} from './account-store.js';

const ACCOUNT_KIND = 'ACCOUNT';
const CERTIFICATE_KIND = 'CERT';

/** The key of the account item `find(accountId)` reads (e.g. to prefetch it). */
export function accountItemKey(accountId: string): TableKey {
  return itemKey(ACCOUNT_KIND, accountId);
}

/** The store's data is inconsistent in a way a login cannot repair. */
export class AccountStoreError extends Error {
  override name = 'AccountStoreError';
  /** ACCOUNT_MISSING: a certificate pointer names an account that does not exist. */
  readonly code = 'ACCOUNT_MISSING';
}

/** Options of DynamoAccountStore. */
export interface DynamoAccountStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** The certificate-key secret of accountKey(), to find the account of a predecessor certificate. */
  readonly secret: KeyedHashSecret;
  readonly predecessors: PredecessorSource;
  /** Current time in epoch milliseconds (default Date.now). */
  readonly now?: Clock;
}

type StoredCertificate = Omit<AccountCertificate, 'certificateKey'>;

interface StoredAccount {
  readonly accountId: string;
  readonly createdAt: string;
  readonly certificates: Readonly<Record<string, StoredCertificate>>;
}

/** AccountStore on the single table; see the module comment. */
export class DynamoAccountStore implements AccountStore {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly secret: KeyedHashSecret;
  private readonly predecessors: PredecessorSource;
  private readonly now: Clock;

  constructor(options: DynamoAccountStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.secret = options.secret;
    this.predecessors = options.predecessors;
    this.now = options.now ?? Date.now;
  }

  /**
   * (a) the account already holding the certificate; else (b) the account holding its predecessor
   * (the certificate pointer is claimed conditionally); else (c) a new account with id = the
   * certificate key (conditional put; a concurrent creator's account wins and is used). Then
   * records the certificate on the account (lastSeenAt).
   */
  async accountForLogin(login: LoginCertificate): Promise<Account> {
    const seenAt = new Date(this.now()).toISOString();
    let accountId = await this.accountOfCertificate(login.certificateKey);
    if (accountId === undefined) {
      const candidate =
        (await this.accountOfPredecessor(login.certificate)) ?? (await this.createAccount(login, seenAt));
      accountId = await this.claimCertificate(login.certificateKey, candidate);
    }
    return this.recordCertificate(accountId, login, seenAt);
  }

  async find(accountId: string): Promise<Account | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: marshall(itemKey(ACCOUNT_KIND, accountId)),
        ConsistentRead: true,
      }),
    );
    return Item && toAccount(unmarshall(Item) as StoredAccount);
  }

  /** certificate key → account id for the certificates some account holds (BatchGetItem of CERT# pointers). */
  async accountsOfCertificateKeys(certificateKeys: readonly string[]): Promise<Map<string, string>> {
    const items = await batchGet(
      this.client,
      this.tableName,
      certificateKeys.map((key) => marshall(itemKey(CERTIFICATE_KIND, key))),
    );
    const found = new Map<string, string>();
    for (const item of items) {
      const { pk, accountId } = unmarshall(item) as { pk: string; accountId: string };
      found.set(pk.slice(CERTIFICATE_KIND.length + 1), accountId);
    }
    return found;
  }

  /**
   * Marks the certificate revoked on the account (revokedAt, revocationReason), once: a conditional
   * update that is a no-op when it is already marked. Returns false when the account does not hold
   * the certificate or it was marked before.
   */
  async markCertificateRevoked(
    accountId: string,
    certificateKey: string,
    revocation: { reason: string; revokedAt: Date },
  ): Promise<boolean> {
    const updated = await this.conditionally(() =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall(itemKey(ACCOUNT_KIND, accountId)),
          UpdateExpression:
            'SET certificates.#key.revokedAt = :at, certificates.#key.revocationReason = :reason',
          ConditionExpression:
            'attribute_exists(certificates.#key) AND attribute_not_exists(certificates.#key.revokedAt)',
          ExpressionAttributeNames: { '#key': certificateKey },
          ExpressionAttributeValues: marshall({
            ':at': revocation.revokedAt.toISOString(),
            ':reason': revocation.reason,
          }),
        }),
      ),
    );
    return updated !== undefined;
  }

  private async accountOfCertificate(certificateKey: string): Promise<string | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: marshall(itemKey(CERTIFICATE_KIND, certificateKey)),
        ConsistentRead: true,
      }),
    );
    return Item && (unmarshall(Item).accountId as string);
  }

  private async accountOfPredecessor(certificate: ParsedCertificate): Promise<string | undefined> {
    const serial = await this.predecessors.predecessorSerial(certificate);
    return serial && this.accountOfCertificate(accountKey(this.secret, certificate.issuer, serial));
  }

  /** Creates the account of a first certificate unless it exists; returns its id either way. */
  private async createAccount(login: LoginCertificate, seenAt: string): Promise<string> {
    const accountId = login.certificateKey;
    const account: StoredAccount = {
      accountId,
      createdAt: seenAt,
      certificates: { [login.certificateKey]: newEntry(login, seenAt) },
    };
    await this.conditionally(() =>
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall({ ...itemKey(ACCOUNT_KIND, accountId), ...account }),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
        }),
      ),
    );
    return accountId;
  }

  /** Points the certificate at `accountId` unless it already points elsewhere; returns the winner. */
  private async claimCertificate(certificateKey: string, accountId: string): Promise<string> {
    const claimed = await this.conditionally(() =>
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall({ ...itemKey(CERTIFICATE_KIND, certificateKey), accountId }),
          ConditionExpression: 'attribute_not_exists(#pk) OR accountId = :accountId',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
          ExpressionAttributeValues: marshall({ ':accountId': accountId }),
        }),
      ),
    );
    if (claimed) return accountId;
    const winner = await this.accountOfCertificate(certificateKey);
    if (winner === undefined) throw new AccountStoreError('a certificate pointer vanished while claimed');
    return winner;
  }

  /** Sets the certificate's lastSeenAt on the account, adding its entry when it has none yet. */
  private async recordCertificate(
    accountId: string,
    login: LoginCertificate,
    seenAt: string,
  ): Promise<Account> {
    const base = {
      TableName: this.tableName,
      Key: marshall(itemKey(ACCOUNT_KIND, accountId)),
      ReturnValues: 'ALL_NEW',
    } satisfies Partial<UpdateItemCommandInput>;
    const touched = await this.conditionally(() =>
      this.client.send(
        new UpdateItemCommand({
          ...base,
          UpdateExpression: 'SET certificates.#key.lastSeenAt = :seenAt',
          ConditionExpression: 'attribute_exists(certificates.#key)',
          ExpressionAttributeNames: { '#key': login.certificateKey },
          ExpressionAttributeValues: marshall({ ':seenAt': seenAt }),
        }),
      ),
    );
    const added =
      touched ??
      (await this.conditionally(() =>
        this.client.send(
          new UpdateItemCommand({
            ...base,
            UpdateExpression: 'SET certificates.#key = if_not_exists(certificates.#key, :entry)',
            ConditionExpression: 'attribute_exists(#pk)',
            ExpressionAttributeNames: { '#key': login.certificateKey, '#pk': PARTITION_KEY },
            ExpressionAttributeValues: marshall({ ':entry': newEntry(login, seenAt) }),
          }),
        ),
      ));
    if (!added?.Attributes) throw new AccountStoreError('a certificate points to a missing account');
    return toAccount(unmarshall(added.Attributes) as StoredAccount);
  }

  /** Runs a conditional write; undefined when its condition failed. */
  private async conditionally<T>(write: () => Promise<T>): Promise<T | undefined> {
    try {
      return await write();
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }
}

function newEntry(login: LoginCertificate, seenAt: string): StoredCertificate {
  return {
    issuerGeneration: login.issuerGeneration,
    notAfter: login.certificate.notAfter.toISOString(),
    firstSeenAt: seenAt,
    lastSeenAt: seenAt,
  };
}

function toAccount(stored: StoredAccount): Account {
  const certificates = Object.entries(stored.certificates)
    .map(([certificateKey, entry]) => ({ certificateKey, ...entry }))
    .sort(
      (a, b) =>
        a.firstSeenAt.localeCompare(b.firstSeenAt) || a.certificateKey.localeCompare(b.certificateKey),
    );
  return { accountId: stored.accountId, createdAt: stored.createdAt, certificates };
}

/**
 * Accounts in DynamoDB. Items (see storage/table.ts):
 * - `ACCOUNT#<certificate key of its first certificate>` (account-records.ts accountItemKey; the
 *   account id is that key plus a random part, newAccountId): accountId, createdAt, `expiresAt` (the TTL attribute: the last login +
 *   the retention period) and `certificates`, a map certificate key → { issuerKeyId,
 *   issuerGeneration, issuedAt (the notBefore day), firstSeenAt, lastSeenAt, pointerExpiresAt } (a map, so adding one
 *   certificate or touching its lastSeenAt is a single-path update that cannot clobber a
 *   concurrent one; `pointerExpiresAt` is the expiry of the certificate's pointer as the last login
 *   that checked it saw it, so a returning certificate's login is one UpdateItem:
 *   recordKnownCertificate);
 * - `CERT#<certificateKey>`: the accountId holding that certificate and the issuing CA key it is
 *   bound to (account-store.ts), with an `expiresAt` CERTIFICATE_POINTER_SLACK_DAYS past its
 *   account's, written again only when a login finds it nearer than the retention period.
 * Only keyed hashes (certificate keys) are written, never a raw serial, and nothing of the
 * certificate itself (not its expiry). Writes are ordered so a crash between two of them leaves
 * nothing a later login cannot complete: an account is created before its certificate pointer, a
 * pointer is written before its certificate entry. No transactions.
 *
 * Retention: every read checks `expiresAt` (TTL deletes late; dynalite never does). A login whose
 * pointer names an expired or vanished account erases what is left of it and starts a new account.
 * Erasure and export of whole accounts: account-records.ts.
 */
import {
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { CERTIFICATE_POINTER_SLACK_DAYS, DEFAULT_ACCOUNT_RETENTION_DAYS } from '../defaults.js';
import type { ParsedCertificate } from '../jpki/certificate.js';
import { VerificationError } from '../jpki/errors.js';
import { type OpLogger, stderrLogger } from '../log/logger.js';
import { batchGet } from '../storage/batch-get.js';
import { sendIf } from '../storage/conditional-write.js';
import { type Clock, epochSeconds, hasExpired } from '../storage/expiry.js';
import { PARTITION_KEY } from '../storage/table.js';
import { certificateKey } from '../subject/certificate-key.js';
import type { KeyedHashSecret } from '../subject/keyed-hash.js';
import {
  AccountRecords,
  accountItemKey,
  type CertificatePointer,
  certificateKeyOfPointer,
  certificatePointerKey,
  newAccountId,
  type StoredAccount,
  type StoredCertificate,
  toAccount,
} from './account-records.js';
import type {
  Account,
  AccountStore,
  KnownAccount,
  LoginCertificate,
  PredecessorSource,
} from './account-store.js';

export { accountItemKey } from './account-records.js';

const DAY_SECONDS = 24 * 3600;
/** The condition of an account that exists and is within its retention (`:now` in epoch seconds). */
const LIVE_ACCOUNT = '(attribute_not_exists(expiresAt) OR expiresAt > :now)';

/** The store's data is inconsistent in a way a login cannot repair. */
export class AccountStoreError extends Error {
  override name = 'AccountStoreError';
  /** ACCOUNT_MISSING: a certificate pointer keeps naming an account that does not exist. */
  readonly code = 'ACCOUNT_MISSING';
}

/** Options of DynamoAccountStore. */
export interface DynamoAccountStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** The certificate-key secret of certificateKey(), to find the account of a predecessor certificate. */
  readonly secret: KeyedHashSecret;
  readonly predecessors: PredecessorSource;
  /** Days an account is kept after its last login (default DEFAULT_ACCOUNT_RETENTION_DAYS). */
  readonly retentionDays?: number;
  /** Where a refused cross-generation login is reported (default: JSON lines on stderr). */
  readonly logger?: OpLogger;
  /** Current time in epoch milliseconds (default Date.now). */
  readonly now?: Clock;
}

/** AccountStore on the single table; see the module comment. */
export class DynamoAccountStore implements AccountStore {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly secret: KeyedHashSecret;
  private readonly predecessors: PredecessorSource;
  private readonly retentionSeconds: number;
  private readonly logger: OpLogger;
  private readonly now: Clock;
  private readonly records: AccountRecords;

  constructor(options: DynamoAccountStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.secret = options.secret;
    this.predecessors = options.predecessors;
    const retentionDays = options.retentionDays ?? DEFAULT_ACCOUNT_RETENTION_DAYS;
    if (!Number.isInteger(retentionDays) || retentionDays < 1) {
      throw new RangeError('account retention must be a whole number of days, at least 1');
    }
    this.retentionSeconds = retentionDays * DAY_SECONDS;
    this.logger = options.logger ?? stderrLogger;
    this.now = options.now ?? Date.now;
    this.records = new AccountRecords({ client: this.client, tableName: this.tableName, now: this.now });
  }

  /**
   * (a) the account already holding the certificate; else (b) the account holding its predecessor
   * (the certificate pointer is claimed conditionally); else (c) a new account (newAccountId, under
   * the item key of the certificate key: conditional put; a concurrent creator's account wins and
   * is used). The
   * pointer must be bound to the login's issuing CA key (bound now when it is not yet). Then
   * records the certificate on the account (lastSeenAt, and the account's new expiry). A pointer
   * naming an expired or vanished account: that account is erased and the login starts over.
   */
  async accountForLogin(login: LoginCertificate): Promise<Account> {
    const known = await this.recordKnownCertificate(login, this.now());
    if (known) return known;
    for (let attempt = 0; attempt < 2; attempt++) {
      const nowMs = this.now();
      let pointer = await this.pointerOf(login.certificateKey, nowMs);
      if (pointer === undefined) {
        const candidate =
          (await this.accountOfPredecessor(login.certificate, nowMs)) ??
          (await this.createAccount(login, nowMs));
        pointer = await this.claimCertificate(login, candidate, nowMs);
      } else {
        // Bound to another CA key: refused before anything is written.
        this.checkIssuer(login, pointer);
        if (this.pointerNeedsWrite(pointer, nowMs))
          pointer = await this.refreshPointer(login, pointer, nowMs);
      }
      this.checkIssuer(login, pointer);
      const account = await this.recordCertificate(pointer, login, nowMs);
      if (account) return account;
      await this.records.erase(pointer.accountId, {
        alsoCertificateKeys: [login.certificateKey],
        revocationAudits: false,
        logoutQueue: false,
      });
    }
    throw new AccountStoreError('a certificate pointer keeps naming a missing account');
  }

  async knownAccount(certificateKey: string): Promise<KnownAccount | undefined> {
    const nowMs = this.now();
    const stored = await this.records.storedAt(accountItemKey(certificateKey));
    const entry = stored?.certificates?.[certificateKey] as
      | (StoredCertificate & { readonly pointerExpiresAt?: number })
      | undefined;
    const pointerExpiresAt = entry?.pointerExpiresAt;
    // recordKnownCertificate's condition, read (keep the two alike).
    const recordable =
      stored !== undefined &&
      entry?.issuerKeyId !== undefined &&
      !hasExpired(stored.expiresAt, nowMs) &&
      pointerExpiresAt !== undefined &&
      pointerExpiresAt >= this.accountExpiry(nowMs) &&
      pointerExpiresAt <= this.pointerExpiry(nowMs);
    return recordable ? { accountId: stored.accountId, issuerKeyId: entry.issuerKeyId as string } : undefined;
  }

  async find(accountId: string): Promise<Account | undefined> {
    const stored = await this.records.stored(accountId);
    return stored && !hasExpired(stored.expiresAt, this.now()) ? toAccount(stored) : undefined;
  }

  /**
   * certificate key → account id for the certificates some live account holds (BatchGetItem of
   * CERT# pointers). With `issuerKeyId`, a pointer bound to another CA key is left out: a CRL of
   * one CA generation never touches the account of another generation's certificate.
   */
  async accountsOfCertificateKeys(
    certificateKeys: readonly string[],
    issuerKeyId?: string,
  ): Promise<Map<string, string>> {
    const items = await batchGet(
      this.client,
      this.tableName,
      certificateKeys.map((key) => marshall(certificatePointerKey(key))),
    );
    const nowMs = this.now();
    const found = new Map<string, string>();
    for (const item of items) {
      const { pk, ...pointer } = unmarshall(item) as CertificatePointer & { pk: string };
      if (hasExpired(pointer.expiresAt, nowMs)) continue;
      if (
        issuerKeyId !== undefined &&
        pointer.issuerKeyId !== undefined &&
        pointer.issuerKeyId !== issuerKeyId
      )
        continue;
      found.set(certificateKeyOfPointer(pk), pointer.accountId);
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
    const updated = await sendIf(() =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall(accountItemKey(accountId)),
          UpdateExpression:
            'SET certificates.#key.revokedAt = :at, certificates.#key.revocationReason = :reason',
          ConditionExpression:
            'accountId = :accountId AND attribute_exists(certificates.#key) AND attribute_not_exists(certificates.#key.revokedAt)',
          ExpressionAttributeNames: { '#key': certificateKey },
          ExpressionAttributeValues: marshall({
            ':accountId': accountId,
            ':at': revocation.revokedAt.toISOString(),
            ':reason': revocation.reason,
          }),
        }),
      ),
    );
    return updated !== undefined;
  }

  /** The live pointer of a certificate key (undefined when absent or expired). */
  private async pointerOf(certificateKey: string, nowMs: number): Promise<CertificatePointer | undefined> {
    const pointer = await this.records.pointer(certificateKey);
    return pointer && !hasExpired(pointer.expiresAt, nowMs) ? pointer : undefined;
  }

  private async accountOfPredecessor(
    certificate: ParsedCertificate,
    nowMs: number,
  ): Promise<string | undefined> {
    const serial = await this.predecessors.predecessorSerial(certificate);
    if (!serial) return undefined;
    return (await this.pointerOf(certificateKey(this.secret, certificate.issuer, serial), nowMs))?.accountId;
  }

  /** Creates the account of a first certificate unless a live one exists; returns its id either way. */
  private async createAccount(login: LoginCertificate, nowMs: number): Promise<string> {
    const accountId = newAccountId(login.certificateKey);
    const seenAt = new Date(nowMs).toISOString();
    const account: StoredAccount = {
      accountId,
      createdAt: seenAt,
      expiresAt: this.accountExpiry(nowMs),
      certificates: { [login.certificateKey]: newEntry(login, seenAt) },
    };
    const created = await sendIf(() =>
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall({ ...accountItemKey(accountId), ...account }),
          ConditionExpression: 'attribute_not_exists(#pk) OR expiresAt <= :now',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
          ExpressionAttributeValues: marshall({ ':now': epochSeconds(nowMs) }),
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    if (created) {
      // An expired account of this certificate key was overwritten (TTL had not deleted it yet,
      // and its pointer was gone): what still names it (release history, account-index pointers,
      // grants, sessions) is erased with it, so nothing of it is orphaned.
      const replaced = created.Attributes && (unmarshall(created.Attributes) as Partial<StoredAccount>);
      if (typeof replaced?.accountId === 'string' && replaced.accountId !== accountId) {
        await this.records.erase(replaced.accountId, {
          alsoCertificateKeys: Object.keys(replaced.certificates ?? {}),
          revocationAudits: false,
          logoutQueue: false,
        });
      }
      return accountId;
    }
    // A live account of this certificate exists (a concurrent creator, or a login interrupted
    // before its pointer was written): that one is used.
    return (await this.records.storedAt(accountItemKey(accountId)))?.accountId ?? accountId;
  }

  /**
   * Points the certificate at `accountId`, bound to the login's CA key, unless a live pointer
   * already exists; returns the pointer that won (checked by the caller).
   */
  private async claimCertificate(
    login: LoginCertificate,
    accountId: string,
    nowMs: number,
  ): Promise<CertificatePointer> {
    const pointer = { accountId, issuerKeyId: login.issuerKeyId, expiresAt: this.pointerExpiry(nowMs) };
    const claimed = await sendIf(() =>
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall({ ...certificatePointerKey(login.certificateKey), ...pointer }),
          ConditionExpression: 'attribute_not_exists(#pk) OR expiresAt <= :now',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
          ExpressionAttributeValues: marshall({ ':now': epochSeconds(nowMs) }),
        }),
      ),
    );
    if (claimed) return pointer;
    const winner = await this.pointerOf(login.certificateKey, nowMs);
    if (winner === undefined) throw new AccountStoreError('a certificate pointer vanished while claimed');
    return winner;
  }

  /** A pointer without a CA-key binding (written before it existed) or near its expiry. */
  private pointerNeedsWrite(pointer: CertificatePointer, nowMs: number): boolean {
    return (
      pointer.issuerKeyId === undefined ||
      pointer.expiresAt === undefined ||
      pointer.expiresAt < this.accountExpiry(nowMs)
    );
  }

  /** Binds the pointer to the login's CA key unless it is bound already, and moves its expiry on. */
  private async refreshPointer(
    login: LoginCertificate,
    pointer: CertificatePointer,
    nowMs: number,
  ): Promise<CertificatePointer> {
    const updated = await sendIf(() =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall(certificatePointerKey(login.certificateKey)),
          UpdateExpression: 'SET issuerKeyId = if_not_exists(issuerKeyId, :keyId), expiresAt = :expiresAt',
          ConditionExpression: 'accountId = :accountId',
          ExpressionAttributeValues: marshall({
            ':keyId': login.issuerKeyId,
            ':expiresAt': this.pointerExpiry(nowMs),
            ':accountId': pointer.accountId,
          }),
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return updated?.Attributes ? (unmarshall(updated.Attributes) as CertificatePointer) : pointer;
  }

  /** Refuses a certificate whose certificate key is bound to another CA key, with a warning (no personal data). */
  private checkIssuer(login: LoginCertificate, pointer: CertificatePointer): void {
    if (pointer.issuerKeyId === undefined || pointer.issuerKeyId === login.issuerKeyId) return;
    this.logger.warn('account.issuer_key_mismatch', {
      presentedIssuerKey: login.issuerKeyId.slice(0, 12),
      presentedGeneration: login.issuerGeneration,
      boundIssuerKey: pointer.issuerKeyId.slice(0, 12),
    });
    throw new VerificationError('ISSUER_KEY_MISMATCH');
  }

  /**
   * The one-write login of a certificate that started its account (its item is keyed by the
   * certificate key, the common case) and whose pointer needs no write: ONE conditional UpdateItem of the
   * account sets the certificate's lastSeenAt and the account's expiry, as recordCertificate does,
   * without reading the pointer first. The condition stands in for that read: the account's entry
   * of the certificate carries the pointer's expiry as the login that last checked the pointer saw
   * it (`pointerExpiresAt`, written only for the account the pointer names), so it holds only while
   * the pointer names this account, is bound to the login's CA key and is far enough from its
   * expiry. Undefined when the condition fails (a renewed certificate, a pointer due for its
   * write, an unbound or older entry, a missing or expired account): the full path then runs.
   */
  private async recordKnownCertificate(login: LoginCertificate, nowMs: number): Promise<Account | undefined> {
    const updated = await sendIf(() =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall(accountItemKey(login.certificateKey)),
          UpdateExpression: 'SET certificates.#key.lastSeenAt = :seenAt, expiresAt = :expiresAt',
          // A recorded expiry beyond what a pointer written now gets (the retention was shortened)
          // is not trusted: the pointer may have been written again since with a shorter one.
          // knownAccount reads the same condition (keep the two alike).
          ConditionExpression:
            'certificates.#key.issuerKeyId = :keyId AND ' +
            'certificates.#key.pointerExpiresAt BETWEEN :expiresAt AND :latestPointerExpiry AND ' +
            LIVE_ACCOUNT,
          ExpressionAttributeNames: { '#key': login.certificateKey },
          ExpressionAttributeValues: marshall({
            ':seenAt': new Date(nowMs).toISOString(),
            ':expiresAt': this.accountExpiry(nowMs),
            ':keyId': login.issuerKeyId,
            ':now': epochSeconds(nowMs),
            ':latestPointerExpiry': this.pointerExpiry(nowMs),
          }),
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return updated?.Attributes && toAccount(unmarshall(updated.Attributes) as StoredAccount);
  }

  /**
   * Sets the certificate's lastSeenAt and the account's expiry, adding the certificate's entry
   * when it has none yet; undefined when the account is missing or expired. Records the expiry of
   * `pointer` (just read or written, naming the account) on the entry for recordKnownCertificate.
   * Drops what older versions kept and nothing reads (the certificate's notAfter).
   */
  private async recordCertificate(
    pointer: CertificatePointer,
    login: LoginCertificate,
    nowMs: number,
  ): Promise<Account | undefined> {
    const seenAt = new Date(nowMs).toISOString();
    const base = {
      TableName: this.tableName,
      Key: marshall(accountItemKey(pointer.accountId)),
      ReturnValues: 'ALL_NEW',
    } satisfies Partial<UpdateItemCommandInput>;
    const values = {
      ':now': epochSeconds(nowMs),
      ':expiresAt': this.accountExpiry(nowMs),
      ':accountId': pointer.accountId,
    };
    // A pointer without an expiry (from before retention) is always checked: no copy is recorded.
    const pointerExpiresAt = pointer.expiresAt ?? 0;
    const touched = await sendIf(() =>
      this.client.send(
        new UpdateItemCommand({
          ...base,
          UpdateExpression:
            'SET certificates.#key.lastSeenAt = :seenAt, certificates.#key.issuerKeyId = if_not_exists(certificates.#key.issuerKeyId, :keyId), certificates.#key.pointerExpiresAt = :pointerExpiresAt, expiresAt = :expiresAt REMOVE certificates.#key.notAfter',
          ConditionExpression: `accountId = :accountId AND attribute_exists(certificates.#key) AND ${LIVE_ACCOUNT}`,
          ExpressionAttributeNames: { '#key': login.certificateKey },
          ExpressionAttributeValues: marshall({
            ...values,
            ':seenAt': seenAt,
            ':keyId': login.issuerKeyId,
            ':pointerExpiresAt': pointerExpiresAt,
          }),
        }),
      ),
    );
    const added =
      touched ??
      (await sendIf(() =>
        this.client.send(
          new UpdateItemCommand({
            ...base,
            UpdateExpression:
              'SET certificates.#key = if_not_exists(certificates.#key, :entry), expiresAt = :expiresAt',
            ConditionExpression: `accountId = :accountId AND ${LIVE_ACCOUNT}`,
            ExpressionAttributeNames: { '#key': login.certificateKey },
            ExpressionAttributeValues: marshall({
              ...values,
              ':entry': { ...newEntry(login, seenAt), pointerExpiresAt },
            }),
          }),
        ),
      ));
    return added?.Attributes && toAccount(unmarshall(added.Attributes) as StoredAccount);
  }

  /** Epoch seconds an account seen at `nowMs` expires. */
  private accountExpiry(nowMs: number): number {
    return epochSeconds(nowMs) + this.retentionSeconds;
  }

  /** Epoch seconds a pointer written at `nowMs` expires: after any account expiry it may serve. */
  private pointerExpiry(nowMs: number): number {
    return this.accountExpiry(nowMs) + CERTIFICATE_POINTER_SLACK_DAYS * DAY_SECONDS;
  }
}

function newEntry(login: LoginCertificate, seenAt: string): StoredCertificate {
  return {
    issuerKeyId: login.issuerKeyId,
    issuerGeneration: login.issuerGeneration,
    issuedAt: login.certificate.notBefore.toISOString().slice(0, 10),
    firstSeenAt: seenAt,
    lastSeenAt: seenAt,
  };
}

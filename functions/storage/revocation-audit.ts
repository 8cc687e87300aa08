/**
 * Audit records of revoked certificates (`RevocationAudit` / `<certificate key>`, one listable
 * partition): what the notification job did about one newly revoked certificate of a known
 * account, and its work state `opened` → `queued` (logout deliveries written) → `revoked` (grants
 * and sessions revoked). Fields: accountId, certificateKey, caId, reason, revokedAt, detectedAt,
 * grantsRevoked, sessionsRevoked, completedAt and `clients`: client id → delivery state. Keyed
 * hashes only, never a raw serial. Every write is conditional or idempotent.
 */
import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { writeIf } from './conditional-write.js';
import { partitionQuery, queryPages } from './query-pages.js';
import { listedItemKey, PARTITION_KEY } from './table.js';

const AUDIT_KIND = 'RevocationAudit';

/** The work state of an audit record. */
export type AuditState = 'opened' | 'queued' | 'revoked';

/** What is known when a revoked certificate of an account is first detected. */
export interface AuditOpening {
  readonly accountId: string;
  readonly caId: string;
  readonly reason: string;
  readonly revokedAt: Date;
  readonly detectedAt: Date;
}

/** The delivery state of one client, as the audit record keeps it. */
export interface AuditDelivery {
  readonly state: 'pending' | 'delivered' | 'retrying' | 'failed';
  readonly attempts?: number;
  readonly at?: string;
}

/** Options of RevocationAuditLog. */
export interface RevocationAuditLogOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

/** Reads and writes the audit records; see the module comment. */
export class RevocationAuditLog {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;

  constructor(options: RevocationAuditLogOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
  }

  /** The record's state, creating the record (`opened`) when there is none. */
  async open(certificateKey: string, opening: AuditOpening): Promise<AuditState> {
    const key = listedItemKey(AUDIT_KIND, certificateKey);
    const { Item } = await this.#client.send(
      new GetItemCommand({ TableName: this.#tableName, Key: marshall(key), ConsistentRead: true }),
    );
    if (Item) return (unmarshall(Item) as { state: AuditState }).state;
    const created = await writeIf(
      this.#client,
      new PutItemCommand({
        TableName: this.#tableName,
        Item: marshall({
          ...key,
          state: 'opened',
          accountId: opening.accountId,
          certificateKey,
          caId: opening.caId,
          reason: opening.reason,
          revokedAt: opening.revokedAt.toISOString(),
          detectedAt: opening.detectedAt.toISOString(),
          clients: {},
        }),
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PARTITION_KEY },
      }),
    );
    return created ? 'opened' : this.open(certificateKey, opening);
  }

  /**
   * `queued`: deliveries to `clientIds` are written (each starts `pending` unless already known),
   * and the counts of grants and sessions about to be revoked are kept (first run wins).
   */
  async markQueued(
    certificateKey: string,
    clientIds: readonly string[],
    counts: { readonly grants: number; readonly sessions: number },
  ): Promise<void> {
    const names: Record<string, string> = { '#state': 'state' };
    const sets = clientIds.map((clientId, index) => {
      names[`#c${index}`] = clientId;
      return `clients.#c${index} = if_not_exists(clients.#c${index}, :pending)`;
    });
    await this.#update(certificateKey, {
      UpdateExpression: [
        'SET #state = :queued',
        'grantsRevoked = if_not_exists(grantsRevoked, :grants)',
        'sessionsRevoked = if_not_exists(sessionsRevoked, :sessions)',
        ...sets,
      ].join(', '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: marshall({
        ':queued': 'queued',
        ...(sets.length > 0 ? { ':pending': { state: 'pending' } satisfies AuditDelivery } : {}),
        ':grants': counts.grants,
        ':sessions': counts.sessions,
      }),
    });
  }

  /** `revoked`: the account's grants and sessions are gone. */
  async markRevoked(certificateKey: string, at: Date): Promise<void> {
    await this.#update(certificateKey, {
      UpdateExpression: 'SET #state = :revoked, completedAt = :at',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: marshall({ ':revoked': 'revoked', ':at': at.toISOString() }),
    });
  }

  /** Records the latest delivery state of one client. */
  async recordDelivery(certificateKey: string, clientId: string, delivery: AuditDelivery): Promise<void> {
    await this.#update(certificateKey, {
      UpdateExpression: 'SET clients.#client = :delivery',
      ExpressionAttributeNames: { '#client': clientId },
      ExpressionAttributeValues: marshall({ ':delivery': delivery }, { removeUndefinedValues: true }),
    });
  }

  /** The record of one certificate, if any (one strongly consistent GetItem). */
  async find(certificateKey: string): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.#client.send(
      new GetItemCommand({
        TableName: this.#tableName,
        Key: marshall(listedItemKey(AUDIT_KIND, certificateKey)),
        ConsistentRead: true,
      }),
    );
    return Item && unmarshall(Item);
  }

  /** Every audit record (operator CLI and tests). */
  async list(): Promise<Record<string, unknown>[]> {
    const records: Record<string, unknown>[] = [];
    for await (const items of queryPages(this.#client, partitionQuery(this.#tableName, AUDIT_KIND))) {
      records.push(...items.map((item) => unmarshall(item)));
    }
    return records;
  }

  /** Deletes the record of a certificate (account erasure); an absent record is no error. */
  async remove(certificateKey: string): Promise<void> {
    await this.#client.send(
      new DeleteItemCommand({
        TableName: this.#tableName,
        Key: marshall(listedItemKey(AUDIT_KIND, certificateKey)),
      }),
    );
  }

  async #update(
    certificateKey: string,
    input: Pick<
      ConstructorParameters<typeof UpdateItemCommand>[0],
      'UpdateExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    >,
  ): Promise<void> {
    await this.#client.send(
      new UpdateItemCommand({
        TableName: this.#tableName,
        Key: marshall(listedItemKey(AUDIT_KIND, certificateKey)),
        ...input,
      }),
    );
  }
}

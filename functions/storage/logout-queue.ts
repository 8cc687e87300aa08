/**
 * The durable work queue of back-channel logout deliveries (OIDC Back-Channel Logout 1.0), for
 * RP-initiated logout and the revocation notification job alike: one item per (cause, client) in
 * the listable partition `BackchannelLogout` (sk = the caller's delivery id, e.g.
 * `<certificate key>#<client id>` or `logout:<sid>#<client id>`).
 *
 * An item is `pending` (attempts, nextAttemptAt, the logout token's stable `jti`) until it is
 * `delivered` or, after `maxAttempts`, `failed`. Each recorded attempt is one conditional write on
 * (state, attempts), so two senders never both record the same attempt, and a delivery is recorded
 * before the next starts. The retry schedule lives here: nextAttemptAt doubles from
 * `retryAfterSeconds` up to `maxRetryDelaySeconds` (defaults.ts BACKCHANNEL_RETRY). Finished items
 * expire after `finishedTtlSeconds`. What an item holds: client id, URI, the `sub` and `sid` the
 * client knows, the signing alg — pairwise identifiers and ids, no personal data.
 */
import { randomUUID } from 'node:crypto';
import {
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { BACKCHANNEL_RETRY } from '../defaults.js';
import { writeIf } from './conditional-write.js';
import { expiresAtAfter } from './expiry.js';
import { partitionQuery, queryPages } from './query-pages.js';
import { EXPIRES_AT_ATTRIBUTE, listedItemKey, PARTITION_KEY } from './table.js';

const QUEUE_KIND = 'BackchannelLogout';

/** What a caller asks to deliver. */
export interface LogoutRequest {
  /** Stable id of this (cause, client): enqueueing the same id twice queues once. */
  readonly id: string;
  readonly clientId: string;
  /** The client's backchannel_logout_uri. */
  readonly uri: string;
  /** The `sub` the client knows (pairwise or public). */
  readonly sub?: string;
  /** The `sid` of the session the client knows. */
  readonly sid?: string;
  /** The client's id_token_signed_response_alg. */
  readonly alg: string;
  readonly accountId?: string;
  /** Set for deliveries of the revocation job: the audit record to keep up to date. */
  readonly certificateKey?: string;
}

/** A queued delivery as stored. */
export interface LogoutDelivery extends LogoutRequest {
  readonly state: 'pending' | 'delivered' | 'failed';
  readonly jti: string;
  readonly attempts: number;
  /** Epoch ms. */
  readonly nextAttemptAt: number;
}

/** The result of recording attempts: done, to be retried by a later run, or given up. */
export type DeliveryOutcome = 'delivered' | 'retrying' | 'failed';

/** Options of LogoutQueue; the schedule defaults to BACKCHANNEL_RETRY. */
export interface LogoutQueueOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Attempts over all runs before a delivery is `failed`. */
  readonly maxAttempts?: number;
  /** First delay before a later run retries, seconds, doubling. */
  readonly retryAfterSeconds?: number;
}

/** The queue; see the module comment. */
export class LogoutQueue {
  readonly maxAttempts: number;
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #retryAfterSeconds: number;

  constructor(options: LogoutQueueOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.maxAttempts = options.maxAttempts ?? BACKCHANNEL_RETRY.maxAttempts;
    this.#retryAfterSeconds = options.retryAfterSeconds ?? BACKCHANNEL_RETRY.retryAfterSeconds;
  }

  /** Queues `request` due at `now`; undefined when a delivery with its id was queued before. */
  async enqueue(request: LogoutRequest, now: Date): Promise<LogoutDelivery | undefined> {
    const delivery: LogoutDelivery = {
      ...request,
      state: 'pending',
      jti: randomUUID(),
      attempts: 0,
      nextAttemptAt: now.getTime(),
    };
    const queued = await writeIf(
      this.#client,
      new PutItemCommand({
        TableName: this.#tableName,
        Item: marshall(
          { ...listedItemKey(QUEUE_KIND, request.id), ...delivery, createdAt: now.getTime() },
          { removeUndefinedValues: true },
        ),
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PARTITION_KEY },
      }),
    );
    return queued ? delivery : undefined;
  }

  /** The pending deliveries due at `now`, oldest id first. */
  async due(now: Date): Promise<LogoutDelivery[]> {
    const due: LogoutDelivery[] = [];
    const query = partitionQuery(this.#tableName, QUEUE_KIND, {
      FilterExpression: '#state = :pending AND nextAttemptAt <= :now',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: marshall({ ':pending': 'pending', ':now': now.getTime() }),
    });
    for await (const items of queryPages(this.#client, query)) {
      for (const item of items) {
        const { pk: _pk, sk, createdAt: _createdAt, ...stored } = unmarshall(item);
        due.push({ ...stored, id: sk } as LogoutDelivery);
      }
    }
    return due;
  }

  /**
   * Records `tried` more attempts of `delivery` at `now`: delivered when `error` is undefined,
   * else retrying (next attempt per the schedule) or failed once maxAttempts are used up.
   * Undefined when another sender recorded this delivery first (nothing written).
   */
  async record(
    delivery: LogoutDelivery,
    tried: number,
    error: string | undefined,
    now: Date,
  ): Promise<DeliveryOutcome | undefined> {
    const attempts = delivery.attempts + tried;
    const finishedAt = expiresAtAfter(now.getTime(), BACKCHANNEL_RETRY.finishedTtlSeconds);
    let outcome: DeliveryOutcome;
    let update: { expression: string; values: Record<string, unknown> };
    if (error === undefined) {
      outcome = 'delivered';
      update = {
        expression: 'SET #state = :done, attempts = :attempts, deliveredAt = :at, #ttl = :ttl',
        values: { ':done': 'delivered', ':at': now.toISOString(), ':ttl': finishedAt },
      };
    } else if (attempts >= this.maxAttempts) {
      outcome = 'failed';
      update = {
        expression: 'SET #state = :done, attempts = :attempts, lastError = :error, #ttl = :ttl',
        values: { ':done': 'failed', ':error': error, ':ttl': finishedAt },
      };
    } else {
      outcome = 'retrying';
      update = {
        expression: 'SET attempts = :attempts, nextAttemptAt = :next, lastError = :error',
        values: { ':next': now.getTime() + this.retryDelaySeconds(attempts) * 1000, ':error': error },
      };
    }
    const recorded = await writeIf(
      this.#client,
      new UpdateItemCommand({
        TableName: this.#tableName,
        Key: marshall(listedItemKey(QUEUE_KIND, delivery.id)),
        UpdateExpression: update.expression,
        ConditionExpression: '#state = :pending AND attempts = :before',
        ExpressionAttributeNames: {
          '#state': 'state',
          ...(update.expression.includes('#ttl') ? { '#ttl': EXPIRES_AT_ATTRIBUTE } : {}),
        },
        ExpressionAttributeValues: marshall({
          ...update.values,
          ':attempts': attempts,
          ':pending': 'pending',
          ':before': delivery.attempts,
        }),
      }),
    );
    return recorded ? outcome : undefined;
  }

  /**
   * The items naming the account — its account id, or one of its `certificateKeys` (attribute or
   * id) — as stored (`sk`: the item's sort key): what the export shows and `forgetAccount`
   * removes. One Query of the queue's partition.
   */
  async namingAccount(
    accountId: string,
    certificateKeys: readonly string[] = [],
  ): Promise<(LogoutDelivery & { readonly sk: string })[]> {
    const keys = new Set(certificateKeys);
    const named: (LogoutDelivery & { sk: string })[] = [];
    for await (const items of queryPages(this.#client, partitionQuery(this.#tableName, QUEUE_KIND))) {
      for (const item of items) {
        const stored = unmarshall(item) as LogoutDelivery & { sk: string };
        const idKey = stored.sk.slice(0, Math.max(0, stored.sk.lastIndexOf('#')));
        if (stored.accountId === accountId || keys.has(String(stored.certificateKey)) || keys.has(idKey)) {
          named.push(stored);
        }
      }
    }
    return named;
  }

  /**
   * Takes an erased account off the queue (accounts/account-records.ts erase): every item
   * `namingAccount` finds is deleted; a pending one is first queued again without them under a new
   * id (same client, URI, sub, sid and due time), so it is still delivered. Returns how many items
   * named the account.
   */
  async forgetAccount(accountId: string, certificateKeys: readonly string[] = []): Promise<number> {
    const named = await this.namingAccount(accountId, certificateKeys);
    for (const stored of named) {
      if (stored.state === 'pending') {
        const { clientId, uri, sub, sid, alg } = stored;
        await this.enqueue(
          { id: `requeued:${randomUUID()}#${clientId}`, clientId, uri, sub, sid, alg },
          new Date(stored.nextAttemptAt),
        );
      }
      await this.#client.send(
        new DeleteItemCommand({
          TableName: this.#tableName,
          Key: marshall(listedItemKey(QUEUE_KIND, stored.sk)),
        }),
      );
    }
    return named.length;
  }

  /** The delay before a later run retries, after `attempts` failed attempts: doubling, capped. */
  retryDelaySeconds(attempts: number): number {
    return Math.min(BACKCHANNEL_RETRY.maxRetryDelaySeconds, this.#retryAfterSeconds * 2 ** (attempts - 1));
  }
}

/**
 * Hit counters with a fixed window, in the table (item `RateLimit#<bucket>#<key>` / `item`), so a
 * limit holds across every Lambda instance. A hit is ONE conditional UpdateItem: while the
 * window is open (`expiresAt` in the future) it adds 1 to `hits` and keeps `windowStart`; once the
 * window is over the condition fails and a second conditional UpdateItem starts a new window at 1
 * (only if the window is still over: of concurrent resets one wins, the others count in its
 * window). Expiry is checked on every write, so neither DynamoDB TTL (which deletes late, and
 * dynalite never) nor a transaction is needed; TTL only removes old counters.
 *
 * Keys are what the caller gives: never personal data (client addresses are keyed hashes,
 * op/interactions/limits.ts).
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { StorageError } from './errors.js';
import { type Clock, epochSeconds } from './expiry.js';
import { EXPIRES_AT_ATTRIBUTE, itemKey } from './table.js';

/** Partition prefix of the counters (the OP's IAM role may write it: infra OP_WRITE_PARTITIONS). */
export const RATE_LIMIT_KIND = 'RateLimit';

/** A counter's state right after a hit. */
export interface RateHit {
  /** Hits in the current window, this one included. */
  readonly hits: number;
  /** Seconds until the current window ends (at least 1). */
  readonly resetsInSeconds: number;
}

/** Counts hits per bucket and key in windows of a given length. */
export interface RateCounter {
  /** Records one hit on `bucket`/`key`, whose window lasts `windowSeconds` from its first hit. */
  hit(bucket: string, key: string, windowSeconds: number): Promise<RateHit>;
}

/** Options of DynamoRateCounter. */
export interface DynamoRateCounterOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Current time in epoch milliseconds (default Date.now). */
  readonly now?: Clock;
}

const HITS = 'hits';
const WINDOW_START = 'windowStart';
/** A window found over is reset at most this many times per hit before the hit gives up. */
const MAX_ATTEMPTS = 3;

/** RateCounter on the single table; see the module comment. */
export class DynamoRateCounter implements RateCounter {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #now: Clock;

  constructor(options: DynamoRateCounterOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#now = options.now ?? Date.now;
  }

  async hit(bucket: string, key: string, windowSeconds: number): Promise<RateHit> {
    for (let attempt = 1; ; attempt++) {
      const now = epochSeconds(this.#now());
      const values = { ':one': 1, ':now': now, ':end': now + windowSeconds };
      const counted =
        (await this.#update(
          bucket,
          key,
          `SET #start = if_not_exists(#start, :now), #expiresAt = if_not_exists(#expiresAt, :end) ADD #hits :one`,
          'attribute_not_exists(#expiresAt) OR #expiresAt > :now',
          values,
        )) ??
        // The window is over: start a new one, unless a concurrent hit just did.
        (await this.#update(
          bucket,
          key,
          'SET #start = :now, #expiresAt = :end, #hits = :one',
          '#expiresAt <= :now',
          values,
        ));
      if (counted) {
        return { hits: counted.hits, resetsInSeconds: Math.max(1, counted.expiresAt - now) };
      }
      if (attempt === MAX_ATTEMPTS) {
        throw new StorageError(
          'COUNTER_CHANGED',
          `rate counter ${bucket} was reset ${attempt} times meanwhile`,
        );
      }
    }
  }

  async #update(
    bucket: string,
    key: string,
    update: string,
    condition: string,
    values: Record<string, number>,
  ): Promise<{ hits: number; expiresAt: number } | undefined> {
    try {
      const { Attributes } = await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: marshall(itemKey(`${RATE_LIMIT_KIND}#${bucket}`, key)),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: {
            '#hits': HITS,
            '#start': WINDOW_START,
            '#expiresAt': EXPIRES_AT_ATTRIBUTE,
          },
          ExpressionAttributeValues: marshall(values),
          ReturnValues: 'ALL_NEW',
        }),
      );
      const item = unmarshall(Attributes ?? {});
      return { hits: Number(item[HITS]), expiresAt: Number(item[EXPIRES_AT_ATTRIBUTE]) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }
}

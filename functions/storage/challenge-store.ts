/**
 * Login challenges in DynamoDB (item `LoginChallenge#<interaction uid>`): issued with a fresh
 * 256-bit nonce, consumed by ONE conditional UpdateItem (consume.ts) that returns the old item, so
 * of concurrent consumes exactly one gets the nonce. Needs neither
 * transactions nor TTL (dynalite has neither).
 */
import { randomBytes } from 'node:crypto';
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { CHALLENGE_TTL_SECONDS } from '../defaults.js';
import { consumeItem } from './consume.js';
import { type Clock, expiresAtAfter } from './expiry.js';
import { EXPIRES_AT_ATTRIBUTE, itemKey } from './table.js';

/**
 * Where the OP keeps login challenges: a random nonce bound to one interaction (the OIDC login in
 * progress), valid for at most CHALLENGE_TTL_SECONDS and consumed at most once.
 */
export interface ChallengeStore {
  /** Creates (or replaces) the challenge of `interactionUid` and returns its nonce. */
  issue(interactionUid: string): Promise<string>;
  /**
   * Atomically consumes the challenge of `interactionUid`: returns its nonce when it exists, is
   * unexpired and was not consumed before; otherwise undefined. Of concurrent calls at most one
   * gets the nonce.
   */
  consume(interactionUid: string): Promise<string | undefined>;
}

const CHALLENGE_KIND = 'LoginChallenge';
const NONCE_BYTES = 32;

/** Options of DynamoChallengeStore. */
export interface DynamoChallengeStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Current time in epoch milliseconds (default Date.now). */
  readonly now?: Clock;
}

/** ChallengeStore on the single table; see the module comment. */
export class DynamoChallengeStore implements ChallengeStore {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly now: Clock;

  constructor(options: DynamoChallengeStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.now = options.now ?? Date.now;
  }

  async issue(interactionUid: string): Promise<string> {
    const nonce = randomBytes(NONCE_BYTES).toString('base64url');
    const item = {
      ...itemKey(CHALLENGE_KIND, interactionUid),
      nonce,
      [EXPIRES_AT_ATTRIBUTE]: expiresAtAfter(this.now(), CHALLENGE_TTL_SECONDS),
    };
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: marshall(item) }));
    return nonce;
  }

  async consume(interactionUid: string): Promise<string | undefined> {
    const old = await consumeItem(
      this.client,
      this.tableName,
      itemKey(CHALLENGE_KIND, interactionUid),
      this.now(),
    );
    return old?.nonce as string | undefined;
  }
}

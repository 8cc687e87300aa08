/**
 * Login challenges, kept in the item of the interaction they belong to (`Interaction#<uid>`,
 * oidc-adapter.ts), as attributes beside its payload: `challengeNonce` (a fresh 256-bit nonce),
 * `challengeExpiresAt` (epoch seconds), once consumed `challengeConsumedAt`, and the interaction's
 * two login-limit counts (op/interactions/limits.ts): `challengesIssued` and `challengesAnswered`.
 *
 * - **Issued and counted at once**: `issue` is ONE conditional UpdateItem that sets a new nonce,
 *   clears the consumption and adds 1 to `challengesIssued`, only if the interaction is live, at
 *   its login (or identity) prompt and had fewer than the allowed challenges.
 * - **Consumed and counted once**: `consume` is ONE conditional UpdateItem that marks the nonce
 *   consumed and adds 1 to `challengesAnswered`, only if a nonce is there, unconsumed and
 *   unexpired, the interaction itself unexpired, and it had fewer than the allowed answers;
 *   DynamoDB applies writes to one item serially, so of concurrent consumes exactly one gets the
 *   nonce, and no interaction gets more answers verified than allowed. No transactions, no TTL
 *   (dynalite has neither): expiry is checked on every read and write.
 * - **A refusal says why** only when a count was the reason: a failed condition is followed by one
 *   read of the item (the refused path only), and ChallengeLimitError carries the seconds the
 *   interaction still lives (after that a new sign-in starts with new counts).
 * - **Gone with a re-save**: oidc-provider re-saves an interaction only with its result
 *   (`interactionResult` — a login, an abort —, and resume, which keeps it) by replacing the item,
 *   which drops the challenge and the counts; issue and consume therefore refuse an interaction
 *   that has a result, so neither a challenge nor a fresh count comes back after a re-save (the
 *   only save without a result is the interaction's first, which starts its counts).
 * Both updates return the whole new item, which the request scope keeps as its copy
 * (request-scope.ts), so oidc-provider's next read of the interaction costs nothing.
 */
import { randomBytes } from 'node:crypto';
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { CHALLENGE_TTL_SECONDS } from '../defaults.js';
import { sendIf } from './conditional-write.js';
import { StorageError } from './errors.js';
import { type Clock, epochSeconds, expiresAtAfter, hasExpired } from './expiry.js';
import { EXPIRES_AT_ATTRIBUTE, itemKey, PARTITION_KEY } from './table.js';

/** Which of an interaction's counts a ChallengeLimitError is about. */
export type ChallengeCount = 'challenge' | 'answer';

/** An interaction already had as many challenges (or answers) as allowed. */
export class ChallengeLimitError extends StorageError {
  override name = 'ChallengeLimitError';

  constructor(
    readonly count: ChallengeCount,
    /** Seconds until the interaction expires (at least 1): a new sign-in then starts anew. */
    readonly retryAfterSeconds: number,
  ) {
    super('LIMIT_REACHED', `the interaction had its ${count} limit`);
  }
}

/**
 * Where the OP keeps login challenges: a random nonce bound to one interaction (the OIDC login in
 * progress), valid for at most CHALLENGE_TTL_SECONDS and consumed at most once; the interaction
 * counts the challenges it was given and the answers it consumed.
 */
export interface ChallengeStore {
  /**
   * A new challenge of `interactionUid` (replacing any previous), its nonce; undefined when there
   * is no live interaction of that uid at its login prompt. Throws ChallengeLimitError
   * (`challenge`) when the interaction already had `maxChallenges`.
   */
  issue(interactionUid: string, maxChallenges: number): Promise<string | undefined>;
  /**
   * Atomically consumes the challenge of `interactionUid`: returns its nonce when it exists, is
   * unexpired and was not consumed before; otherwise undefined. Of concurrent calls at most one
   * gets the nonce. Throws ChallengeLimitError (`answer`) when the interaction already had
   * `maxAnswers` challenges consumed.
   */
  consume(interactionUid: string, maxAnswers: number): Promise<string | undefined>;
}

/** The interaction model, whose items hold the challenges. */
const INTERACTION_MODEL = 'Interaction';
const NONCE = 'challengeNonce';
const NONCE_EXPIRES_AT = 'challengeExpiresAt';
const CONSUMED_AT = 'challengeConsumedAt';
const ISSUED = 'challengesIssued';
const ANSWERED = 'challengesAnswered';
const NONCE_BYTES = 32;
/** The expression names of the updates. */
const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  '#pk': PARTITION_KEY,
  '#nonce': NONCE,
  '#nonceExpiresAt': NONCE_EXPIRES_AT,
  '#consumedAt': CONSUMED_AT,
  '#issued': ISSUED,
  '#answered': ANSWERED,
  '#expiresAt': EXPIRES_AT_ATTRIBUTE,
  '#payload': 'payload',
  '#prompt': 'prompt',
  '#name': 'name',
  '#result': 'result',
};
/**
 * The interaction is stored, unexpired and has no result yet: oidc-provider saves a result
 * (`interactionResult`, e.g. an abort) by replacing the item, counts included, so an interaction
 * with a result is never given or answered a challenge again (its counts would start anew).
 */
const LIVE =
  'attribute_exists(#pk) AND (attribute_not_exists(#expiresAt) OR #expiresAt > :now) AND ' +
  'attribute_not_exists(#payload.#result)';

/** The challenge attributes of an interaction item (after unmarshall). */
interface StoredChallenge {
  readonly [NONCE]?: string;
  readonly [ISSUED]?: number;
  readonly [ANSWERED]?: number;
  readonly [EXPIRES_AT_ATTRIBUTE]?: number;
}

/** Options of DynamoChallengeStore. */
export interface DynamoChallengeStoreOptions {
  readonly client: DynamoDBClient;
  /** The table of the interactions (the adapter's). */
  readonly tableName: string;
  /** Current time in epoch milliseconds (default Date.now). */
  readonly now?: Clock;
}

/** ChallengeStore in the interaction items of the single table; see the module comment. */
export class DynamoChallengeStore implements ChallengeStore {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #now: Clock;

  constructor(options: DynamoChallengeStoreOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#now = options.now ?? Date.now;
  }

  async issue(interactionUid: string, maxChallenges: number): Promise<string | undefined> {
    const nowMs = this.#now();
    const nonce = randomBytes(NONCE_BYTES).toString('base64url');
    const issued = await this.#update(
      interactionUid,
      'SET #nonce = :nonce, #nonceExpiresAt = :nonceExpiresAt ADD #issued :one REMOVE #consumedAt',
      `${LIVE} AND #payload.#prompt.#name IN (:login, :identity) AND (attribute_not_exists(#issued) OR #issued < :max)`,
      {
        ':nonce': nonce,
        ':nonceExpiresAt': expiresAtAfter(nowMs, CHALLENGE_TTL_SECONDS),
        ':now': epochSeconds(nowMs),
        ':one': 1,
        ':login': 'login',
        // The identity step's card answer takes a challenge as the login's does (op/interactions/identity-prompt.ts).
        ':identity': 'identity',
        ':max': maxChallenges,
      },
    );
    if (issued) return nonce;
    await this.#refusedBecause(interactionUid, 'challenge', ISSUED, maxChallenges, nowMs);
    return undefined;
  }

  async consume(interactionUid: string, maxAnswers: number): Promise<string | undefined> {
    const nowMs = this.#now();
    const consumed = await this.#update(
      interactionUid,
      'SET #consumedAt = :now ADD #answered :one',
      `${LIVE} AND attribute_exists(#nonce) AND attribute_not_exists(#consumedAt) AND #nonceExpiresAt > :now AND ` +
        '(attribute_not_exists(#answered) OR #answered < :max)',
      { ':now': epochSeconds(nowMs), ':one': 1, ':max': maxAnswers },
    );
    if (consumed) return consumed[NONCE];
    await this.#refusedBecause(interactionUid, 'answer', ANSWERED, maxAnswers, nowMs);
    return undefined;
  }

  /**
   * After a refused update: throws ChallengeLimitError when the live interaction's `attribute`
   * count reached `max` (one read of the item); otherwise returns nothing.
   */
  async #refusedBecause(
    interactionUid: string,
    count: ChallengeCount,
    attribute: typeof ISSUED | typeof ANSWERED,
    max: number,
    nowMs: number,
  ): Promise<void> {
    const { Item } = await this.#client.send(
      new GetItemCommand({
        TableName: this.#tableName,
        Key: marshall(itemKey(INTERACTION_MODEL, interactionUid)),
        ConsistentRead: true,
      }),
    );
    const stored = Item && (unmarshall(Item) as StoredChallenge);
    // A gone, expired or (for issue) non-login interaction is no limit's business.
    if (!stored || hasExpired(stored[EXPIRES_AT_ATTRIBUTE], nowMs) || (stored[attribute] ?? 0) < max) return;
    const expiresAt = stored[EXPIRES_AT_ATTRIBUTE];
    const left = expiresAt === undefined ? 1 : expiresAt - epochSeconds(nowMs);
    throw new ChallengeLimitError(count, Math.max(1, left));
  }

  /** One conditional UpdateItem of the interaction's item returning it; undefined when its condition failed. */
  async #update(
    interactionUid: string,
    update: string,
    condition: string,
    values: Record<string, string | number>,
  ): Promise<StoredChallenge | undefined> {
    const key: Record<string, AttributeValue> = marshall(itemKey(INTERACTION_MODEL, interactionUid));
    const output = await sendIf(() =>
      this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: key,
          UpdateExpression: update,
          ConditionExpression: condition,
          // DynamoDB refuses names an expression does not use.
          ExpressionAttributeNames: Object.fromEntries(
            Object.entries(ATTRIBUTE_NAMES).filter(([name]) =>
              new RegExp(`${name}\\b`).test(`${update} ${condition}`),
            ),
          ),
          ExpressionAttributeValues: marshall(values),
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return output && (unmarshall(output.Attributes ?? {}) as StoredChallenge);
  }
}

/**
 * Login challenges, kept in the item of the interaction they belong to (`Interaction#<uid>`,
 * oidc-adapter.ts), as attributes beside its payload: `challengesIssued` (the number of the live
 * challenge, also the interaction's count of challenges), `challengeExpiresAt` (epoch seconds),
 * once consumed `challengeConsumedAt`, and the count of answers, `challengesAnswered`. A challenge
 * is known by its number only: its nonce is derived from the interaction's uid and that number
 * under a secret of the OP (op/interactions/limits.ts), so the table holds nothing a signature
 * could be made for.
 *
 * - **Born with its interaction**: a new interaction at its login prompt is stored with challenge
 *   number 1 already issued (firstChallengeAttributes, written by the adapter in the same item),
 *   so the login page it is sent to needs no write of its own.
 * - **Issued and counted at once**: `issue` is ONE conditional UpdateItem that makes the next
 *   number live, clears the consumption and so counts it, only if the interaction is live, at its
 *   login (or identity) prompt and had fewer than the allowed challenges.
 * - **Consumed and counted once**: `consume` is ONE conditional UpdateItem that marks the live
 *   challenge consumed and adds 1 to `challengesAnswered`, only if it is unconsumed and unexpired,
 *   the interaction itself unexpired, and it had fewer than the allowed answers; DynamoDB applies
 *   writes to one item serially, so of concurrent consumes exactly one gets the challenge, and no
 *   interaction gets more answers verified than allowed. No transactions, no TTL (dynalite has neither): expiry is checked on
 *   every read and write.
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
 * Where the OP keeps login challenges: numbered per interaction (the OIDC login in progress), each
 * valid for at most CHALLENGE_TTL_SECONDS and consumed at most once; the interaction counts the
 * challenges it was given and the answers it consumed.
 */
export interface ChallengeStore {
  /**
   * A new challenge of `interactionUid` (replacing any previous), its number; undefined when there
   * is no live interaction of that uid at its login prompt. Throws ChallengeLimitError
   * (`challenge`) when the interaction already had `maxChallenges`.
   */
  issue(interactionUid: string, maxChallenges: number): Promise<number | undefined>;
  /**
   * Atomically consumes the live challenge of `interactionUid`: returns its number when it exists,
   * is unexpired and was not consumed before; otherwise undefined. Of concurrent calls at most one
   * gets it. Throws ChallengeLimitError (`answer`) when the interaction already had `maxAnswers`
   * challenges consumed.
   */
  consume(interactionUid: string, maxAnswers: number): Promise<number | undefined>;
}

/** The number of the challenge a new interaction at its login prompt is stored with. */
export const FIRST_CHALLENGE = 1;

/** The interaction model, whose items hold the challenges. */
export const INTERACTION_MODEL = 'Interaction';
const CHALLENGE_EXPIRES_AT = 'challengeExpiresAt';
const CONSUMED_AT = 'challengeConsumedAt';
const ISSUED = 'challengesIssued';
const ANSWERED = 'challengesAnswered';
/** The expression names of the updates. */
const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  '#pk': PARTITION_KEY,
  '#challengeExpiresAt': CHALLENGE_EXPIRES_AT,
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

/**
 * The challenge attributes a new interaction item is stored with (by the adapter, in the same
 * write), for its `payload` as oidc-provider saves it: challenge FIRST_CHALLENGE, issued at
 * `nowMs`, for an interaction at its login prompt without a result (its first save); none otherwise.
 */
export function firstChallengeAttributes(
  payload: { readonly prompt?: { readonly name?: unknown }; readonly result?: unknown },
  nowMs: number,
): Readonly<Record<string, number>> {
  if (payload.prompt?.name !== 'login' || payload.result !== undefined) return {};
  return { [ISSUED]: FIRST_CHALLENGE, [CHALLENGE_EXPIRES_AT]: expiresAtAfter(nowMs, CHALLENGE_TTL_SECONDS) };
}

/** The challenge attributes of an interaction item (after unmarshall). */
interface StoredChallenge {
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

  async issue(interactionUid: string, maxChallenges: number): Promise<number | undefined> {
    const nowMs = this.#now();
    const issued = await this.#update(
      interactionUid,
      'SET #challengeExpiresAt = :challengeExpiresAt ADD #issued :one REMOVE #consumedAt',
      `${LIVE} AND #payload.#prompt.#name IN (:login, :identity) AND (attribute_not_exists(#issued) OR #issued < :max)`,
      {
        ':challengeExpiresAt': expiresAtAfter(nowMs, CHALLENGE_TTL_SECONDS),
        ':now': epochSeconds(nowMs),
        ':one': 1,
        ':login': 'login',
        // The identity step's card answer takes a challenge as the login's does (op/interactions/identity-prompt.ts).
        ':identity': 'identity',
        ':max': maxChallenges,
      },
    );
    if (issued) return issued[ISSUED];
    await this.#refusedBecause(interactionUid, 'challenge', ISSUED, maxChallenges, nowMs);
    return undefined;
  }

  async consume(interactionUid: string, maxAnswers: number): Promise<number | undefined> {
    const nowMs = this.#now();
    const consumed = await this.#update(
      interactionUid,
      'SET #consumedAt = :now ADD #answered :one',
      `${LIVE} AND attribute_exists(#issued) AND attribute_not_exists(#consumedAt) AND #challengeExpiresAt > :now AND ` +
        '(attribute_not_exists(#answered) OR #answered < :max)',
      { ':now': epochSeconds(nowMs), ':one': 1, ':max': maxAnswers },
    );
    if (consumed) return consumed[ISSUED];
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

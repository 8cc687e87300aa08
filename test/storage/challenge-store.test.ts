/**
 * The login challenges of an interaction (storage/challenge-store.ts): numbered, the first stored
 * with a new login interaction, each consumed at most once and only while live, replaced by the
 * next, gone with a re-save, and counted against the limits, also under concurrency.
 */
import { describe, expect, test } from '@jest/globals';
import type { InteractionResults } from 'oidc-provider';
import { CHALLENGE_TTL_SECONDS, TTL } from '../../functions/defaults.js';
import {
  ChallengeLimitError,
  DynamoChallengeStore,
  FIRST_CHALLENGE,
  firstChallengeAttributes,
} from '../../functions/storage/challenge-store.js';
import { createDynamoAdapter } from '../../functions/storage/oidc-adapter.js';
import { scanAll, useLocalTables } from './local-table.js';

const newTable = useLocalTables();
const T0 = 1_700_000_000_000;
/** Limits high enough not to matter where a test is not about them. */
const MANY = 1_000;
/** The prompt of a login interaction, as oidc-provider stores it. */
const LOGIN_PROMPT = { prompt: { name: 'login', reasons: ['no_session'], details: {} } };
const CONSENT_PROMPT = { prompt: { name: 'consent', reasons: ['op_scopes_missing'], details: {} } };
const IDENTITY_PROMPT = { prompt: { name: 'identity', reasons: ['identity_requested'], details: {} } };

/** A challenge store and the interactions' adapter on one table, both on one clock. */
async function setup() {
  const clock = { now: T0 };
  const table = await newTable();
  const now = () => clock.now;
  const store = new DynamoChallengeStore({ ...table, now });
  const interactions = new (createDynamoAdapter({ ...table, now }))('Interaction');
  /** Stores a new interaction at `prompt` (login by default), as oidc-provider does. */
  const newInteraction = (uid: string, prompt = LOGIN_PROMPT) =>
    interactions.upsert(uid, { uid, ...prompt }, TTL.Interaction);
  /** Re-saves interaction `uid` with `result`, as oidc-provider's interactionResult does. */
  const saveResult = (uid: string, result: InteractionResults) =>
    interactions.upsert(uid, { uid, ...LOGIN_PROMPT, result }, TTL.Interaction);
  /** The stored item of interaction `uid` (inspection only). */
  const itemOf = async (uid: string) =>
    (await scanAll(table)).find((item) => (item.payload as { uid?: string } | undefined)?.uid === uid);
  return { store, clock, newInteraction, saveResult, itemOf };
}

describe('the first challenge, stored with its interaction', () => {
  test('a new login interaction has challenge 1 live: consumed once, with no issue', async () => {
    const { store, newInteraction } = await setup();
    await newInteraction('interaction-1');
    expect(await store.consume('interaction-1', MANY)).toBe(FIRST_CHALLENGE);
    expect(await store.consume('interaction-1', MANY)).toBeUndefined();
  });

  test('is written in the interaction item, counted as its first challenge', async () => {
    const { newInteraction, itemOf } = await setup();
    await newInteraction('interaction-1');
    expect(await itemOf('interaction-1')).toMatchObject({
      challengesIssued: 1,
      challengeExpiresAt: T0 / 1000 + CHALLENGE_TTL_SECONDS,
    });
    expect(await itemOf('interaction-1')).not.toHaveProperty('challengesAnswered');
  });

  test('a consent-prompt interaction is stored without one', async () => {
    const { store, newInteraction, itemOf } = await setup();
    await newInteraction('consent-1', CONSENT_PROMPT);
    expect(await itemOf('consent-1')).not.toHaveProperty('challengesIssued');
    expect(await store.consume('consent-1', MANY)).toBeUndefined();
  });

  test('an identity-step interaction is stored without one and is issued challenge 1', async () => {
    const { store, newInteraction } = await setup();
    await newInteraction('identity-1', IDENTITY_PROMPT);
    expect(await store.consume('identity-1', MANY)).toBeUndefined();
    expect(await store.issue('identity-1', MANY)).toBe(1);
    expect(await store.consume('identity-1', MANY)).toBe(1);
  });

  test('a re-save with a result is stored without one (and drops the live one)', async () => {
    const { store, newInteraction, saveResult, itemOf } = await setup();
    await newInteraction('interaction-1');
    await saveResult('interaction-1', { login: { accountId: 'a' } });
    const item = await itemOf('interaction-1');
    expect(item).toMatchObject({ payload: { result: { login: { accountId: 'a' } } } });
    for (const attribute of ['challengesIssued', 'challengeExpiresAt', 'challengesAnswered'])
      expect(item).not.toHaveProperty(attribute);
    expect(await store.consume('interaction-1', MANY)).toBeUndefined();
  });

  test('firstChallengeAttributes: only for a login prompt without a result', () => {
    const login = { prompt: { name: 'login' } };
    expect(firstChallengeAttributes(login, T0 + 999)).toEqual({
      challengesIssued: FIRST_CHALLENGE,
      challengeExpiresAt: T0 / 1000 + CHALLENGE_TTL_SECONDS,
    });
    expect(firstChallengeAttributes({ ...login, result: {} }, T0)).toEqual({});
    expect(firstChallengeAttributes({ ...login, result: { error: 'access_denied' } }, T0)).toEqual({});
    expect(firstChallengeAttributes({ prompt: { name: 'consent' } }, T0)).toEqual({});
    expect(firstChallengeAttributes({ prompt: { name: 'identity' } }, T0)).toEqual({});
    expect(firstChallengeAttributes({}, T0)).toEqual({});
  });
});

describe('issue and consume', () => {
  test('a challenge belongs to its interaction only', async () => {
    const { store, newInteraction } = await setup();
    await newInteraction('interaction-1');
    await newInteraction('interaction-2');
    expect(await store.consume('interaction-1', MANY)).toBe(1);
    expect(await store.consume('interaction-1', MANY)).toBeUndefined();
    // interaction-2's own challenge 1 is untouched by interaction-1's consume.
    expect(await store.consume('interaction-2', MANY)).toBe(1);
  });

  test('each issue makes the next number live and replaces the previous', async () => {
    const { store, newInteraction } = await setup();
    await newInteraction('interaction-1');
    expect(await store.issue('interaction-1', MANY)).toBe(2);
    expect(await store.issue('interaction-1', MANY)).toBe(3);
    // Only the last is live: one consume gets it, none is left for 1 or 2.
    expect(await store.consume('interaction-1', MANY)).toBe(3);
    expect(await store.consume('interaction-1', MANY)).toBeUndefined();
  });

  test('after a consume, issuing gives the next number and the consumed one stays spent', async () => {
    const { store, newInteraction } = await setup();
    await newInteraction('interaction-1');
    expect(await store.consume('interaction-1', MANY)).toBe(1);
    expect(await store.issue('interaction-1', MANY)).toBe(2);
    expect(await store.consume('interaction-1', MANY)).toBe(2);
    expect(await store.consume('interaction-1', MANY)).toBeUndefined();
  });

  test('no challenge without a live interaction at its login prompt', async () => {
    const { store, newInteraction } = await setup();
    expect(await store.issue('no-such-interaction', MANY)).toBeUndefined();
    expect(await store.consume('no-such-interaction', MANY)).toBeUndefined();
    await newInteraction('consent-1', CONSENT_PROMPT);
    expect(await store.issue('consent-1', MANY)).toBeUndefined();
    expect(await store.consume('consent-1', MANY)).toBeUndefined();
  });
});

describe('expiry', () => {
  test(`the first challenge expires ${CHALLENGE_TTL_SECONDS} seconds after its interaction was stored`, async () => {
    const { store, clock, newInteraction } = await setup();
    await newInteraction('interaction-1');
    await newInteraction('interaction-2');
    clock.now = T0 + CHALLENGE_TTL_SECONDS * 1000;
    expect(await store.consume('interaction-1', MANY)).toBeUndefined();
    clock.now = T0 + CHALLENGE_TTL_SECONDS * 1000 - 1;
    expect(await store.consume('interaction-2', MANY)).toBe(1);
  });

  test(`an issued challenge expires after at most ${CHALLENGE_TTL_SECONDS} seconds; the interaction can get another`, async () => {
    const { store, clock, newInteraction } = await setup();
    await newInteraction('interaction-1');
    await newInteraction('interaction-2');
    const T1 = T0 + 60_000;
    clock.now = T1;
    expect(await store.issue('interaction-1', MANY)).toBe(2);
    expect(await store.issue('interaction-2', MANY)).toBe(2);
    clock.now = T1 + CHALLENGE_TTL_SECONDS * 1000;
    expect(await store.consume('interaction-1', MANY)).toBeUndefined();
    expect(await store.issue('interaction-1', MANY)).toBe(3);
    expect(await store.consume('interaction-1', MANY)).toBe(3);
    clock.now = T1 + CHALLENGE_TTL_SECONDS * 1000 - 1;
    expect(await store.consume('interaction-2', MANY)).toBe(2);
  });

  test('a challenge renewed late in the interaction ends with it', async () => {
    const { store, clock, newInteraction } = await setup();
    await newInteraction('interaction-1');
    clock.now = T0 + (TTL.Interaction - 60) * 1000;
    expect(await store.issue('interaction-1', MANY)).toBe(2);
    clock.now = T0 + TTL.Interaction * 1000;
    expect(await store.consume('interaction-1', MANY)).toBeUndefined();
    expect(await store.issue('interaction-1', MANY)).toBeUndefined();
  });
});

describe('re-saves', () => {
  test('oidc-provider re-saving the interaction (its result) drops an issued challenge', async () => {
    const { store, newInteraction, saveResult } = await setup();
    await newInteraction('interaction-1');
    expect(await store.issue('interaction-1', MANY)).toBe(2);
    await saveResult('interaction-1', { login: { accountId: 'a' } });
    expect(await store.consume('interaction-1', MANY)).toBeUndefined();
  });

  test('an aborted interaction (its result saved, counts replaced) is given and answered no challenge', async () => {
    const { store, newInteraction, saveResult } = await setup();
    await newInteraction('interaction-1');
    expect(await store.consume('interaction-1', 3)).toBe(1);
    for (const number of [2, 3]) {
      expect(await store.issue('interaction-1', 3)).toBe(number);
      expect(await store.consume('interaction-1', 3)).toBe(number);
    }
    await expect(store.issue('interaction-1', 3)).rejects.toBeInstanceOf(ChallengeLimitError);
    // POST /interaction/:uid/abort: interactionResult re-saves it, still at its login prompt.
    await saveResult('interaction-1', { error: 'access_denied' });
    expect(await store.issue('interaction-1', 3)).toBeUndefined();
    expect(await store.consume('interaction-1', 3)).toBeUndefined();
  });
});

describe('limits', () => {
  test('counts the challenges of an interaction, its first included, and refuses the one over the limit, saying for how long', async () => {
    const { store, clock, newInteraction } = await setup();
    await newInteraction('interaction-1');
    await newInteraction('interaction-2');
    expect(await store.issue('interaction-1', 3)).toBe(2);
    expect(await store.issue('interaction-1', 3)).toBe(3);
    clock.now = T0 + 100_000;
    const refusal = await store.issue('interaction-1', 3).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ChallengeLimitError);
    expect(refusal).toMatchObject({
      code: 'LIMIT_REACHED',
      count: 'challenge',
      retryAfterSeconds: TTL.Interaction - 100,
    });
    // The last challenge handed out stays good; another interaction has its own count.
    expect(await store.consume('interaction-1', MANY)).toBe(3);
    expect(await store.issue('interaction-2', 3)).toBe(2);
  });

  test('a limit of one challenge leaves only the first', async () => {
    const { store, newInteraction } = await setup();
    await newInteraction('interaction-1');
    await expect(store.issue('interaction-1', 1)).rejects.toMatchObject({ count: 'challenge' });
    expect(await store.consume('interaction-1', MANY)).toBe(1);
  });

  test('counts the consumed answers of an interaction: none past the limit is consumed', async () => {
    const { store, newInteraction } = await setup();
    await newInteraction('interaction-1');
    expect(await store.consume('interaction-1', 2)).toBe(1);
    expect(await store.issue('interaction-1', MANY)).toBe(2);
    expect(await store.consume('interaction-1', 2)).toBe(2);
    expect(await store.issue('interaction-1', MANY)).toBe(3);
    await expect(store.consume('interaction-1', 2)).rejects.toMatchObject({
      count: 'answer',
      retryAfterSeconds: TTL.Interaction,
    });
    // Under the limit, an answer that finds no challenge is refused without a limit error.
    await newInteraction('interaction-2');
    expect(await store.consume('interaction-2', 2)).toBe(1);
    expect(await store.consume('interaction-2', 2)).toBeUndefined();
  });
});

describe('concurrency', () => {
  test('of 20 concurrent consumes exactly one gets the challenge', async () => {
    const { store, newInteraction } = await setup();
    await newInteraction('interaction-1');
    const results = await Promise.all(Array.from({ length: 20 }, () => store.consume('interaction-1', MANY)));
    expect(results.filter((result) => result === FIRST_CHALLENGE)).toHaveLength(1);
    expect(results.filter((result) => result === undefined)).toHaveLength(19);
  });

  test('of 20 concurrent consumes of an issued challenge exactly one gets it', async () => {
    const { store, newInteraction } = await setup();
    await newInteraction('interaction-1');
    expect(await store.issue('interaction-1', MANY)).toBe(2);
    const results = await Promise.all(Array.from({ length: 20 }, () => store.consume('interaction-1', MANY)));
    expect(results.filter((result) => result === 2)).toHaveLength(1);
    expect(results.filter((result) => result === undefined)).toHaveLength(19);
  });

  test('of 20 concurrent issues exactly the limit less the first get a challenge, each its own number', async () => {
    const { store, newInteraction } = await setup();
    await newInteraction('interaction-1');
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => store.issue('interaction-1', 5)),
    );
    const numbers = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    expect(numbers.sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([2, 3, 4, 5]);
    expect(
      results.every(
        (result) => result.status === 'fulfilled' || result.reason instanceof ChallengeLimitError,
      ),
    ).toBe(true);
    expect(await store.consume('interaction-1', MANY)).toBe(5);
  });
});

import { describe, expect, test } from '@jest/globals';
import { CHALLENGE_TTL_SECONDS, TTL } from '../../functions/defaults.js';
import { ChallengeLimitError, DynamoChallengeStore } from '../../functions/storage/challenge-store.js';
import { createDynamoAdapter } from '../../functions/storage/oidc-adapter.js';
import { useLocalTables } from './local-table.js';

const newTable = useLocalTables();
const T0 = 1_700_000_000_000;
/** Limits high enough not to matter where a test is not about them. */
const MANY = 1_000;
/** The prompt of a login interaction, as oidc-provider stores it. */
const LOGIN_PROMPT = { prompt: { name: 'login', reasons: ['no_session'], details: {} } };
const CONSENT_PROMPT = { prompt: { name: 'consent', reasons: ['op_scopes_missing'], details: {} } };

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
  return { store, clock, interactions, newInteraction };
}

describe('DynamoChallengeStore', () => {
  test('issues a 256-bit base64url nonce that is consumed once', async () => {
    const { store, newInteraction } = await setup();
    await newInteraction('interaction-1');
    const nonce = (await store.issue('interaction-1', MANY)) as string;
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(nonce, 'base64url')).toHaveLength(32);
    expect(await store.consume('interaction-1', MANY)).toBe(nonce);
    expect(await store.consume('interaction-1', MANY)).toBeUndefined();
  });

  test('a challenge belongs to its interaction only', async () => {
    const { store, newInteraction } = await setup();
    await newInteraction('interaction-1');
    await newInteraction('interaction-2');
    const nonce = await store.issue('interaction-1', MANY);
    expect(await store.consume('interaction-2', MANY)).toBeUndefined();
    expect(await store.consume('interaction-1', MANY)).toBe(nonce);
  });

  test('each issue replaces the challenge: only the newest nonce is consumed', async () => {
    const { store, newInteraction } = await setup();
    await newInteraction('interaction-1');
    const first = await store.issue('interaction-1', MANY);
    const second = await store.issue('interaction-1', MANY);
    expect(second).not.toBe(first);
    expect(await store.consume('interaction-1', MANY)).toBe(second);
  });

  test('after a consume, issuing gives a new nonce and the consumed one stays spent', async () => {
    const { store, newInteraction } = await setup();
    await newInteraction('interaction-1');
    const first = await store.issue('interaction-1', MANY);
    expect(await store.consume('interaction-1', MANY)).toBe(first);
    const second = await store.issue('interaction-1', MANY);
    expect(second).not.toBe(first);
    expect(await store.consume('interaction-1', MANY)).toBe(second);
    expect(await store.consume('interaction-1', MANY)).toBeUndefined();
  });

  test(`expires after at most ${CHALLENGE_TTL_SECONDS} seconds`, async () => {
    const { store, clock, newInteraction } = await setup();
    await newInteraction('interaction-1');
    await newInteraction('interaction-2');
    await store.issue('interaction-1', MANY);
    const nonce = await store.issue('interaction-2', MANY);
    clock.now = T0 + CHALLENGE_TTL_SECONDS * 1000;
    expect(await store.consume('interaction-1', MANY)).toBeUndefined();
    clock.now = T0 + CHALLENGE_TTL_SECONDS * 1000 - 1;
    expect(await store.consume('interaction-2', MANY)).toBe(nonce);
  });

  test('a challenge renewed late in the interaction ends with it', async () => {
    const { store, clock, newInteraction } = await setup();
    await newInteraction('interaction-1');
    clock.now = T0 + (TTL.Interaction - 60) * 1000;
    await store.issue('interaction-1', MANY);
    clock.now = T0 + TTL.Interaction * 1000;
    expect(await store.consume('interaction-1', MANY)).toBeUndefined();
    expect(await store.issue('interaction-1', MANY)).toBeUndefined();
  });

  test('oidc-provider re-saving the interaction (its result) drops the challenge', async () => {
    const { store, interactions, newInteraction } = await setup();
    await newInteraction('interaction-1');
    await store.issue('interaction-1', MANY);
    await interactions.upsert(
      'interaction-1',
      { uid: 'interaction-1', ...LOGIN_PROMPT, result: { login: { accountId: 'a' } } },
      TTL.Interaction,
    );
    expect(await store.consume('interaction-1', MANY)).toBeUndefined();
  });

  test('an aborted interaction (its result saved, counts replaced) is given and answered no challenge', async () => {
    const { store, newInteraction, interactions } = await setup();
    await newInteraction('interaction-1');
    for (let i = 0; i < 2; i++) {
      await store.issue('interaction-1', 2);
      expect(await store.consume('interaction-1', 2)).toEqual(expect.any(String));
    }
    await expect(store.issue('interaction-1', 2)).rejects.toBeInstanceOf(ChallengeLimitError);
    // POST /interaction/:uid/abort: interactionResult re-saves it, still at its login prompt.
    await interactions.upsert(
      'interaction-1',
      { uid: 'interaction-1', ...LOGIN_PROMPT, result: { error: 'access_denied' } },
      TTL.Interaction,
    );
    expect(await store.issue('interaction-1', 2)).toBeUndefined();
    expect(await store.consume('interaction-1', 2)).toBeUndefined();
  });

  test('no challenge without a live interaction at its login prompt', async () => {
    const { store, newInteraction } = await setup();
    expect(await store.issue('no-such-interaction', MANY)).toBeUndefined();
    expect(await store.consume('no-such-interaction', MANY)).toBeUndefined();
    await newInteraction('consent-1', CONSENT_PROMPT);
    expect(await store.issue('consent-1', MANY)).toBeUndefined();
    expect(await store.consume('consent-1', MANY)).toBeUndefined();
  });

  test('counts the challenges of an interaction and refuses the one over the limit, saying for how long', async () => {
    const { store, clock, newInteraction } = await setup();
    await newInteraction('interaction-1');
    await newInteraction('interaction-2');
    for (let i = 0; i < 3; i++) expect(await store.issue('interaction-1', 3)).toEqual(expect.any(String));
    clock.now = T0 + 100_000;
    const refusal = await store.issue('interaction-1', 3).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ChallengeLimitError);
    expect(refusal).toMatchObject({
      code: 'LIMIT_REACHED',
      count: 'challenge',
      retryAfterSeconds: TTL.Interaction - 100,
    });
    // The last challenge handed out stays good; another interaction has its own count.
    expect(await store.consume('interaction-1', MANY)).toEqual(expect.any(String));
    expect(await store.issue('interaction-2', 3)).toEqual(expect.any(String));
  });

  test('counts the consumed answers of an interaction: none past the limit gets a nonce', async () => {
    const { store, newInteraction } = await setup();
    await newInteraction('interaction-1');
    for (let i = 0; i < 2; i++) {
      const nonce = await store.issue('interaction-1', MANY);
      expect(await store.consume('interaction-1', 2)).toBe(nonce);
    }
    await store.issue('interaction-1', MANY);
    await expect(store.consume('interaction-1', 2)).rejects.toMatchObject({
      count: 'answer',
      retryAfterSeconds: TTL.Interaction,
    });
    // Under the limit, an answer that finds no challenge is refused without a limit error.
    await newInteraction('interaction-2');
    expect(await store.consume('interaction-2', 2)).toBeUndefined();
  });

  test('of 20 concurrent consumes exactly one gets the nonce', async () => {
    const { store, newInteraction } = await setup();
    await newInteraction('interaction-1');
    const nonce = await store.issue('interaction-1', MANY);
    const results = await Promise.all(Array.from({ length: 20 }, () => store.consume('interaction-1', MANY)));
    expect(results.filter((result) => result === nonce)).toHaveLength(1);
    expect(results.filter((result) => result === undefined)).toHaveLength(19);
  });

  test('of 20 concurrent issues exactly the limit get a challenge', async () => {
    const { store, newInteraction } = await setup();
    await newInteraction('interaction-1');
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => store.issue('interaction-1', 5)),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(5);
    expect(
      results.every(
        (result) => result.status === 'fulfilled' || result.reason instanceof ChallengeLimitError,
      ),
    ).toBe(true);
  });
});

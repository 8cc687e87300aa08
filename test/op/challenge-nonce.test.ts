/**
 * The login challenge's nonce (op/interactions/limits.ts LoginLimits): derived from the
 * interaction's uid and the challenge's number under the OP's secret, in the helper protocol's
 * nonce format; answering consumes the live challenge of the store (storage/challenge-store.ts on
 * dynalite) and gives the nonce of the number consumed.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import { TTL } from '../../functions/defaults.js';
import { LoginLimits } from '../../functions/op/interactions/limits.js';
import { LoginError } from '../../functions/op/interactions/login-error.js';
import { loginLimitSettings } from '../../functions/op/limit-settings.js';
import { DynamoChallengeStore } from '../../functions/storage/challenge-store.js';
import { createDynamoAdapter } from '../../functions/storage/oidc-adapter.js';
import { DynamoRateCounter } from '../../functions/storage/rate-counter.js';
import { isValidNonce } from '../../protocol/signed-data.js';
import { useLocalTables } from '../storage/local-table.js';
import { memoryLogger } from '../support/op-stack.js';

const newTable = useLocalTables();
const T0 = 1_700_000_000_000;
const SECRET = randomBytes(32);
const UID = 'interaction-1';
/** The largest number a nonce can carry: six base-36 digits. */
const LARGEST = 36 ** 6 - 1;
const LOGIN_PROMPT = { prompt: { name: 'login', reasons: ['no_session'], details: {} } };

/** LoginLimits under `secret` on a fresh table, with the interactions' adapter on the same clock. */
async function setup(secret: Uint8Array = SECRET, limits: Parameters<typeof loginLimitSettings>[0] = {}) {
  const table = await newTable();
  const now = () => T0;
  const logger = memoryLogger();
  const login = new LoginLimits({
    counter: new DynamoRateCounter({ ...table, now }),
    challenges: new DynamoChallengeStore({ ...table, now }),
    settings: loginLimitSettings(limits),
    secret,
    logger,
  });
  const interactions = new (createDynamoAdapter({ ...table, now }))('Interaction');
  /** Stores a new login interaction, as oidc-provider does. */
  const newInteraction = (uid: string) => interactions.upsert(uid, { uid, ...LOGIN_PROMPT }, TTL.Interaction);
  return { login, logger, newInteraction };
}

describe('the nonce of a challenge', () => {
  test("has the helper protocol's nonce format: the number in base 36, then 43 characters", async () => {
    const { login } = await setup();
    for (const number of [1, 2, 10, 35, 36, 1295, 1296, LARGEST]) {
      const nonce = login.challengeNonce(UID, number);
      expect(isValidNonce(nonce)).toBe(true);
      expect(nonce.startsWith(number.toString(36))).toBe(true);
      expect(nonce).toHaveLength(number.toString(36).length + 43);
    }
  });

  test('is the same for the same uid and number, and differs per uid and per number, MAC included', async () => {
    const { login } = await setup();
    expect(login.challengeNonce(UID, 3)).toBe(login.challengeNonce(UID, 3));
    const nonces = ['interaction-1', 'interaction-2', 'interaction-10', ''].flatMap((uid) =>
      Array.from({ length: 40 }, (_, i) => login.challengeNonce(uid, i + 1)),
    );
    expect(new Set(nonces).size).toBe(nonces.length);
    expect(new Set(nonces.map((nonce) => nonce.slice(-43))).size).toBe(nonces.length);
  });

  test('firstChallenge is the nonce of challenge 1', async () => {
    const { login } = await setup();
    expect(login.firstChallenge(UID)).toBe(login.challengeNonce(UID, 1));
  });

  test('is keyed: another secret gives other nonces', async () => {
    const [{ login }, { login: other }] = await Promise.all([setup(), setup(randomBytes(32))]);
    for (const number of [1, 2, 36, LARGEST])
      expect(other.challengeNonce(UID, number)).not.toBe(login.challengeNonce(UID, number));
    expect(other.firstChallenge(UID)).not.toBe(login.firstChallenge(UID));
  });
});

describe('answering consumes the live challenge', () => {
  test('a new interaction answers its first challenge, once', async () => {
    const { login, newInteraction } = await setup();
    await newInteraction(UID);
    expect(await login.answer(UID)).toBe(login.firstChallenge(UID));
    expect(await login.answer(UID)).toBeUndefined();
  });

  test('a new challenge replaces the first: the answer gives its nonce, once', async () => {
    const { login, newInteraction } = await setup();
    await newInteraction(UID);
    const second = await login.challenge(UID);
    expect(second).toBe(login.challengeNonce(UID, 2));
    expect(await login.answer(UID)).toBe(second);
    expect(await login.answer(UID)).toBeUndefined();
    expect(await login.challenge(UID)).toBe(login.challengeNonce(UID, 3));
    expect(await login.answer(UID)).toBe(login.challengeNonce(UID, 3));
  });

  /** `refused` is rejected with TOO_MANY_ATTEMPTS and Retry-After, logged as limit `limit`. */
  async function expectLimited(
    refused: Promise<unknown>,
    logger: ReturnType<typeof memoryLogger>,
    limit: string,
  ) {
    const refusal = await refused.catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(LoginError);
    expect(refusal).toMatchObject({ code: 'TOO_MANY_ATTEMPTS', retryAfterSeconds: TTL.Interaction });
    expect(logger.lines).toContainEqual({
      level: 'info',
      event: 'login.limited',
      fields: { limit, retryAfterSeconds: TTL.Interaction },
    });
  }

  test('over the limit, a challenge is refused with TOO_MANY_ATTEMPTS and Retry-After, logged', async () => {
    const { login, logger, newInteraction } = await setup(SECRET, { challengesPerInteraction: 2 });
    await newInteraction(UID);
    expect(await login.challenge(UID)).toBe(login.challengeNonce(UID, 2));
    await expectLimited(login.challenge(UID), logger, 'challenge');
  });

  test('over the limit, an answer is refused with TOO_MANY_ATTEMPTS and Retry-After, logged', async () => {
    const { login, logger, newInteraction } = await setup(SECRET, { answersPerInteraction: 1 });
    await newInteraction(UID);
    expect(await login.answer(UID)).toBe(login.firstChallenge(UID));
    expect(await login.challenge(UID)).toBe(login.challengeNonce(UID, 2));
    await expectLimited(login.answer(UID), logger, 'answer');
  });

  test('no challenge for an interaction that is not there', async () => {
    const { login } = await setup();
    expect(await login.challenge('no-such-interaction')).toBeUndefined();
    expect(await login.answer('no-such-interaction')).toBeUndefined();
  });
});

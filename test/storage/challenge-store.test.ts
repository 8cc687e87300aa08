import { describe, expect, test } from '@jest/globals';
import { CHALLENGE_TTL_SECONDS } from '../../functions/defaults.js';
import { DynamoChallengeStore } from '../../functions/storage/challenge-store.js';
import { useLocalTables } from './local-table.js';

const newTable = useLocalTables();
const T0 = 1_700_000_000_000;

async function setup() {
  const clock = { now: T0 };
  const store = new DynamoChallengeStore({ ...(await newTable()), now: () => clock.now });
  return { store, clock };
}

describe('DynamoChallengeStore', () => {
  test('issues a 256-bit base64url nonce that is consumed once', async () => {
    const { store } = await setup();
    const nonce = await store.issue('interaction-1');
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(nonce, 'base64url')).toHaveLength(32);
    expect(await store.consume('interaction-1')).toBe(nonce);
    expect(await store.consume('interaction-1')).toBeUndefined();
  });

  test('a challenge belongs to its interaction only', async () => {
    const { store } = await setup();
    const nonce = await store.issue('interaction-1');
    expect(await store.consume('interaction-2')).toBeUndefined();
    expect(await store.consume('interaction-1')).toBe(nonce);
  });

  test('issuing again replaces the previous nonce', async () => {
    const { store } = await setup();
    const first = await store.issue('interaction-1');
    const second = await store.issue('interaction-1');
    expect(second).not.toBe(first);
    expect(await store.consume('interaction-1')).toBe(second);
  });

  test(`expires after at most ${CHALLENGE_TTL_SECONDS} seconds`, async () => {
    const { store, clock } = await setup();
    await store.issue('interaction-1');
    const nonce = await store.issue('interaction-2');
    clock.now = T0 + CHALLENGE_TTL_SECONDS * 1000;
    expect(await store.consume('interaction-1')).toBeUndefined();
    clock.now = T0 + CHALLENGE_TTL_SECONDS * 1000 - 1;
    expect(await store.consume('interaction-2')).toBe(nonce);
  });

  test('of 20 concurrent consumes exactly one gets the nonce', async () => {
    const { store } = await setup();
    const nonce = await store.issue('interaction-1');
    const results = await Promise.all(Array.from({ length: 20 }, () => store.consume('interaction-1')));
    expect(results.filter((result) => result === nonce)).toHaveLength(1);
    expect(results.filter((result) => result === undefined)).toHaveLength(19);
  });
});

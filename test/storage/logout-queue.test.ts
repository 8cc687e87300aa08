/** The durable back-channel logout queue: once per id, due times, the retry schedule, conditional records. */
import { describe, expect, it } from '@jest/globals';
import { BACKCHANNEL_RETRY } from '../../functions/defaults.js';
import { LogoutQueue } from '../../functions/storage/logout-queue.js';
import { scanAll, useLocalTables } from './local-table.js';

const newTable = useLocalTables();
const T0 = new Date('2030-01-01T00:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const REQUEST = {
  id: 'logout:sid-1#rp-a',
  clientId: 'rp-a',
  uri: 'https://rp-a.example/bc',
  sub: 's',
  sid: 'sid-1',
  alg: 'RS256',
};

describe('LogoutQueue', () => {
  it('queues an id once, and a delivery is due from its next attempt time', async () => {
    const queue = new LogoutQueue(await newTable());
    const queued = await queue.enqueue(REQUEST, T0);
    expect(queued).toMatchObject({ ...REQUEST, state: 'pending', attempts: 0, nextAttemptAt: T0.getTime() });
    expect(await queue.enqueue(REQUEST, at(5))).toBeUndefined();
    expect(await queue.due(at(-1))).toEqual([]);
    expect(await queue.due(T0)).toEqual([queued]);
  });

  it('retries on a doubling schedule capped at 6 h, then fails after maxAttempts; finished items expire', async () => {
    const table = await newTable();
    const queue = new LogoutQueue({ ...table, maxAttempts: 12 });
    let delivery = (await queue.enqueue(REQUEST, T0)) as NonNullable<
      Awaited<ReturnType<LogoutQueue['enqueue']>>
    >;
    let now = T0;
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 12; attempt++) {
      const outcome = await queue.record(delivery, 1, 'answered 503', now);
      expect(outcome).toBe(attempt < 12 ? 'retrying' : 'failed');
      const [next] = await queue.due(at(10 * 86_400));
      if (!next) break;
      delays.push((next.nextAttemptAt - now.getTime()) / 1000);
      now = new Date(next.nextAttemptAt);
      delivery = next;
    }
    expect(delays).toEqual([60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600, 21600]);
    expect(delays.every((delay) => delay <= BACKCHANNEL_RETRY.maxRetryDelaySeconds)).toBe(true);
    const [stored] = await scanAll(table);
    expect(stored).toMatchObject({
      state: 'failed',
      attempts: 12,
      lastError: 'answered 503',
      expiresAt: Math.floor(now.getTime() / 1000) + BACKCHANNEL_RETRY.finishedTtlSeconds,
    });
  });

  it('records an attempt once: a second sender with the same snapshot writes nothing', async () => {
    const queue = new LogoutQueue(await newTable());
    const delivery = (await queue.enqueue(REQUEST, T0)) as NonNullable<
      Awaited<ReturnType<LogoutQueue['enqueue']>>
    >;
    expect(await queue.record(delivery, 1, undefined, at(1))).toBe('delivered');
    expect(await queue.record(delivery, 1, 'late', at(2))).toBeUndefined();
    expect(await queue.due(at(3600))).toEqual([]);
  });
});

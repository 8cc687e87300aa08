/**
 * The local OP server's close(): it waits for the provider's start-up work that no request waits
 * for (the client listing behind the raw-serial warning), so whoever closes the storage next
 * (`npm start`, the local stack, tests) never closes it under a read still running.
 */
import { describe, expect, it } from '@jest/globals';
import { startOpServer } from '../../functions/op/local-server.js';
import { useLocalTables } from '../storage/local-table.js';
import { memoryLogger, testOpConfig } from '../support/op-stack.js';

const newTable = useLocalTables();

describe('startOpServer', () => {
  it('close() waits for the start-up client listing before it resolves', async () => {
    let finishListing: () => void = () => {};
    const listing = new Promise<never[]>((resolve) => {
      finishListing = () => resolve([]);
    });
    const table = await newTable();
    const server = await startOpServer({
      config: async (url) => {
        const config = await testOpConfig(url, { table, logger: memoryLogger() });
        return { ...config, storage: { ...config.storage, clients: { list: () => listing } } };
      },
    });
    let closed = false;
    const closing = server.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(closed).toBe(false);
    finishListing();
    await closing;
    expect(closed).toBe(true);
  });
});

/**
 * The local OP server's close(): it waits for the provider's start-up work that no request waits
 * for (the client listing behind the raw-serial warning), so whoever closes the storage next
 * (`npm start`, the local stack, tests) never closes it under a read still running; and it does
 * not wait for a client that keeps a socket open without sending a request (as a browser's
 * pre-connection does), which Node counts as neither idle nor busy.
 */
import { connect } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { startOpServer } from '../../functions/op/local-server.js';
import { useLocalTables } from '../storage/local-table.js';
import { memoryLogger, startTestOp, testOpConfig } from '../support/op-stack.js';

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

  it('close() closes a socket that never sent a request instead of waiting for its client', async () => {
    const op = await startTestOp({ table: await newTable() });
    const socket = connect(op.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    let hung: NodeJS.Timeout | undefined;
    const closed = await Promise.race([
      op.close().then(() => 'closed'),
      new Promise((resolve) => {
        hung = setTimeout(() => resolve('still open after 10 s'), 10_000);
      }),
    ]);
    clearTimeout(hung);
    expect(closed).toBe('closed');
    // The server closed the socket itself.
    await ended;
    socket.destroy();
  });
});

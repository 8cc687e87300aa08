/**
 * DynamoDB for development and tests: dynalite (DynamoDB's API over LevelDB) in this process, on
 * 127.0.0.1 only. With `path` the data persists in that LevelDB folder (created when missing; one
 * process at a time, LevelDB locks it); without it the data lives in memory. dynalite has no TTL
 * and no transactions; the storage code needs neither.
 */
import type { AddressInfo } from 'node:net';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { createDynamoClient } from './dynamo-client.js';

/** Options of startLocalDynamo. */
export interface LocalDynamoOptions {
  /** LevelDB folder to persist to; in-memory when absent. */
  readonly path?: string;
  /** TCP port; an ephemeral one when absent (or 0). */
  readonly port?: number;
}

/** A running local DynamoDB. */
export interface LocalDynamo {
  /** Its URL, e.g. http://127.0.0.1:41234. */
  readonly endpoint: string;
  /** A client for it (closed by close()). */
  readonly client: DynamoDBClient;
  /** Stops the server and closes the store (flushing it to `path`). */
  close(): Promise<void>;
}

/** Starts dynalite in-process; see LocalDynamoOptions. Tables become ACTIVE immediately. */
export async function startLocalDynamo(options: LocalDynamoOptions = {}): Promise<LocalDynamo> {
  const server = dynalite({
    ...(options.path === undefined ? {} : { path: options.path }),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = createDynamoClient({ endpoint });
  return {
    endpoint,
    client,
    async close() {
      client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

/**
 * DynamoDB for development and tests: dynalite (DynamoDB's API over LevelDB) in this process, on
 * 127.0.0.1 only. With `path` the data persists in that LevelDB folder (created when missing; one
 * process at a time, LevelDB locks it); without it the data lives in memory. dynalite has no TTL
 * and no transactions; the storage code needs neither.
 *
 * dynalite accepts any signature and answers a request with an Origin header with
 * `Access-Control-Allow-Origin: *`, so any web page the developer opens could read the tables
 * (client secrets) and write them. refuseBrowsers() keeps pages out: a browser marks every request
 * it sends for a page — `Origin` on every cross-origin and every POST request, `Sec-Fetch-Site` on
 * all of them — and a DNS-rebinding page arrives under a foreign Host name; such a request is
 * answered 403 before dynalite reads it, so no answer ever carries a CORS header either. The AWS
 * SDK and the CLI send none of these.
 */
import type { IncomingMessage, RequestListener, Server } from 'node:http';
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
  refuseBrowsers(server);
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

/** True for a request a local process sent to `port` on a loopback name, without a browser's marks. */
function fromLocalProcess(req: IncomingMessage, port: number): boolean {
  if (req.headers.origin !== undefined || req.headers['sec-fetch-site'] !== undefined) return false;
  return ['127.0.0.1', 'localhost', '[::1]'].some((host) => req.headers.host === `${host}:${port}`);
}

/** Puts the browser check (see the module comment) in front of dynalite's request handler. */
function refuseBrowsers(server: Server): void {
  const handlers = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (req, res) => {
    if (!fromLocalProcess(req, (server.address() as AddressInfo).port)) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('The local DynamoDB answers local processes only, never a web page.\n');
      return;
    }
    for (const handler of handlers) handler(req, res);
  });
}

/** The OP's storage on one DynamoDB table (real DynamoDB on AWS, dynalite locally). */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { PredecessorSource } from '../accounts/account-store.js';
import { DynamoAccountStore } from '../accounts/dynamo-account-store.js';
import { DynamoChallengeStore } from '../storage/challenge-store.js';
import { ClientRegistry } from '../storage/client-registry.js';
import { LogoutQueue } from '../storage/logout-queue.js';
import { createDynamoAdapter } from '../storage/oidc-adapter.js';
import { RequestScope } from '../storage/request-scope.js';
import type { OpStorage } from './config.js';
import { storageReads } from './storage-reads.js';

/** What the table-backed storage needs. */
export interface DynamoStorageOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** The certificate-key secret (account keys of predecessor certificates are computed with it). */
  readonly certificateKeySecret: Uint8Array;
  readonly predecessors: PredecessorSource;
}

/**
 * The adapter, challenges, accounts, client list and logout queue of one table, with each HTTP
 * request's calls in a RequestScope (read once, write together) and the adapter's reads made fewer
 * as storage-reads.ts describes.
 */
export function dynamoStorage(options: DynamoStorageOptions): OpStorage {
  const { client, tableName } = options;
  const requestScope = new RequestScope(client, tableName);
  return {
    adapter: storageReads(createDynamoAdapter({ client, tableName }), { scope: requestScope }),
    requestScope,
    challenges: new DynamoChallengeStore({ client, tableName }),
    accounts: new DynamoAccountStore({
      client,
      tableName,
      secret: options.certificateKeySecret,
      predecessors: options.predecessors,
    }),
    clients: new ClientRegistry({ client, tableName }),
    logoutQueue: new LogoutQueue({ client, tableName }),
  };
}

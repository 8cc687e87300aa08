/** The OP's storage on one DynamoDB table (real DynamoDB on AWS, dynalite locally). */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { PredecessorSource } from '../accounts/account-store.js';
import { DynamoAccountStore } from '../accounts/dynamo-account-store.js';
import { DynamoChallengeStore } from '../storage/challenge-store.js';
import { ClientRegistry } from '../storage/client-registry.js';
import { LogoutQueue } from '../storage/logout-queue.js';
import { createDynamoAdapter } from '../storage/oidc-adapter.js';
import { DynamoRateCounter } from '../storage/rate-counter.js';
import { ReleaseHistory } from '../storage/release-history.js';
import { RequestScope } from '../storage/request-scope.js';
import type { OpStorage } from './config.js';
import { storageReads } from './storage-reads.js';

/** What the table-backed storage needs. */
export interface DynamoStorageOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** The certificate-key secret (certificate keys of predecessor certificates are computed with it). */
  readonly certificateKeySecret: Uint8Array;
  readonly predecessors: PredecessorSource;
  /** Days an account is kept after its last login (default defaults.ts DEFAULT_ACCOUNT_RETENTION_DAYS). */
  readonly accountRetentionDays?: number;
  /** Days a release history entry is kept (default defaults.ts DEFAULT_RELEASE_HISTORY_RETENTION_DAYS). */
  readonly releaseHistoryRetentionDays?: number;
}

/**
 * The adapter, challenges (in the interaction items), accounts, client list, logout queue and rate counters of one table, with each HTTP
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
      ...(options.accountRetentionDays === undefined ? {} : { retentionDays: options.accountRetentionDays }),
    }),
    clients: new ClientRegistry({ client, tableName }),
    logoutQueue: new LogoutQueue({ client, tableName }),
    rateCounter: new DynamoRateCounter({ client, tableName }),
    accountData: {
      client,
      tableName,
      releaseHistory: new ReleaseHistory({
        client,
        tableName,
        ...(options.releaseHistoryRetentionDays === undefined
          ? {}
          : { retentionDays: options.releaseHistoryRetentionDays }),
      }),
    },
  };
}

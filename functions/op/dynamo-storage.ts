/** The OP's storage on one DynamoDB table (real DynamoDB on AWS, dynalite locally). */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { PredecessorSource } from '../accounts/account-store.js';
import { DynamoAccountStore } from '../accounts/dynamo-account-store.js';
import { DynamoChallengeStore } from '../storage/challenge-store.js';
import { ClientRegistry } from '../storage/client-registry.js';
import { createDynamoAdapter } from '../storage/oidc-adapter.js';
import type { OpStorage } from './config.js';

/** What the table-backed storage needs. */
export interface DynamoStorageOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** The subject secret (account keys of predecessor certificates are computed with it). */
  readonly subjectSecret: Uint8Array;
  readonly predecessors: PredecessorSource;
}

/** The adapter, challenges, accounts and client list of one table. */
export function dynamoStorage(options: DynamoStorageOptions): OpStorage {
  const { client, tableName } = options;
  return {
    adapter: createDynamoAdapter({ client, tableName }),
    challenges: new DynamoChallengeStore({ client, tableName }),
    accounts: new DynamoAccountStore({
      client,
      tableName,
      secret: options.subjectSecret,
      predecessors: options.predecessors,
    }),
    clients: new ClientRegistry({ client, tableName }),
  };
}

/** A predecessor source that knows no renewals (until J-LIS linking is configured). */
export const NO_PREDECESSORS: PredecessorSource = { predecessorSerial: async () => undefined };

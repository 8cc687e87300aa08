/**
 * The DynamoDB client every storage module uses: adaptive retry (the SDK's exponential backoff with
 * jitter for throttling and transient errors, plus client-side rate limiting while throttled), and
 * bounded connection/request timeouts so a stuck connection is retried instead of hanging a Lambda.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DYNAMO_CLIENT } from '../defaults.js';

/** Options of createDynamoClient. */
export interface DynamoClientOptions {
  /** Endpoint override, e.g. the URL of a local dynalite; credentials then default to dummies. */
  readonly endpoint?: string;
  /** AWS region; defaults to the SDK's resolution (AWS_REGION), or `LOCAL_REGION` with an endpoint. */
  readonly region?: string;
  /** Total attempts per request, first one included (default DYNAMO_CLIENT.maxAttempts, 6). */
  readonly maxAttempts?: number;
}

/** Region used with a local endpoint when none is given (dynalite ignores it). */
export const LOCAL_REGION = 'ap-northeast-1';

/** Creates a DynamoDB client with adaptive retry and timeouts; see DynamoClientOptions. */
export function createDynamoClient(options: DynamoClientOptions = {}): DynamoDBClient {
  const { endpoint, maxAttempts = DYNAMO_CLIENT.maxAttempts } = options;
  return new DynamoDBClient({
    retryMode: 'adaptive',
    maxAttempts,
    requestHandler: {
      connectionTimeout: DYNAMO_CLIENT.connectionTimeoutMs,
      requestTimeout: DYNAMO_CLIENT.requestTimeoutMs,
    },
    region: options.region ?? (endpoint === undefined ? undefined : LOCAL_REGION),
    ...(endpoint === undefined
      ? {}
      : {
          endpoint,
          // dynalite does not check signatures, but the SDK refuses to sign without credentials.
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }),
  });
}

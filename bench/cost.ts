/**
 * What a login costs on AWS, from measured figures (login-cost.ts) and list prices — the ONE price
 * table of the benches. Prices: us-east-1, on-demand, Lambda on arm64 (the stack's architecture),
 * as published on the AWS pricing pages in 2026 (DynamoDB on-demand after the November 2024 cut).
 * Tokyo (ap-northeast-1) is dearer: DynamoDB $0.715 / $0.1425 per million write / read units,
 * HTTP API $1.29 per million requests, Lambda the same.
 *
 * Per login: every HTTP request is one HTTP API request and one Lambda invocation; Lambda compute
 * is the measured handling time, scaled to the Lambda's CPU share (one vCPU at 1,769 MB, so a
 * 1,024 MB function runs CPU-bound code 1.73× slower than one core here) plus one in-region
 * DynamoDB round trip per sequential call (the local run talks to an in-process dynalite);
 * DynamoDB is the consumed write and read units. Secrets Manager is read once per cold start, not
 * per login (≈ $0.05 per 10,000 cold starts), and is left out, like CloudWatch Logs (docs/deploy.md).
 */
import { DEFAULTS } from '../infra/config.js';
import type { LoginCost } from './login-cost.js';

/** The goals of issue 12 §3 for one returning login. */
export const LOGIN_GOALS = {
  /** DynamoDB calls of one login. */
  calls: 14,
  /** The longest chain of DynamoDB calls that wait on each other. */
  sequential: 10,
  usdPerMillionLogins: 12,
} as const;

/** List prices, US dollars, us-east-1 (see the module comment). */
export const PRICES = {
  region: 'us-east-1',
  /** DynamoDB on-demand, per write request unit. */
  dynamoWriteUnit: 0.625e-6,
  /** DynamoDB on-demand, per read request unit. */
  dynamoReadUnit: 0.125e-6,
  /** Lambda, per request. */
  lambdaRequest: 0.2e-6,
  /** Lambda arm64, per GB-second. */
  lambdaGbSecond: 0.0000133334,
  /** API Gateway HTTP API, per request (first 300 million a month). */
  httpApiRequest: 1.0e-6,
} as const;

/** Memory the stack gives the OP Lambda, MB (infra/config.ts), and the size with one full vCPU. */
const LAMBDA_MEMORY_MB = DEFAULTS.memorySize;
const FULL_VCPU_MB = 1_769;
/** An in-region DynamoDB round trip from Lambda, ms (single-digit; the local run has none). */
export const DYNAMO_ROUND_TRIP_MS = 4;

/** The cost of one million logins, by item, US dollars. */
export interface LoginCostBreakdown {
  readonly dynamoWrites: number;
  readonly dynamoReads: number;
  readonly lambdaRequests: number;
  readonly lambdaCompute: number;
  readonly httpApi: number;
  readonly total: number;
}

/** Prices one million logins like `login`. */
export function costPerMillionLogins(login: LoginCost): LoginCostBreakdown {
  const million = 1e6;
  const cpuScale = Math.max(1, FULL_VCPU_MB / LAMBDA_MEMORY_MB);
  const lambdaMs = login.requestMs * cpuScale + login.dynamo.sequential * DYNAMO_ROUND_TRIP_MS;
  const gbSeconds = (lambdaMs / 1000) * (LAMBDA_MEMORY_MB / 1024);
  const items = {
    dynamoWrites: login.dynamo.writeUnits * PRICES.dynamoWriteUnit * million,
    dynamoReads: login.dynamo.readUnits * PRICES.dynamoReadUnit * million,
    lambdaRequests: login.requests * PRICES.lambdaRequest * million,
    lambdaCompute: gbSeconds * PRICES.lambdaGbSecond * million,
    httpApi: login.requests * PRICES.httpApiRequest * million,
  };
  return { ...items, total: Object.values(items).reduce((sum, value) => sum + value, 0) };
}

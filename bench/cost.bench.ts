/**
 * The AWS cost of a login, measured (login-cost.ts, dynamo-meter.ts) and priced (cost.ts):
 * - `login_ddb_calls`: DynamoDB calls of one returning user's login, authorization request to
 *   userinfo; `login_ddb_sequential`: the longest chain of those calls that waited on each other;
 * - `login_ddb_wcu` / `login_ddb_rcu`: the write and read units they consumed;
 * - `login_http_requests`: requests that reached the OP (API Gateway requests, Lambda invocations),
 *   from a returning browser with its cache (login-cost.ts);
 * - `cost_usd_per_million_logins`: DynamoDB + Lambda + HTTP API at the list prices of cost.ts.
 * Each figure has a `…_goal` line with issue 12's goal. The DynamoDB figures are the same for every
 * login (the bench checks it); the time, and so the Lambda compute, is the median of RUNS logins after WARMUP untimed ones.
 */

import { startLocalDynamo } from '../functions/storage/local-dynamodb.js';
import { cardIdentityOf } from '../reader-helper/virtual-card/identity.js';
import { createBenchPki } from './bench-pki.js';
import { costPerMillionLogins, LOGIN_GOALS, PRICES } from './cost.js';
import { type LoginCost, startMeteredLogin } from './login-cost.js';
import { percentile, report } from './report.js';

const WARMUP = 5;
const RUNS = 21;

/** Prints the login's DynamoDB, request and cost figures with their goals. */
export async function runCostBench(): Promise<void> {
  const { alice, trustAnchors, revocation } = await createBenchPki();
  const dynamo = await startLocalDynamo();
  try {
    const metered = await startMeteredLogin({
      endpoint: dynamo.endpoint,
      tableName: 'bench-cost',
      trustAnchors,
      revocation,
      identity: cardIdentityOf(alice),
    });
    const logins: LoginCost[] = [];
    try {
      for (let i = 0; i < WARMUP + RUNS; i++) {
        const login = await metered.login();
        if (i >= WARMUP) logins.push(login);
      }
      const calls = [...metered.meter.calls].sort((a, b) => (a.start < b.start ? -1 : 1));
      process.stderr.write(
        `# calls of the last login, in order: ${calls.map((call) => `${call.command}(${call.kind ?? ''})${call.writeUnits ? ` ${call.writeUnits}W` : ''}${call.readUnits ? ` ${call.readUnits}R` : ''}`).join(' ')}\n`,
      );
    } finally {
      await metered.close();
    }
    const counts = ({ dynamo, requests }: LoginCost) => JSON.stringify({ dynamo, requests });
    const first = logins[0] as LoginCost;
    if (logins.some((each) => counts(each) !== counts(first))) {
      throw new Error(`the calls differ between identical logins: ${logins.map(counts).join(' ')}`);
    }
    const login: LoginCost = {
      ...first,
      requestMs: percentile(
        logins.map((each) => each.requestMs),
        50,
      ),
    };
    const cost = costPerMillionLogins(login);
    process.stderr.write(`# DynamoDB calls of a login: ${JSON.stringify(login.dynamo.byCommand)}\n`);
    process.stderr.write(
      `# per million logins (${PRICES.region}): ${Object.entries(cost)
        .map(([item, usd]) => `${item} $${usd.toFixed(2)}`)
        .join(', ')}\n`,
    );
    report('login_ddb_calls', login.dynamo.calls, 'count');
    report('login_ddb_calls_goal', LOGIN_GOALS.calls, 'count');
    report('login_ddb_sequential', login.dynamo.sequential, 'count');
    report('login_ddb_sequential_goal', LOGIN_GOALS.sequential, 'count');
    report('login_ddb_wcu', login.dynamo.writeUnits, 'WCU');
    report('login_ddb_rcu', login.dynamo.readUnits, 'RCU');
    report('login_http_requests', login.requests, 'count');
    report('cost_usd_per_million_logins', cost.total, 'USD');
    report('cost_usd_per_million_logins_goal', LOGIN_GOALS.usdPerMillionLogins, 'USD');
  } finally {
    await dynamo.close();
  }
}

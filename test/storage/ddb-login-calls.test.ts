/**
 * The DynamoDB calls of one returning user's login (bench/login-cost.ts drives it: authorization
 * request → login page → card answer → code → token → userinfo), counted by a middleware on the
 * OP's client, so that a change that adds calls, round trips or capacity fails CI. The budget is
 * what the login costs today; issue 12's goals (bench/cost.ts LOGIN_GOALS) are lower.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type MeteredLogin, startMeteredLogin } from '../../bench/login-cost.js';
import { MemoryCrlSource } from '../../functions/revocation/memory-crl-source.js';
import { aliceCard } from '../support/card.js';
import { userAuthAnchors } from '../support/dev-pki.js';
import { useLocalTables } from './local-table.js';

/**
 * Today's figures of one returning login (lower them when a change saves calls). The per-address
 * limit (op/interactions/limits.ts) adds 1 call, 1 round trip and 1 write unit: its counter's
 * UpdateItem on the authorization request. The login page is one UpdateItem of the interaction
 * (a new challenge, counted), the card answer starts with one (its consume, counted as an
 * answer), and oidc-provider's reads of the interaction after them are answered from the item
 * they return (challenge-store.ts); the session's uid pointer goes with the session in the
 * request's BatchWriteItem (oidc-adapter.ts). At the token endpoint the access token's
 * BatchWriteItem goes out alongside the code's consume (op/storage-reads.ts): 13 round trips.
 * The release history entry of issue 15 (storage/release-history.ts, one per code issued) joins
 * the resume's BatchWriteItem: 1 write unit more, no call more.
 * Was 14/14/17/9, 18/18/18/11: the challenge and answer counters and their separate reads of the interaction,
 * and the uid pointer's own PutItem. Before that 21/21/19/12. The returning browser has the login
 * script and style sheet cached (content-hashed, immutable): 6 requests.
 */
const BUDGET = { calls: 14, sequential: 13, writeUnits: 18, readUnits: 9, requests: 6 };

const newTable = useLocalTables();
let metered: MeteredLogin;

beforeAll(async () => {
  const { pki, identity } = await aliceCard();
  const trustAnchors = userAuthAnchors(pki);
  const revocation = new MemoryCrlSource(trustAnchors);
  for (const crl of pki.crls.filter((c) => c.name.startsWith('user-auth') && c.name.endsWith('.empty.crl'))) {
    await revocation.load(crl.der);
  }
  const { endpoint, tableName } = await newTable();
  metered = await startMeteredLogin({ endpoint, tableName, trustAnchors, revocation, identity });
});
afterAll(async () => {
  await metered?.close();
});

describe('DynamoDB calls of a returning login', () => {
  it('stay within the budget of calls, round trips and capacity units', async () => {
    const { dynamo, requests } = await metered.login();
    expect(requests).toBe(BUDGET.requests);
    expect(dynamo.calls).toBeLessThanOrEqual(BUDGET.calls);
    expect(dynamo.sequential).toBeLessThanOrEqual(BUDGET.sequential);
    expect(dynamo.writeUnits).toBeLessThanOrEqual(BUDGET.writeUnits);
    expect(dynamo.readUnits).toBeLessThanOrEqual(BUDGET.readUnits);
  });

  it('are the same for every login (no call depends on luck or timing)', async () => {
    const first = await metered.login();
    const second = await metered.login();
    expect(second.dynamo).toEqual(first.dynamo);
  });

  it('never hold or answer from memory a conditional write: each single-use consume reaches DynamoDB', async () => {
    await metered.login();
    const updates = metered.meter.calls
      .filter((call) => call.command === 'UpdateItem')
      .map((call) => call.kind);
    // The per-address counter; the challenge set and then consumed in its interaction's item, the
    // code consumed (conditional UpdateItems); the account records the login.
    expect(updates).toEqual(['RateLimit', 'Interaction', 'Interaction', 'ACCOUNT', 'AuthorizationCode']);
  });
});

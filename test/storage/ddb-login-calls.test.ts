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
 * Today's figures of one returning login (lower them when a change saves calls). The login limits
 * (op/interactions/limits.ts) add 3 calls, 3 round trips and 3 write units: one counter
 * UpdateItem each for the authorization request, the challenge and the card answer (was 16/16/16).
 * The session's uid pointer is sent on its own after the session (oidc-adapter.ts: a
 * BatchWriteItem has no order, and a pointer must never land without its target): 2 more calls
 * and round trips, the held writes before it and the pointer (was 19/19).
 */
const BUDGET = { calls: 21, sequential: 21, writeUnits: 19, readUnits: 12, requests: 8 };

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
    // The challenge and the code are consumed (conditional UpdateItem); the account records the login.
    expect(updates).toEqual(expect.arrayContaining(['LoginChallenge', 'AuthorizationCode', 'ACCOUNT']));
  });
});

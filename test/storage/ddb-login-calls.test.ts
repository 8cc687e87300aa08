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
 * limit (op/interactions/limits.ts) adds 1 call and 1 write unit: its counter's UpdateItem on the
 * authorization request, sent alongside the interaction's write (a browser without an OP session,
 * op/interactions/routes.ts), so no round trip. The interaction is stored with its first
 * challenge and the login page comes from the ticket in its URL: no call. The card answer's
 * consume (counted as an answer) goes out with a read of the card's account; once the answer is
 * verified, the login result's write goes out with the account's update (1 call and 1 read unit
 * more than one update first, 1 round trip less), and oidc-provider's read of the interaction is
 * answered from the item the consume returns (challenge-store.ts); the session's uid pointer goes
 * with the session in the request's BatchWriteItem (oidc-adapter.ts). At the token endpoint the
 * access token's BatchWriteItem goes out alongside the code's consume (op/storage-reads.ts): 10
 * round trips. The release history entry of issue 15 (storage/release-history.ts, one per code
 * issued) joins the resume's BatchWriteItem: 1 write unit, no call.
 * Was 14/13/18/9 (the login page's challenge write; the counter, the consume, the account update
 * and the result's write each waited for the one before), 14/14/17/9, 18/18/18/11: the challenge
 * and answer counters and their separate reads of the interaction, and the uid pointer's own
 * PutItem. Before that 21/21/19/12. The returning browser has the login script and style sheet
 * cached (content-hashed, immutable): 6 requests.
 */
const BUDGET = { calls: 14, sequential: 10, writeUnits: 17, readUnits: 10, requests: 6 };

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
    // The per-address counter; the challenge consumed in its interaction's item (the first was
    // stored with it), the code consumed (conditional UpdateItems); the account records the login
    // (after its read).
    expect(updates).toEqual(['RateLimit', 'Interaction', 'ACCOUNT', 'AuthorizationCode']);
  });
});

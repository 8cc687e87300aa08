/**
 * Two CA generations share one issuer DN: a card of the older generation carrying the serial of
 * alice's (newer-generation) card has her certificate key. Through the OP's login interaction the
 * first card signs in, the other is refused with ISSUER_KEY_MISMATCH (a plain-words message on
 * the page, a warning in the log without personal data), and the first still signs in.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as client from 'openid-client';
import type { DevIdentity } from '../../dev-pki/hierarchy.js';
import { issueUserAuthCertificate } from '../../dev-pki/issue.js';
import { NO_PREDECESSORS } from '../../functions/accounts/account-store.js';
import { DynamoAccountStore } from '../../functions/accounts/dynamo-account-store.js';
import type { OpServer } from '../../functions/op/local-server.js';
import { generateSecrets } from '../../functions/secrets/local-secrets.js';
import { cardIdentityOf } from '../../reader-helper/virtual-card/identity.js';
import { useLocalTables } from '../storage/local-table.js';
import { devPki } from '../support/dev-pki.js';
import {
  authorizationRequest,
  loginPageOf,
  postAnswer,
  relyingParty,
  TestBrowser,
  VirtualCardSigner,
} from '../support/oidc-flow.js';
import { memoryLogger, startTestOp, TEST_CLIENTS } from '../support/op-stack.js';

const newTable = useLocalTables();
const DAY = 24 * 3600 * 1000;
const A = TEST_CLIENTS.firstParty;
const logger = memoryLogger();
let op: OpServer;
let rp: client.Configuration;
let alice: VirtualCardSigner;
let twin: VirtualCardSigner;
let serialHex: string;

beforeAll(async () => {
  const pki = await devPki();
  const aliceIdentity = pki.identities[0] as DevIdentity;
  const [older] = pki.userAuthCas;
  expect(aliceIdentity.userAuthCa).not.toBe(older);
  const twinCertificate = await issueUserAuthCertificate({
    ca: older,
    serialHex: aliceIdentity.userAuth.serialHex,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + DAY),
  });
  serialHex = aliceIdentity.userAuth.serialHex;
  alice = new VirtualCardSigner(cardIdentityOf(aliceIdentity));
  twin = new VirtualCardSigner(
    cardIdentityOf({ ...aliceIdentity, userAuth: twinCertificate, userAuthCa: older }),
  );
  const table = await newTable();
  const secrets = await generateSecrets();
  op = await startTestOp({
    table,
    logger,
    secrets,
    // The OP's account store, reporting to the test's logger instead of stderr.
    storage: (storage) => ({
      ...storage,
      accounts: new DynamoAccountStore({
        ...table,
        secret: secrets.certificateKeySecret,
        predecessors: NO_PREDECESSORS,
        logger,
      }),
    }),
  });
  rp = await relyingParty({ issuer: op.url, clientId: A.client_id, clientSecret: A.client_secret });
});
afterAll(async () => {
  await op?.close();
  await alice?.close();
  await twin?.close();
});

async function answerWith(card: VirtualCardSigner) {
  const browser = new TestBrowser();
  const { url } = await authorizationRequest(rp, A.redirect_uris[0] as string);
  const page = await loginPageOf(await browser.navigate(url, () => false));
  return postAnswer(browser, page, await card.sign(op.url, page.nonce));
}

describe('a card of another CA generation with the same serial', () => {
  it('is refused with ISSUER_KEY_MISMATCH and a warning; the first card still signs in', async () => {
    expect((await answerWith(alice)).redirectTo).toMatch(/\/auth\//);
    const refused = await answerWith(twin);
    expect(refused.status).toBe(400);
    expect(refused.error).toEqual({
      code: 'ISSUER_KEY_MISMATCH',
      message: expect.stringContaining('別の世代の発行元'),
    });
    const warning = logger.lines.find((line) => line.event === 'account.issuer_key_mismatch');
    expect(warning).toMatchObject({ level: 'warn' });
    const logged = JSON.stringify(logger.lines);
    expect(logged).not.toContain(serialHex);
    expect((await answerWith(alice)).redirectTo).toMatch(/\/auth\//);
  });
});

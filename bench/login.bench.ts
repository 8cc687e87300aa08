/**
 * The OP's figures, each against its framework floor measured in the same run:
 * - `login_ms_p50/p95`: a full card login on loopback, driven by the scripted client of
 *   local/scripted-login.ts against a real OP HTTP server on 127.0.0.1 with the dynalite storage:
 *   authorization request → login page (challenge) → virtual card signs through CardService →
 *   POST answer (verify) → code → token (client_secret_basic, PKCE S256, ID token checked).
 *   `card_sign_ms_p50` is the time spent inside the virtual card per login (its own timer);
 * - `bare_login_ms_p50`: the same client, PKCE and storage adapter on a bare oidc-provider whose
 *   interaction logs a fixed account in at once; `login_ratio` = (login p50 − card p50) / bare p50;
 * - `logins_per_s` and `login_errors`: LOGINS_CONCURRENT logins by CONCURRENCY clients at once, each
 *   with its own in-process reader and virtual card (one card would serialise them) and its own
 *   loopback address (127.0.0.10…), with the login limits on (defaults.ts LOGIN_LIMITS). Clients,
 *   OP and dynalite share this one Node thread, so this is the capacity of one OP process (one
 *   Lambda instance serves one request at a time anyway), not of a fleet;
 * - `abusive_requests` / `abusive_requests_refused`: meanwhile one abusive client (127.0.0.250)
 *   posts forged card answers to one sign-in and floods the authorization endpoint, at most
 *   ABUSIVE_MAX_REQUESTS requests until the logins end; refused = answered 429. Well-behaved
 *   clients must still see `login_errors` 0;
 * Bundle size and cold start: coldstart.bench.ts.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as client from 'openid-client';
import { NO_PREDECESSORS } from '../functions/accounts/account-store.js';
import { TTL } from '../functions/defaults.js';
import type { OpLogger } from '../functions/log/logger.js';
import { FIRST_PARTY_FLAG } from '../functions/op/client-flags.js';
import { dynamoStorage } from '../functions/op/dynamo-storage.js';
import { startOpServer } from '../functions/op/local-server.js';
import { generateSecrets } from '../functions/secrets/local-secrets.js';
import { providerJwks } from '../functions/secrets/op-secrets.js';
import { ClientRegistry } from '../functions/storage/client-registry.js';
import { type LocalDynamo, startLocalDynamo } from '../functions/storage/local-dynamodb.js';
import { createDynamoAdapter } from '../functions/storage/oidc-adapter.js';
import { ensureTable } from '../functions/storage/table.js';
import {
  authorizationRequest,
  httpTransportFrom,
  loginPageOf,
  postAnswer,
  relyingParty,
  rpLogin,
  TestBrowser,
  VirtualCardSigner,
} from '../local/scripted-login.js';
import { cardIdentityOf } from '../reader-helper/virtual-card/identity.js';
import { BENCH_CLIENT, createBareProvider } from './bare-provider.js';
import { type BenchPki, createBenchPki } from './bench-pki.js';
import { percentile, report } from './report.js';

const RUNS = 100;
const WARMUP = 20;
const CONCURRENCY = 32;
const LOGINS_CONCURRENT = 320;
/** The abusive client's requests stop at this many, or when the well-behaved logins are done. */
const ABUSIVE_MAX_REQUESTS = 3_000;
/** Requests the abusive client has in flight at once. */
const ABUSIVE_PARALLEL = 4;
/** Well-behaved client `i` connects from 127.0.0.(10 + i); the abusive one from ABUSIVE_ADDRESS. */
const clientAddress = (i: number) => `127.0.0.${10 + i}`;
const ABUSIVE_ADDRESS = '127.0.0.250';

const CLIENT = BENCH_CLIENT;
const REDIRECT_URI = CLIENT.redirect_uris[0] as string;
const OP_TABLE = 'bench-op';
const BARE_TABLE = 'bench-bare';
const QUIET: OpLogger = { info: () => undefined, warn: () => undefined };

/** Prints the login and throughput figures. */
export async function runLoginBench(): Promise<void> {
  const pki = await createBenchPki();
  const dynamo = await startLocalDynamo();
  try {
    await runLogins(pki, dynamo);
  } finally {
    await dynamo.close();
  }
}

function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

async function runLogins({ alice, trustAnchors, revocation }: BenchPki, dynamo: LocalDynamo): Promise<void> {
  const identity = cardIdentityOf(alice);
  const secrets = await generateSecrets();
  const tables = { client: dynamo.client };
  for (const tableName of [OP_TABLE, BARE_TABLE]) {
    await ensureTable(dynamo.client, tableName);
    await new ClientRegistry({ ...tables, tableName }).add({ ...CLIENT, [FIRST_PARTY_FLAG]: true });
  }

  const op = await startOpServer({
    config: (issuer) => ({
      issuer,
      dev: true,
      trustAnchors,
      revocation,
      secrets,
      logger: QUIET,
      storage: dynamoStorage({
        ...tables,
        tableName: OP_TABLE,
        certificateKeySecret: secrets.certificateKeySecret,
        predecessors: NO_PREDECESSORS,
      }),
    }),
  });
  const bare = await startBareServer(secrets, dynamo);
  const signer = new VirtualCardSigner(identity);
  try {
    const opRp = await relyingParty({ issuer: op.url, ...rpOf() });
    const bareRp = await relyingParty({ issuer: bare.url, ...rpOf() });
    const login = (rp: client.Configuration, card = signer, browser = new TestBrowser()) =>
      rpLogin({ rp, browser, card, redirectUri: REDIRECT_URI });

    const loginMs: number[] = [];
    const cardMs: number[] = [];
    const bareMs: number[] = [];
    // Alternating the two flows spreads any drift (GC, dynalite's growing store) over both.
    for (let i = 0; i < WARMUP + RUNS; i++) {
      signer.card.resetStats();
      let start = process.hrtime.bigint();
      // Spread over the clients' addresses: one address gets LOGIN_LIMITS' 100 sign-ins a minute.
      await login(
        opRp,
        signer,
        new TestBrowser(httpTransportFrom({ localAddress: clientAddress(i % CONCURRENCY) })),
      );
      const opNanos = process.hrtime.bigint() - start;
      const cardNanos = signer.card.busyNanos;
      start = process.hrtime.bigint();
      await login(bareRp);
      const bareNanos = process.hrtime.bigint() - start;
      if (i < WARMUP) continue;
      loginMs.push(Number(opNanos) / 1e6);
      cardMs.push(Number(cardNanos) / 1e6);
      bareMs.push(Number(bareNanos) / 1e6);
    }
    const loginP50 = median(loginMs);
    const cardP50 = median(cardMs);
    const bareP50 = median(bareMs);
    report('login_ms_p50', loginP50, 'ms');
    report('login_ms_p95', percentile(loginMs, 95), 'ms');
    report('card_sign_ms_p50', cardP50, 'ms');
    report('bare_login_ms_p50', bareP50, 'ms');
    report('login_ratio', (loginP50 - cardP50) / bareP50, 'x');

    const cards = Array.from({ length: CONCURRENCY }, () => new VirtualCardSigner(identity));
    let next = 0;
    let errors = 0;
    let firstError: unknown;
    const abuse = { done: false, requests: 0, refused: 0 };
    const start = process.hrtime.bigint();
    const abusive = abuseOp(opRp, signer, abuse);
    await Promise.all(
      cards.map(async (card, i) => {
        const transport = httpTransportFrom({ localAddress: clientAddress(i) });
        while (next < LOGINS_CONCURRENT) {
          next += 1;
          try {
            await login(opRp, card, new TestBrowser(transport));
          } catch (error) {
            errors += 1;
            firstError ??= error;
          }
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    abuse.done = true;
    await abusive;
    await Promise.all(cards.map((card) => card.close()));
    report('logins_per_s', (LOGINS_CONCURRENT - errors) / seconds, '/s');
    report('login_errors', errors, 'count');
    report('abusive_requests', abuse.requests, 'count');
    report('abusive_requests_refused', abuse.refused, 'count');
    if (firstError) process.stderr.write(`# first login error: ${String(firstError)}\n`);
  } finally {
    await signer.close();
    await bare.close();
    await op.close();
  }
}

/**
 * The abusive client: from one address, ABUSIVE_PARALLEL loops each posting forged answers (a
 * real certificate, random signatures) to its sign-in, alternating with new authorization
 * requests, until `state.done` or ABUSIVE_MAX_REQUESTS in all; counts the requests and the
 * refused (429) ones.
 */
async function abuseOp(
  rp: client.Configuration,
  card: VirtualCardSigner,
  state: { done: boolean; requests: number; refused: number },
): Promise<void> {
  const browser = new TestBrowser(httpTransportFrom({ localAddress: ABUSIVE_ADDRESS }));
  const { url } = await authorizationRequest(rp, REDIRECT_URI);
  const first = await loginPageOf(await browser.navigate(url, () => false));
  const { certificate } = await card.sign(first.document.url.origin, first.nonce);
  const loop = async () => {
    const page = await loginPageOf(
      await browser.navigate((await authorizationRequest(rp, REDIRECT_URI)).url, () => false),
    );
    while (!state.done && state.requests < ABUSIVE_MAX_REQUESTS) {
      const forged = { certificate, signature: randomBytes(256).toString('base64url') };
      const status =
        state.requests % 2 === 0
          ? (await postAnswer(browser, page, forged)).status
          : (await browser.request((await authorizationRequest(rp, REDIRECT_URI)).url)).status;
      state.requests += 1;
      if (status === 429) state.refused += 1;
    }
  };
  await Promise.all(Array.from({ length: ABUSIVE_PARALLEL }, loop));
}

function rpOf() {
  return { clientId: CLIENT.client_id, clientSecret: CLIENT.client_secret };
}

/** The bare provider on 127.0.0.1 with the dynalite adapter; its issuer is its URL. */
async function startBareServer(
  secrets: Awaited<ReturnType<typeof generateSecrets>>,
  dynamo: LocalDynamo,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = createBareProvider({
    issuer: url,
    jwks: providerJwks(secrets),
    cookieKeys: secrets.cookieKeys,
    adapter: createDynamoAdapter({ client: dynamo.client, tableName: BARE_TABLE }),
    ttl: { ...TTL },
  });
  server.on('request', provider.callback());
  return {
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

/**
 * What one login costs on AWS, measured: an OP on a metered DynamoDB client (dynamo-meter.ts) and a
 * scripted browser + RP that count the HTTP requests they make (each one an API Gateway request and
 * a Lambda invocation on AWS).
 *
 * The login is a returning user's (account, first-party grant and client known; a new browser
 * session, since the OP session lives in a browser-session cookie): authorization request → login
 * page (and the script and style sheet it links, unless the browser's cache still holds them) →
 * card answer → resume → code at the RP's callback → token → userinfo. The browser comes back a day
 * after its last login (RETURN_AFTER_SECONDS): a script or style sheet is served from its cache
 * when the answer that cached it allowed that long without asking again (`max-age` over a day
 * and `immutable`, as for content-hashed assets); anything else is fetched again. The bench (cost.bench.ts) and the call
 * count test (test/storage/ddb-login-calls.test.ts) both drive it.
 */
import { fetchUserInfo } from 'openid-client';
import { NO_PREDECESSORS } from '../functions/accounts/account-store.js';
import type { TrustAnchors } from '../functions/jpki/trust-anchors.js';
import type { OpLogger } from '../functions/log/logger.js';
import { FIRST_PARTY_FLAG } from '../functions/op/client-flags.js';
import { dynamoStorage } from '../functions/op/dynamo-storage.js';
import { type OpServer, startOpServer } from '../functions/op/local-server.js';
import type { RevocationSource } from '../functions/revocation/revocation-source.js';
import { generateSecrets } from '../functions/secrets/local-secrets.js';
import { ClientRegistry } from '../functions/storage/client-registry.js';
import { createDynamoClient } from '../functions/storage/dynamo-client.js';
import { ensureTable } from '../functions/storage/table.js';
import {
  relyingParty,
  rpLogin,
  TestBrowser,
  type Transport,
  VirtualCardSigner,
} from '../local/scripted-login.js';
import type { CardIdentity } from '../reader-helper/virtual-card/identity.js';
import { BENCH_CLIENT } from './bare-provider.js';
import { type DynamoMeter, type MeterSummary, meterDynamo } from './dynamo-meter.js';

/** The figures of one metered login. */
export interface LoginCost {
  readonly dynamo: MeterSummary;
  /** HTTP requests that reached the OP (API Gateway requests, Lambda invocations). */
  readonly requests: number;
  /** Wall time of those requests, summed (ms): the OP's handling, on loopback, with dynalite. */
  readonly requestMs: number;
}

/** What the metered OP is made of. */
export interface MeteredLoginOptions {
  /** The dynalite (or DynamoDB) endpoint; the OP gets its own metered client for it. */
  readonly endpoint: string;
  /** A table name not used by anything else (created when missing). */
  readonly tableName: string;
  readonly trustAnchors: TrustAnchors;
  readonly revocation: RevocationSource;
  /** The card that logs in. */
  readonly identity: CardIdentity;
}

/** A metered OP with its RP and card; `login()` runs and measures one returning user's login. */
export interface MeteredLogin {
  readonly meter: DynamoMeter;
  login(): Promise<LoginCost>;
  close(): Promise<void>;
}

const QUIET: OpLogger = { info: () => undefined, warn: () => undefined };
const SUBRESOURCE = /<(?:script[^>]*\ssrc|link[^>]*rel="stylesheet"[^>]*\shref)="([^"]+)"/g;
/** How long after its last login the returning browser comes back, seconds (one day). */
export const RETURN_AFTER_SECONDS = 24 * 3600;

/**
 * True when a browser may use the cached answer with this Cache-Control `RETURN_AFTER_SECONDS`
 * later without a request: fresh that long, and `immutable` (a browser revalidates a fresh answer
 * on some navigations otherwise).
 */
export function servedFromCache(cacheControl: string | null): boolean {
  const directives = (cacheControl ?? '')
    .toLowerCase()
    .split(',')
    .map((part) => part.trim());
  const maxAge = Number(/^max-age=(\d+)$/.exec(directives.find((d) => d.startsWith('max-age=')) ?? '')?.[1]);
  return (
    directives.includes('immutable') &&
    !directives.includes('no-store') &&
    !directives.includes('no-cache') &&
    maxAge > RETURN_AFTER_SECONDS
  );
}

/**
 * Counts and times the requests it forwards; fetches the script and style sheets of HTML pages
 * unless its cache holds them (see the module comment).
 */
class CountingTransport {
  requests = 0;
  nanos = 0n;
  /** URLs of subresources the browser's cache holds. */
  readonly #cached = new Set<string>();

  readonly fetch: Transport = async (url, init) => {
    const response = await this.#timed(url, init);
    if (response.status === 200 && response.headers.get('content-type')?.startsWith('text/html')) {
      const html = await response.clone().text();
      for (const [, src] of html.matchAll(SUBRESOURCE)) {
        const href = new URL(src as string, url).href;
        if (this.#cached.has(href)) continue;
        const subresource = await this.#timed(href, { headers: init.headers });
        await subresource.arrayBuffer();
        if (subresource.ok && servedFromCache(subresource.headers.get('cache-control')))
          this.#cached.add(href);
      }
    }
    return response;
  };

  async #timed(url: string, init: RequestInit): Promise<Response> {
    const start = process.hrtime.bigint();
    const response = await fetch(url, init);
    this.nanos += process.hrtime.bigint() - start;
    this.requests += 1;
    return response;
  }
}

/**
 * Starts an OP (issuer = its loopback URL) on a metered client, registers the bench client
 * (first-party) and logs the card in once, so the account and its grant exist.
 */
export async function startMeteredLogin(options: MeteredLoginOptions): Promise<MeteredLogin> {
  const dynamo = createDynamoClient({ endpoint: options.endpoint });
  await ensureTable(dynamo, options.tableName);
  await new ClientRegistry({ client: dynamo, tableName: options.tableName }).add({
    ...BENCH_CLIENT,
    [FIRST_PARTY_FLAG]: true,
  });
  const meter = meterDynamo(dynamo);
  const secrets = await generateSecrets();
  const signer = new VirtualCardSigner(options.identity);
  let op: OpServer | undefined;
  try {
    op = await startOpServer({
      config: (issuer) => ({
        issuer,
        dev: true,
        trustAnchors: options.trustAnchors,
        revocation: options.revocation,
        secrets,
        logger: QUIET,
        storage: dynamoStorage({
          client: dynamo,
          tableName: options.tableName,
          certificateKeySecret: secrets.certificateKeySecret,
          predecessors: NO_PREDECESSORS,
        }),
      }),
    });
    const transport = new CountingTransport();
    const rp = await relyingParty({
      issuer: op.url,
      clientId: BENCH_CLIENT.client_id,
      clientSecret: BENCH_CLIENT.client_secret,
      transport: transport.fetch,
    });
    const loginOnce = async (): Promise<void> => {
      const { tokens } = await rpLogin({
        rp,
        browser: new TestBrowser(transport.fetch),
        card: signer,
        redirectUri: BENCH_CLIENT.redirect_uris[0] as string,
      });
      await fetchUserInfo(rp, tokens.access_token, tokens.claims()?.sub as string);
    };
    await loginOnce();
    const server = op;
    return {
      meter,
      async login() {
        meter.reset();
        transport.requests = 0;
        transport.nanos = 0n;
        await loginOnce();
        return {
          dynamo: meter.summary(),
          requests: transport.requests,
          requestMs: Number(transport.nanos) / 1e6,
        };
      },
      async close() {
        await signer.close();
        await server.close();
        dynamo.destroy();
      },
    };
  } catch (error) {
    await signer.close();
    await op?.close();
    dynamo.destroy();
    throw error;
  }
}

/**
 * The floor of the browser-login bench (browser-login.bench.ts): the bare oidc-provider of
 * bare-provider.ts with a one-click interaction, and the demo relying party of the local stack
 * signing in through it, on http://localhost like the local stack. The OP's login page takes one
 * click on `#start` before the card is used, so the floor's interaction is one click too:
 * `GET /interaction/:uid` answers a minimal page whose `#start` button asks for the same address
 * with `?continue`, which bare-provider.ts answers by logging BARE_ACCOUNT_ID in at once. Its
 * storage is a dynalite table on disk, as the local stack's OP has.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startDemoRp } from '../demo-rp/server.js';
import { TTL } from '../functions/defaults.js';
import { generateSecrets } from '../functions/secrets/local-secrets.js';
import { providerJwks } from '../functions/secrets/op-secrets.js';
import { ClientRegistry } from '../functions/storage/client-registry.js';
import { startLocalDynamo } from '../functions/storage/local-dynamodb.js';
import { createDynamoAdapter } from '../functions/storage/oidc-adapter.js';
import { ensureTable } from '../functions/storage/table.js';
import { freePort } from '../test/support/browser.js';
import { createBareProvider } from './bare-provider.js';

const TABLE = 'bench-bare-browser';
const CLIENT_ID = 'bench-browser-rp';
const INTERACTION_PAGE = /^\/interaction\/[A-Za-z0-9_-]{1,64}$/;

/** The floor's provider and relying party. */
export interface BareBrowserStack {
  /** The bare provider's issuer, http://localhost:<port>. */
  readonly issuer: string;
  /** The demo RP signing in through it, http://localhost:<port>. */
  readonly rpUrl: string;
  close(): Promise<void>;
}

/** Starts dynalite (in `dataDir`), the bare provider and the demo RP; on a failure stops what started. */
export async function startBareBrowserStack(dataDir: string): Promise<BareBrowserStack> {
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    const dynamo = await startLocalDynamo({ path: join(dataDir, 'bare-dynamo') });
    closers.push(() => dynamo.close());
    await ensureTable(dynamo.client, TABLE);

    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const issuer = `http://localhost:${(server.address() as AddressInfo).port}`;
    const rpBase = `http://localhost:${await freePort()}`;
    const clientSecret = randomBytes(32).toString('base64url');
    await new ClientRegistry({ client: dynamo.client, tableName: TABLE }).put({
      client_id: CLIENT_ID,
      client_secret: clientSecret,
      redirect_uris: [`${rpBase}/callback`],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    const secrets = await generateSecrets();
    const provider = createBareProvider({
      issuer,
      jwks: providerJwks(secrets),
      cookieKeys: secrets.cookieKeys,
      adapter: createDynamoAdapter({ client: dynamo.client, tableName: TABLE }),
      ttl: { ...TTL },
    });
    const callback = provider.callback();
    server.on('request', (req, res) => {
      const url = new URL(req.url ?? '/', issuer);
      if (req.method !== 'GET' || !INTERACTION_PAGE.test(url.pathname) || url.search !== '') {
        callback(req, res);
        return;
      }
      res
        .writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          // No form-action: it would also govern the redirects that follow the submission, to the RP.
          'content-security-policy': "default-src 'none'",
          'cache-control': 'no-store',
        })
        .end(
          `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bare sign-in</title></head><body><form method="get" action="${url.pathname}"><input type="hidden" name="continue" value="1"><button id="start" type="submit">Continue</button></form></body></html>`,
        );
    });

    const rp = await startDemoRp({
      issuer,
      clientId: CLIENT_ID,
      clientSecret,
      baseUrl: rpBase,
      port: Number(new URL(rpBase).port),
      allowInsecureRequests: true,
    });
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          rp.server.close(() => resolve());
          rp.server.closeAllConnections();
        }),
    );
    return { issuer, rpUrl: rp.url, close };
  } catch (error) {
    await close();
    throw error;
  }
}

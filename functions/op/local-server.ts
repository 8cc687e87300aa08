/** The OP on a local Node HTTP server (development stack, tests, benchmarks). */
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type Provider from 'oidc-provider';
import { createOpApp } from './app.js';
import type { OpConfig } from './config.js';

/** A running OP server. */
export interface OpServer {
  /** http(s)://HOST:PORT of the server (the issuer is what config says). */
  readonly url: string;
  readonly port: number;
  readonly provider: Provider;
  /**
   * Stops accepting connections, closes idle ones and waits for the server to close and for the
   * provider's start-up work (so the storage can be closed after it). A connection still open after
   * CLOSE_GRACE_MS (a browser's socket that never sent a request, which Node does not count as
   * idle, or a request that came in on a kept-alive one meanwhile) is closed then.
   */
  close(): Promise<void>;
}

/** How long close() lets open connections finish before it closes them. */
const CLOSE_GRACE_MS = 1_000;

/** Options of startOpServer. */
export interface StartOpServerOptions {
  /** The configuration, or a function of the server's URL giving it (for port 0 and issuer = URL). */
  readonly config: OpConfig | ((url: string) => OpConfig | Promise<OpConfig>);
  /** TCP port; 0 (default) picks a free one. */
  readonly port?: number;
  /** Listen address (default 127.0.0.1). */
  readonly host?: string;
  /** Serve https with this key and certificate (PEM) instead of http. */
  readonly tls?: { readonly key: Buffer | string; readonly cert: Buffer | string };
}

/** Starts the OP on `host:port`. */
export async function startOpServer({
  config,
  port = 0,
  host = '127.0.0.1',
  tls,
}: StartOpServerOptions): Promise<OpServer> {
  const server = tls ? createTlsServer({ key: tls.key, cert: tls.cert }) : createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: bound } = server.address() as AddressInfo;
  const url = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  let app: Awaited<ReturnType<typeof createOpApp>>;
  try {
    app = await createOpApp(typeof config === 'function' ? await config(url) : config);
  } catch (error) {
    server.close();
    throw error;
  }
  const { provider, listener, startupSettled } = app;
  server.on('request', listener);
  return {
    url,
    port: bound,
    provider,
    close: async () => {
      await new Promise<void>((resolve, reject) => {
        const lingering = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        server.close((error) => {
          clearTimeout(lingering);
          if (error) reject(error);
          else resolve();
        });
        server.closeIdleConnections();
      });
      // The storage may close next: nothing of the provider's may still be reading it.
      await startupSettled;
    },
  };
}

/**
 * Serves the browser SPA of the interop tests (test/interop/spa: index.html, spa.js) and
 * oauth4webapi's browser build on loopback addresses: `/` and `/callback` are the page,
 * `/config.json` names the issuer and client. The same files on a second address give a page of
 * another origin, for the CORS refusal.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const SPA_DIR = fileURLToPath(new URL('../interop/spa/', import.meta.url));

/** The files served and their content types. */
function spaFiles(): Record<string, { path: string; type: string }> {
  const html = { path: `${SPA_DIR}index.html`, type: 'text/html; charset=utf-8' };
  return {
    '/': html,
    '/callback': html,
    '/spa.js': { path: `${SPA_DIR}spa.js`, type: 'text/javascript' },
    '/oauth4webapi.js': {
      path: createRequire(import.meta.url).resolve('oauth4webapi'),
      type: 'text/javascript',
    },
  };
}

/** A running SPA server. */
export interface SpaServer {
  /** http://host:port for each host, in the order given. */
  readonly origins: readonly string[];
  close(): Promise<void>;
}

/** Serves the SPA configured for `issuer` and `clientId` on each host at `port`. */
export async function startSpaServer(options: {
  readonly hosts: readonly string[];
  readonly port: number;
  readonly issuer: string;
  readonly clientId: string;
}): Promise<SpaServer> {
  const files = spaFiles();
  const config = JSON.stringify({ issuer: options.issuer, clientId: options.clientId });
  const servers: Server[] = [];
  const close = () =>
    Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    ).then(() => undefined);
  try {
    for (const host of options.hosts) {
      const server = createServer(async (request, response) => {
        const path = new URL(request.url ?? '/', 'http://spa').pathname;
        if (path === '/config.json') {
          response.writeHead(200, { 'content-type': 'application/json' }).end(config);
          return;
        }
        const file = files[path];
        if (!file) {
          response.writeHead(404).end();
          return;
        }
        response.writeHead(200, { 'content-type': file.type }).end(await readFile(file.path));
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, host, () => resolve());
      });
      servers.push(server);
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { origins: options.hosts.map((host) => `http://${host}:${options.port}`), close };
}

/**
 * A private Apache 2.4 + mod_auth_openidc (Debian's apache2 and libapache2-mod-auth-openidc) for
 * the interop test: test/interop/apache/server.conf in a temporary ServerRoot, the RP configuration
 * test/interop/apache/myna-oidc.conf (the one the README quotes) filled in through Apache's
 * `${VAR}` environment substitution, run in the foreground and stopped by its process id. Fails
 * loudly when apache2 or the module is missing: the README's test command installs them.
 */
import { randomBytes } from 'node:crypto';
import { access, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RpOptions, rpBaseUrl, rpEnvironment, startRpProcess } from './interop-process.js';

export const APACHE2 = '/usr/sbin/apache2';
export const MOD_AUTH_OPENIDC = '/usr/lib/apache2/modules/mod_auth_openidc.so';
/** The folder holding server.conf and myna-oidc.conf. */
export const APACHE_CONF_DIR = fileURLToPath(new URL('../interop/apache', import.meta.url));

/** A running Apache RP. */
export interface ApacheRp {
  readonly baseUrl: string;
  /** Apache's error log so far (mod_auth_openidc logs at info). */
  errorLog(): Promise<string>;
  close(): Promise<void>;
}

/** The client metadata to register for the Apache RP at `baseUrl` (first-party). */
export function apacheClientMetadata(clientId: string, clientSecret: string, baseUrl: string) {
  return {
    client_id: clientId,
    client_secret: clientSecret,
    client_name: 'Apache mod_auth_openidc',
    redirect_uris: [`${baseUrl}/protected/redirect_uri`],
    post_logout_redirect_uris: [`${baseUrl}/loggedout.html`],
    backchannel_logout_uri: `${baseUrl}/protected/redirect_uri?logout=backchannel`,
    myna_first_party: true,
  };
}

/** Starts Apache in the foreground and waits until it answers on its port. */
export async function startApacheRp(options: RpOptions): Promise<ApacheRp> {
  for (const file of [APACHE2, MOD_AUTH_OPENIDC]) {
    await access(file).catch(() => {
      throw new Error(`${file} is missing: apt-get install apache2 libapache2-mod-auth-openidc`);
    });
  }
  const dir = await mkdtemp(join(tmpdir(), 'myna-apache-'));
  // Apache's children run as www-data: the ServerRoot and documents must be readable to them.
  await chmod(dir, 0o755);
  await mkdir(join(dir, 'htdocs', 'protected'), { recursive: true });
  await writeFile(
    join(dir, 'htdocs', 'protected', 'index.html'),
    '<!doctype html><title>Protected</title><h1 id="protected">Signed in</h1>\n',
  );
  await writeFile(
    join(dir, 'htdocs', 'loggedout.html'),
    '<!doctype html><title>Logged out</title><h1 id="loggedout">Signed out</h1>\n',
  );
  const baseUrl = rpBaseUrl(options.host, options.port);
  const errorLog = () => readFile(join(dir, 'error.log'), 'utf8').catch(() => '');
  const apache = await startRpProcess({
    software: 'mod_auth_openidc (Apache)',
    command: APACHE2,
    args: ['-f', join(APACHE_CONF_DIR, 'server.conf'), '-DFOREGROUND'],
    env: {
      INTEROP_DIR: dir,
      INTEROP_CONF: APACHE_CONF_DIR,
      ...rpEnvironment(options),
      OIDC_CRYPTO_PASSPHRASE: randomBytes(32).toString('base64url'),
    },
    readyUrl: `${baseUrl}/loggedout.html`,
    extraOutput: errorLog,
  }).catch(async (error) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  return {
    baseUrl,
    errorLog,
    async close() {
      // SIGTERM to the parent stops its children too.
      await apache.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

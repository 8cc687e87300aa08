/**
 * The OP as a public https site for browser tests: `https://login.test:<port>` served from
 * 127.0.0.2 with a test CA's certificate (test/support/https-issuer.ts). /etc/hosts is never
 * touched: each engine's launcher maps the name itself, treats `127.0.0.2:<port>` as a public
 * address (Chromium, Firefox) and trusts the test certificate (see chromium.ts, firefox.ts,
 * webkit.ts next to this file).
 */
import type { LocalStackHttps } from '../../../local/stack.js';
import { freePort } from '../browser.js';
import { issueTestTls, type TestTls } from '../https-issuer.js';

export const PUBLIC_SITE_HOST = 'login.test';
/** A loopback address other than the helper's 127.0.0.1, which the browsers are told is public. */
export const PUBLIC_SITE_ADDRESS = '127.0.0.2';

/** The site's name, address, port and certificate. */
export interface PublicSite {
  readonly hostName: string;
  readonly address: string;
  readonly port: number;
  /** https://login.test:<port> */
  readonly origin: string;
  readonly tls: TestTls;
  /** What startLocalStack needs to serve the OP at `origin`. */
  readonly stackHttps: LocalStackHttps;
  /** Deletes the certificate's folder. */
  remove(): Promise<void>;
}

/** A free port on 127.0.0.2 and a test certificate for login.test (and 127.0.0.2). */
export async function preparePublicSite(): Promise<PublicSite> {
  const tls = await issueTestTls({ dnsNames: [PUBLIC_SITE_HOST], ipAddresses: [PUBLIC_SITE_ADDRESS] });
  const port = await freePort(PUBLIC_SITE_ADDRESS);
  return {
    hostName: PUBLIC_SITE_HOST,
    address: PUBLIC_SITE_ADDRESS,
    port,
    origin: `https://${PUBLIC_SITE_HOST}:${port}`,
    tls,
    stackHttps: {
      hostName: PUBLIC_SITE_HOST,
      address: PUBLIC_SITE_ADDRESS,
      key: tls.key,
      cert: tls.cert,
      ca: tls.caCert,
    },
    remove: () => tls.remove(),
  };
}

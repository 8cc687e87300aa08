/**
 * The private-network rule for requests to relying parties (revocation/notification/
 * private-network.ts): special-use addresses are refused unless the RP's host is on the operator's
 * allow-list — in the back-channel logout sender and in the OP's own outgoing requests
 * (oidc-provider's guarded fetch with the OP's `fetch` option, in a real Node process).
 */
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { build } from 'esbuild';
import { deliverLogoutToken } from '../../functions/revocation/notification/logout-token.js';
import {
  isSpecialUseAddress,
  PrivateRpHosts,
  RpAddressRefusedError,
} from '../../functions/revocation/notification/private-network.js';

const execFileAsync = promisify(execFile);

/**
 * A loopback HTTP server that records the paths it was asked for and answers 200, or for
 * `/redirect` a 302 to `/target` on `localhost` (another name for a private address).
 */
let server: Server;
let port: number;
const seen: string[] = [];
beforeAll(async () => {
  server = createServer((request, response) => {
    seen.push(request.url ?? '/');
    request.resume();
    request.on('end', () => {
      if (request.url === '/redirect')
        response.writeHead(302, { location: `http://localhost:${port}/target` }).end();
      else response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('special-use addresses', () => {
  it.each([
    '0.0.0.0',
    '10.1.2.3',
    '100.64.0.1',
    '127.0.0.1',
    '169.254.169.254',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '198.18.0.1',
    '::',
    '::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    '2001:db8::1',
  ])('%s is special-use', (address) => {
    expect(isSpecialUseAddress(address)).toBe(true);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '192.169.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    '%s is public',
    (address) => {
      expect(isSpecialUseAddress(address)).toBe(false);
    },
  );
});

describe('PrivateRpHosts', () => {
  it('takes bare host names and IPs (case-insensitive, IPv6 with or without brackets)', () => {
    const hosts = new PrivateRpHosts([' RP.Internal.Example ', '10.0.0.5', '[fd00::5]', '::1']);
    expect(hosts.list).toEqual(['rp.internal.example', '10.0.0.5', 'fd00::5', '::1']);
    expect(hosts.allows(new URL('https://rp.internal.example:8443/bc'))).toBe(true);
    expect(hosts.allows(new URL('http://10.0.0.5/bc'))).toBe(true);
    expect(hosts.allows(new URL('http://[fd00::5]:8080/bc'))).toBe(true);
    expect(hosts.allows(new URL('http://[::1]/bc'))).toBe(true);
    expect(hosts.allows(new URL('http://10.0.0.6/bc'))).toBe(false);
    expect(hosts.allows(new URL('https://internal.example/bc'))).toBe(false);
  });

  it.each(['https://rp.example', 'rp.example:443', 'rp.example/path', '', 'rp example', '.example'])(
    'refuses "%s" as an entry',
    (entry) => {
      expect(() => new PrivateRpHosts([entry])).toThrow(/must be a host name or an IP address/);
    },
  );

  it('refuses a special-use IP literal at once and guards host names, unless allow-listed', () => {
    const none = new PrivateRpHosts();
    expect(() => none.lookupFor(new URL('http://127.0.0.1/bc'))).toThrow(RpAddressRefusedError);
    expect(() => none.lookupFor(new URL('http://[::1]/bc'))).toThrow(RpAddressRefusedError);
    expect(none.lookupFor(new URL('https://rp.example/bc'))).toEqual(expect.any(Function));
    expect(new PrivateRpHosts(['127.0.0.1']).lookupFor(new URL('http://127.0.0.1/bc'))).toBeUndefined();
  });
});

describe('the back-channel logout sender', () => {
  const options = (hosts: string[]) => ({ timeoutMs: 2_000, privateRpHosts: new PrivateRpHosts(hosts) });

  it('does not connect to a host name that resolves to loopback unless it is allow-listed', async () => {
    const before = seen.length;
    await expect(
      deliverLogoutToken(`http://localhost:${port}/bc-refused`, 'token', options([])),
    ).rejects.toThrow(/localhost resolves only to private or special-use addresses/);
    await expect(
      deliverLogoutToken(`http://127.0.0.1:${port}/bc-refused`, 'token', options([])),
    ).rejects.toThrow(/127\.0\.0\.1 is a private or special-use address/);
    expect(seen.slice(before)).toEqual([]);
    await deliverLogoutToken(`http://127.0.0.1:${port}/bc-allowed`, 'token', options(['127.0.0.1']));
    expect(seen.slice(before)).toEqual(['/bc-allowed']);
  });

  it('says why a delivery failed: unreachable, no answer in time', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(
      deliverLogoutToken(`http://127.0.0.1:${closedPort}/bc`, 'token', options(['127.0.0.1'])),
    ).rejects.toThrow('back-channel logout endpoint unreachable: ECONNREFUSED');

    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      await expect(
        deliverLogoutToken(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/bc`, 'token', {
          ...options(['127.0.0.1']),
          timeoutMs: 200,
        }),
      ).rejects.toThrow('back-channel logout endpoint did not answer within 200 ms');
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe("the OP's own outgoing requests (oidc-provider's fetch option)", () => {
  /** Bundles the probe once and runs it in a plain Node process (see the probe's comment). */
  let probe: string;
  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'myna-fetch-probe-'));
    probe = join(dir, 'probe.mjs');
    await build({
      entryPoints: [fileURLToPath(new URL('./notify-provider-fetch-probe.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: probe,
      logLevel: 'silent',
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
    });
  }, 60_000);

  const run = async (url: string, hosts: string[]) => {
    const { stdout } = await execFileAsync(process.execPath, [probe, url, hosts.join(',')], {
      timeout: 20_000,
    });
    return JSON.parse(stdout) as { status?: number; error?: string };
  };

  it("keeps oidc-provider's SSRF guard for every host but the allow-listed ones", async () => {
    const before = seen.length;
    await expect(run(`http://127.0.0.1:${port}/refused`, [])).resolves.toEqual({
      error: 'hostname resolves to a special-use IP address',
    });
    await expect(run(`http://localhost:${port}/refused`, ['127.0.0.1'])).resolves.toEqual({
      error: 'hostname resolves to a special-use IP address',
    });
    expect(seen.slice(before)).toEqual([]);
    await expect(run(`http://127.0.0.1:${port}/allowed`, ['127.0.0.1'])).resolves.toEqual({ status: 200 });
    expect(seen.slice(before)).toEqual(['/allowed']);
  }, 60_000);

  it('does not follow a redirect from an allow-listed host to a private address', async () => {
    const before = seen.length;
    await expect(run(`http://127.0.0.1:${port}/redirect`, ['127.0.0.1'])).resolves.toEqual({ status: 302 });
    expect(seen.slice(before)).toEqual(['/redirect']);
  }, 60_000);
});

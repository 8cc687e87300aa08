/**
 * The rule for outgoing requests to relying parties: never to a private, loopback, link-local or
 * other special-use address (an SSRF guard, the same set oidc-provider's fetch_request.js refuses),
 * except to hosts on the operator's allow-list (`privateRpHosts`, env `OP_PRIVATE_RP_HOSTS`) —
 * RPs inside the operator's own network, or the demo RP of the local stack.
 *
 * The guard checks the address actually connected to: a host name is resolved by the guarded
 * lookup that the connection itself uses, so DNS rebinding between check and connect cannot
 * slip through; an IP literal in the URL is checked as it is.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** IANA special-purpose ranges (RFC 6890 and successors) that no public RP lives in. */
const SPECIAL_USE_RANGES: readonly (readonly [string, number, 'ipv4' | 'ipv6'])[] = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.0.2.0', 24, 'ipv4'],
  ['192.31.196.0', 24, 'ipv4'],
  ['192.52.193.0', 24, 'ipv4'],
  ['192.88.99.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['192.175.48.0', 24, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['64:ff9b::', 96, 'ipv6'],
  ['64:ff9b:1::', 48, 'ipv6'],
  ['100::', 64, 'ipv6'],
  ['2001::', 23, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
  ['2002::', 16, 'ipv6'],
  ['2620:4f:8000::', 48, 'ipv6'],
  ['3fff::', 20, 'ipv6'],
  ['5f00::', 16, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
];

const SPECIAL_USE = new BlockList();
for (const [network, prefix, family] of SPECIAL_USE_RANGES) SPECIAL_USE.addSubnet(network, prefix, family);

/** Raised when a request would go to a special-use address of a host that is not allow-listed. */
export class RpAddressRefusedError extends Error {
  override name = 'RpAddressRefusedError';
  readonly code = 'RP_ADDRESS_REFUSED';
}

/** Raised for an allow-list entry that is not a bare host name or IP address. */
export class PrivateRpHostError extends Error {
  override name = 'PrivateRpHostError';
  readonly code = 'PRIVATE_RP_HOST_INVALID';
}

/** True for an IPv4 or IPv6 address (IPv4-mapped included) in a special-use range. */
export function isSpecialUseAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) throw new TypeError(`not an IP address: ${address}`);
  return SPECIAL_USE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** A URL's host name as compared with the allow-list: lower case, IPv6 without brackets. */
function bareHost(hostname: string): string {
  const lower = hostname.toLowerCase();
  return lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
}

/** The operator's allow-list of RP hosts on private networks; empty by default (refuse them all). */
export class PrivateRpHosts {
  readonly #hosts: ReadonlySet<string>;

  /** Throws PrivateRpHostError for an entry with a scheme, port, path or anything else than a host. */
  constructor(hosts: readonly string[] = []) {
    this.#hosts = new Set(
      hosts.map((entry) => {
        const host = bareHost(entry.trim());
        const valid =
          isIP(host) !== 0 || (/^[a-z0-9.-]+$/.test(host) && !host.startsWith('.') && !host.endsWith('.'));
        if (!valid) {
          throw new PrivateRpHostError(
            `private RP host "${entry}" must be a host name or an IP address (no scheme, port or path)`,
          );
        }
        return host;
      }),
    );
  }

  /** The allow-listed hosts. */
  get list(): readonly string[] {
    return [...this.#hosts];
  }

  /** True when requests to `url` may go to a private address. */
  allows(url: URL): boolean {
    return this.#hosts.has(bareHost(url.hostname));
  }

  /**
   * How a request to `url` must resolve its host: undefined (the system lookup) for an
   * allow-listed host; otherwise a lookup that drops special-use addresses and fails when none is
   * left. Throws RpAddressRefusedError right away for a special-use IP literal.
   */
  lookupFor(url: URL): LookupFunction | undefined {
    if (this.allows(url)) return undefined;
    const host = bareHost(url.hostname);
    if (isIP(host) !== 0 && isSpecialUseAddress(host)) {
      throw new RpAddressRefusedError(`${host} is a private or special-use address`);
    }
    return guardedLookup;
  }
}

/** dns.lookup without special-use addresses (see PrivateRpHosts.lookupFor). */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true } as LookupAllOptions, (error, addresses) => {
    if (error) return callback(error, '', 0);
    const usable = (addresses as LookupAddress[]).filter(({ address }) => !isSpecialUseAddress(address));
    const [first] = usable;
    if (!first) {
      const refused = new RpAddressRefusedError(
        `${hostname} resolves only to private or special-use addresses`,
      );
      return callback(refused as NodeJS.ErrnoException, '', 0);
    }
    if ((options as { all?: boolean }).all)
      return (callback as (e: null, a: LookupAddress[]) => void)(null, usable);
    callback(null, first.address, first.family);
  });
};

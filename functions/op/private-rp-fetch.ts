/**
 * oidc-provider's `fetch` option with the operator's private-network allow-list: oidc-provider
 * passes every outgoing request (jwks_uri, sector_identifier_uri, request_uri…) a `dispatcher`
 * that refuses private, loopback and other special-use addresses (its SSRF guard,
 * lib/helpers/fetch_request.js). For a host on `privateRpHosts` that dispatcher is left out and
 * redirects are not followed (`redirect: 'manual'`: oidc-provider then refuses the 3xx answer), so
 * an allow-listed host cannot send the OP on to another private address; every other request keeps
 * the dispatcher, which checks each connection, redirects included. Back-channel logout does not come here: it goes through the durable
 * queue and its sender, which apply the same rule (revocation/notification/private-network.ts).
 */
import type { Configuration } from 'oidc-provider';
import type { PrivateRpHosts } from '../revocation/notification/private-network.js';

type ProviderFetch = NonNullable<Configuration['fetch']>;

/** The `fetch` configuration option for `hosts` (see the module comment). */
export function privateRpFetch(hosts: PrivateRpHosts): ProviderFetch {
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    if (!init || !hosts.allows(url)) return fetch(input, init);
    const { dispatcher: _ssrfGuard, ...withoutGuard } = init as RequestInit & { dispatcher?: unknown };
    return fetch(input, { ...withoutGuard, redirect: 'manual' });
  };
}

/**
 * Run in a plain Node process by notify-private-network.test.ts (jest's VM context cannot set up
 * oidc-provider's SSRF guard, which needs Node's own undici dispatcher): makes one outgoing
 * request through oidc-provider's fetch helper, with the OP's `fetch` option for the allow-list
 * given in argv[3], to the URL in argv[2], and prints the outcome as JSON.
 */
import Provider from 'oidc-provider';
// oidc-provider's own helper for every outgoing request (it adds the SSRF-guarding dispatcher).
import fetchRequest from 'oidc-provider/lib/helpers/fetch_request.js';
import { privateRpFetch } from '../../functions/op/private-rp-fetch.js';
import { PrivateRpHosts } from '../../functions/revocation/notification/private-network.js';

const [url, hosts] = process.argv.slice(2) as [string, string];
const provider = new Provider('http://127.0.0.1', {
  fetch: privateRpFetch(new PrivateRpHosts(hosts.split(',').filter(Boolean))),
});
try {
  const response: Response = await fetchRequest(provider, url, { method: 'GET' });
  process.stdout.write(JSON.stringify({ status: response.status }));
} catch (error) {
  const { cause, message } = error as Error & { cause?: Error };
  process.stdout.write(JSON.stringify({ error: cause?.message ?? message }));
}

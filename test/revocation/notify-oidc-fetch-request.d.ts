/** Types of oidc-provider's internal helper that notify-provider-fetch-probe.ts calls. */
declare module 'oidc-provider/lib/helpers/fetch_request.js' {
  import type Provider from 'oidc-provider';

  /** One outgoing request as oidc-provider makes it: timeout, no user-agent, SSRF-guarded dispatcher. */
  export default function fetchRequest(
    provider: Provider,
    url: string,
    options: RequestInit,
  ): Promise<Response>;
}

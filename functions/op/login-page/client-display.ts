/**
 * How the pages name a relying party: its registered display name in the page's language, its
 * logo (https only), its privacy policy and terms links, and where "return to the service" goes.
 * Read from oidc-provider's Client; `client_name#ja` is the Japanese variant of `client_name`
 * (OIDC Core §2 language tags), used on Japanese pages.
 */
import { PURPOSE_FIELD, PURPOSE_JA_FIELD } from '../client-flags.js';
import type { Locale } from './messages.js';

/** What the pages show of a relying party. */
export interface ClientDisplay {
  /** Display name (falls back to the client_id). */
  readonly name: string;
  /** https logo URL, when registered. */
  readonly logoUri?: string;
  readonly policyUri?: string;
  readonly tosUri?: string;
  /** The service's home page: client_uri, else the origin of its first redirect URI. */
  readonly homeUri?: string;
}

/** The part of oidc-provider's Client the pages read. */
export interface DisplayedClient {
  readonly clientId: string;
  readonly clientName?: string;
  readonly clientUri?: string;
  readonly logoUri?: string;
  readonly policyUri?: string;
  readonly tosUri?: string;
  readonly redirectUris?: readonly string[];
  metadata?(): Record<string, unknown>;
}

function webUrl(value: unknown, protocols: readonly string[]): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value);
    return protocols.includes(url.protocol) ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** What the pages show of `client` in `locale`. */
export function clientDisplay(client: DisplayedClient, locale: Locale): ClientDisplay {
  const metadata = client.metadata?.() ?? {};
  const localized = locale === 'ja' ? metadata['client_name#ja'] : metadata['client_name#en'];
  const name =
    (typeof localized === 'string' && localized.trim()) || client.clientName?.trim() || client.clientId;
  const web = ['https:', 'http:'];
  const redirect = webUrl(client.redirectUris?.[0], web);
  const homeUri = webUrl(client.clientUri, web) ?? (redirect ? `${new URL(redirect).origin}/` : undefined);
  const display: ClientDisplay = {
    name,
    logoUri: webUrl(client.logoUri, ['https:']),
    policyUri: webUrl(client.policyUri, web),
    tosUri: webUrl(client.tosUri, web),
    homeUri,
  };
  return Object.fromEntries(
    Object.entries(display).filter(([, value]) => value !== undefined),
  ) as unknown as ClientDisplay;
}

/**
 * Why `client` asks for identity claims, in `locale` (`myna_purpose#ja` on Japanese pages, else
 * `myna_purpose`), if its metadata says.
 */
export function clientPurpose(client: DisplayedClient, locale: Locale): string | undefined {
  const metadata = client.metadata?.() ?? {};
  const localized = locale === 'ja' ? metadata[PURPOSE_JA_FIELD] : undefined;
  const purpose = (typeof localized === 'string' && localized.trim()) || metadata[PURPOSE_FIELD];
  return typeof purpose === 'string' && purpose.trim() ? purpose.trim() : undefined;
}

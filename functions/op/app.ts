/** One HTTP app for every way the OP runs: a Node request listener (local server, tests, Lambda). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { OpConfig } from './config.js';
import { createProvider } from './provider.js';

/** The OP as a Node request listener, with its provider (for events and tests). */
export interface OpApp {
  readonly provider: Provider;
  readonly listener: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * Settles when the start-up work the provider does not wait for (the client listing behind the
   * raw-serial warning) is over; never rejects. Whoever closes the storage waits for it first.
   */
  readonly startupSettled: Promise<void>;
}

/** Creates the provider and its request listener. */
export async function createOpApp(config: OpConfig): Promise<OpApp> {
  const { provider, startupSettled } = await createProvider(config);
  return { provider, listener: provider.callback(), startupSettled };
}

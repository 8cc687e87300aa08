/**
 * The OP's own client metadata. Both flags are set by the operator (`myna-oidc clients add`), never
 * through dynamic registration, and default to false.
 * - `myna_first_party`: a service of the operator itself; consent is skipped (the grant is created
 *   automatically).
 * - `myna_raw_serial_claim`: the client may receive the certificate's raw serial number in the ID
 *   token of a card login (see raw-serial.ts). The serial links a person across services like a
 *   second MyNumber, so every such client is logged as a warning at start-up.
 */
import type { ClientMetadata } from 'oidc-provider';
import type { OpLogger } from './log.js';

export const FIRST_PARTY_FLAG = 'myna_first_party';
export const RAW_SERIAL_FLAG = 'myna_raw_serial_claim';

/** The OP's extra client metadata names (for oidc-provider's extraClientMetadata). */
export const CLIENT_FLAGS = [FIRST_PARTY_FLAG, RAW_SERIAL_FLAG] as const;

/** True when the client metadata has `flag` set to true. */
export function hasFlag(client: object | undefined, flag: (typeof CLIENT_FLAGS)[number]): boolean {
  return (client as Record<string, unknown> | undefined)?.[flag] === true;
}

/** Logs one warning per client that may receive raw certificate serials; returns their ids. */
export function warnRawSerialClients(clients: readonly ClientMetadata[], logger: OpLogger): string[] {
  const flagged = clients
    .filter((client) => hasFlag(client, RAW_SERIAL_FLAG))
    .map((client) => client.client_id);
  for (const clientId of flagged) {
    logger.warn('client.raw_serial_claim_enabled', {
      clientId,
      message:
        'this client receives the raw certificate serial number, which identifies a person across services',
    });
  }
  return flagged;
}

/**
 * The audit line of an identity verification: one `identity.verified` info line per release, with
 * the interaction, the client and the claim ids released — never a value, a certificate or a serial
 * (README: logs never contain personal data from a certificate).
 */
import type { OpLogger } from '../log/logger.js';

/** What the audit line names. */
export interface IdentityAuditFields {
  /** The interaction uid. */
  readonly interaction: string;
  /** The client id. */
  readonly client: string;
  /** The claim ids released (IdentityRelease.claimNames). */
  readonly claims: readonly string[];
}

/** Logs `identity.verified` for one release. */
export function logIdentityVerified(logger: OpLogger, fields: IdentityAuditFields): void {
  logger.info('identity.verified', {
    interaction: fields.interaction,
    client: fields.client,
    claims: [...fields.claims],
  });
}

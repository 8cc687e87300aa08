/**
 * What an identity release discloses besides the claims the person ticks, decided by the client's
 * flags and the request — one function, so the consent page (which must list each of them) and
 * the release itself (release.ts, provider-claims.ts) cannot disagree:
 * - `signingCertificate` (client flag `myna_identity_evidence`): the RP gets the evidence bundle
 *   (evidence.ts), which holds the whole signing certificate — name, address, date of birth,
 *   gender and the certificate's serial — whichever claims are ticked: an auditor needs the
 *   certificate itself to check the card's signature. The page shows it as a required line.
 * - `retentionDays` (client flag `myna_retain_identity_evidence`): the OP keeps that evidence,
 *   encrypted, for this many days (storage/identity-evidence.ts); absent: the OP keeps none of it.
 * - `signingSerial` (client flag `myna_raw_serial_claim` and the scope `myna_certificate_serial`
 *   in the request): the signing certificate's serial in the `verified_claims` evidence.
 */
import {
  hasFlag,
  IDENTITY_EVIDENCE_FLAG,
  RAW_SERIAL_FLAG,
  RETAIN_IDENTITY_EVIDENCE_FLAG,
} from '../op/client-flags.js';
import type { IdentityRequest, IdentitySettings } from './identity-request.js';

/** The disclosures of one identity release beyond its ticked claims (see the module comment). */
export interface IdentityDisclosures {
  /** The RP gets the whole signing certificate (all four facts and its serial) in the evidence bundle. */
  readonly signingCertificate: boolean;
  /** The OP keeps the evidence (the whole certificate too) encrypted for this many days; absent: nothing. */
  readonly retentionDays?: number;
  /** The RP gets the signing certificate's serial in the verified_claims evidence. */
  readonly signingSerial: boolean;
}

/** Which disclosures apply, without the retention period (what release.ts builds the release from). */
export function disclosedEvidence(
  client: object | undefined,
  request: Pick<IdentityRequest, 'rawSerialScope'>,
): { readonly signingCertificate: boolean; readonly retained: boolean; readonly signingSerial: boolean } {
  return {
    signingCertificate: hasFlag(client, IDENTITY_EVIDENCE_FLAG),
    retained: hasFlag(client, RETAIN_IDENTITY_EVIDENCE_FLAG),
    signingSerial: hasFlag(client, RAW_SERIAL_FLAG) && request.rawSerialScope,
  };
}

/** The disclosures of a release of `request` to the client with metadata `client` (for the consent page). */
export function identityDisclosures(
  client: object | undefined,
  request: Pick<IdentityRequest, 'rawSerialScope'>,
  settings: Pick<IdentitySettings, 'evidenceRetentionDays'>,
): IdentityDisclosures {
  const { signingCertificate, retained, signingSerial } = disclosedEvidence(client, request);
  return {
    signingCertificate,
    ...(retained ? { retentionDays: settings.evidenceRetentionDays } : {}),
    signingSerial,
  };
}

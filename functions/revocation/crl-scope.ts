/**
 * What one CRL covers. JPKI splits each CA's CRL by municipality: every certificate names its
 * CRL in the CRL distribution point (a DirName), and that CRL repeats the name in its
 * issuingDistributionPoint. A scope is the CA key plus that partition (or the whole CA for a CRL
 * without one); CRL numbers, freshness and the delta between imports are kept per scope.
 */
import { createHash } from 'node:crypto';
import { childrenOf, contentOf, contextTag, readWhole, Tag } from '../../protocol/der.js';
import { Ext } from '../../protocol/oids.js';
import type { ParsedCertificate } from '../jpki/certificate.js';

/** The partition of a CRL that covers the whole CA (no issuingDistributionPoint). */
const WHOLE_CA = 'all';

/** Identifies a DistributionPointName (its DER encoding): hex SHA-256, the same in a certificate and its CRL. */
export function distributionPointId(distributionPointName: Uint8Array): string {
  return createHash('sha256').update(distributionPointName).digest('hex');
}

/** The partition named by a certificate's first CRL distribution point, or undefined without one. */
export function certificatePartition(certificate: ParsedCertificate): string | undefined {
  const value = certificate.extensions.get(Ext.crlDistributionPoints)?.value;
  if (!value) return undefined;
  try {
    for (const point of childrenOf(value, readWhole(value, Tag.SEQUENCE))) {
      const name = childrenOf(value, point).find((part) => part.tag === contextTag(0, true));
      if (name) return distributionPointId(contentOf(value, name));
    }
  } catch {
    // An unreadable distribution point names no partition: the whole-CA CRL still applies.
  }
  return undefined;
}

/** The scope id of a CRL: `<CA id>/<partition or WHOLE_CA>`. */
export function crlScope(caId: string, partition: string | undefined): string {
  return `${caId}/${partition ?? WHOLE_CA}`;
}

/**
 * Where a certificate's OCSP responder is: the authorityInfoAccess id-ad-ocsp location (RFC 5280
 * §4.2.2.1), read with the strict DER reader so that OcspSource can pick a URL without loading the
 * OCSP messages (ocsp.ts) first.
 */
import { childrenOf, contentOf, contextTag, decodeOid, readWhole, Tag } from '../../protocol/der.js';
import { Ext, OID_AIA_OCSP } from '../../protocol/oids.js';
import type { ParsedCertificate } from '../jpki/certificate.js';

/** The first OCSP URL in the certificate's authorityInfoAccess, if any. */
export function ocspUrlOf(certificate: ParsedCertificate): string | undefined {
  const value = certificate.extensions.get(Ext.authorityInfoAccess)?.value;
  if (!value) return undefined;
  for (const description of childrenOf(value, readWhole(value, Tag.SEQUENCE))) {
    const [method, location] = childrenOf(value, description);
    if (
      method?.tag === Tag.OID &&
      location?.tag === contextTag(6, false) && // GeneralName uniformResourceIdentifier
      decodeOid(contentOf(value, method)) === OID_AIA_OCSP
    ) {
      return Buffer.from(contentOf(value, location)).toString('latin1');
    }
  }
  return undefined;
}

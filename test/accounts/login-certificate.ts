/** What a verified login hands the account store, for tests that log in without the verifier. */
import type { LoginCertificate } from '../../functions/accounts/account-store.js';
import { parseCertificate } from '../../functions/jpki/certificate.js';
import type { TrustAnchors } from '../../functions/jpki/trust-anchors.js';
import { certificateKey } from '../../functions/subject/certificate-key.js';

/** The login of certificate `der`, its issuer found among `anchors` by signature (as verifyLogin does). */
export function loginCertificate(
  der: Uint8Array,
  anchors: TrustAnchors,
  secret: Uint8Array,
): LoginCertificate {
  const certificate = parseCertificate(der);
  const issuer = anchors.findSigner(certificate);
  if (!issuer) throw new Error('test certificate from an unknown CA');
  return {
    certificate,
    certificateKey: certificateKey(secret, certificate.issuer, certificate.serialNumber),
    issuerKeyId: issuer.id,
    issuerGeneration: issuer.generation,
  };
}

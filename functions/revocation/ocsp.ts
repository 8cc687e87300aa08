/**
 * OCSP (RFC 6960) messages: the request for one certificate (CertID with SHA-256 hashes and a
 * nonce, RFC 8954), written with protocol/der-writer.ts, and the checks of a response, read with
 * protocol/der.ts: status, BasicOCSPResponse, signature by the CA itself or by a responder
 * certificate that CA issued for OCSPSigning, the CertID, the nonce and thisUpdate/nextUpdate.
 */
import { createHash } from 'node:crypto';
import {
  bitStringBytes,
  childrenOf,
  contentOf,
  contextTag,
  type DerElement,
  DerError,
  decodeOid,
  decodeTime,
  encodingOf,
  readWhole,
  Tag,
} from '../../protocol/der.js';
import {
  encodeAlgorithm,
  encodeOctetString,
  encodeOid,
  encodeSequence,
  encodeTlv,
  encodeUnsignedInteger,
} from '../../protocol/der-writer.js';
import { Ext, OID_AIA_OCSP } from '../../protocol/oids.js';
import { type ParsedCertificate, parseCertificate } from '../jpki/certificate.js';
import { isSignedBy, rsaPublicKeyOf, type TrustAnchor } from '../jpki/trust-anchors.js';
import { readAlgorithmOid, readExtensions } from '../jpki/x509-fields.js';
import { REASONS } from './crl.js';
import type { RevocationStatus } from './revocation-source.js';

const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
const OID_OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2';
const OID_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
const OID_EKU_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';
const ENUMERATED = 0x0a;
const URI_NAME = contextTag(6, false);

/** Why a response was not usable; OcspSource turns every one into `unknown`. */
export class OcspError extends Error {
  override name = 'OcspError';
  constructor(
    /**
     * OCSP_MALFORMED, OCSP_NOT_SUCCESSFUL (responseStatus ≠ 0), OCSP_SIGNATURE_INVALID (not signed by
     * the CA or one of its OCSPSigning responders), OCSP_WRONG_CERTIFICATE (another CertID),
     * OCSP_NONCE_MISMATCH, OCSP_NOT_CURRENT (thisUpdate/nextUpdate), OCSP_UNKNOWN (certStatus unknown).
     */
    readonly code:
      | 'OCSP_MALFORMED'
      | 'OCSP_NOT_SUCCESSFUL'
      | 'OCSP_SIGNATURE_INVALID'
      | 'OCSP_WRONG_CERTIFICATE'
      | 'OCSP_NONCE_MISMATCH'
      | 'OCSP_NOT_CURRENT'
      | 'OCSP_UNKNOWN',
    message: string,
  ) {
    super(message);
  }
}

/** A request for one certificate, and what its response must echo. */
export interface OcspRequest {
  /** The DER OCSPRequest to POST as application/ocsp-request. */
  readonly der: Buffer;
  readonly certId: Buffer;
  /** The nonce extension's extnValue. */
  readonly nonceValue: Buffer;
}

/** A verified answer about one certificate. */
export interface OcspAnswer {
  readonly status: Exclude<RevocationStatus, { status: 'unknown' }>;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
}

/** Builds the OCSPRequest for `certificate` issued by `issuer`, with `nonce` (1–32 bytes). */
export function buildOcspRequest(
  certificate: ParsedCertificate,
  issuer: TrustAnchor,
  nonce: Uint8Array,
): OcspRequest {
  const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest();
  const certId = encodeSequence(
    encodeAlgorithm(OID_SHA256),
    encodeOctetString(sha256(certificate.issuer)),
    encodeOctetString(sha256(issuer.certificate.publicKey)),
    encodeUnsignedInteger(certificate.serialNumber),
  );
  const nonceValue = encodeOctetString(nonce);
  const extensions = encodeTlv(
    contextTag(2, true),
    encodeSequence(encodeSequence(encodeOid(OID_OCSP_NONCE), encodeOctetString(nonceValue))),
  );
  const der = encodeSequence(encodeSequence(encodeSequence(encodeSequence(certId)), extensions));
  return { der, certId, nonceValue };
}

/** The first OCSP URL in the certificate's authorityInfoAccess, if any. */
export function ocspUrlOf(certificate: ParsedCertificate): string | undefined {
  const value = certificate.extensions.get(Ext.authorityInfoAccess)?.value;
  if (!value) return undefined;
  for (const description of childrenOf(value, readWhole(value, Tag.SEQUENCE))) {
    const [method, location] = childrenOf(value, description);
    if (
      method?.tag === Tag.OID &&
      location?.tag === URI_NAME &&
      decodeOid(contentOf(value, method)) === OID_AIA_OCSP
    ) {
      return Buffer.from(contentOf(value, location)).toString('latin1');
    }
  }
  return undefined;
}

/** Checks a DER OCSPResponse to `request` at `now` (± skew) and returns the certificate's status. Throws OcspError. */
export function verifyOcspResponse(
  der: Uint8Array,
  request: OcspRequest,
  issuer: TrustAnchor,
  now: Date,
  skewMs: number,
): OcspAnswer {
  try {
    return readResponse(der, request, issuer, now.getTime(), skewMs);
  } catch (error) {
    if (error instanceof DerError)
      throw new OcspError('OCSP_MALFORMED', `OCSP response could not be read: ${error.message}`);
    throw error;
  }
}

function readResponse(
  der: Uint8Array,
  request: OcspRequest,
  issuer: TrustAnchor,
  now: number,
  skewMs: number,
): OcspAnswer {
  const [status, wrapped] = childrenOf(der, readWhole(der, Tag.SEQUENCE));
  if (status?.tag !== ENUMERATED) throw new DerError('bad responseStatus');
  const statusValue = contentOf(der, status);
  if (statusValue.length !== 1 || statusValue[0] !== 0) {
    throw new OcspError('OCSP_NOT_SUCCESSFUL', `responseStatus ${statusValue[0]}`);
  }
  if (wrapped?.tag !== contextTag(0, true)) throw new DerError('no responseBytes');
  const [bytes] = childrenOf(der, wrapped) as [DerElement];
  const [type, octets] = childrenOf(der, bytes);
  if (
    type?.tag !== Tag.OID ||
    octets?.tag !== Tag.OCTET_STRING ||
    decodeOid(contentOf(der, type)) !== OID_OCSP_BASIC
  ) {
    throw new DerError('not a BasicOCSPResponse');
  }
  const basic = contentOf(der, octets);
  const [tbsElement, algorithm, signature, certs] = childrenOf(basic, readWhole(basic, Tag.SEQUENCE));
  if (tbsElement?.tag !== Tag.SEQUENCE || !algorithm || signature?.tag !== Tag.BIT_STRING) {
    throw new DerError('bad BasicOCSPResponse');
  }
  const signed = {
    tbs: encodingOf(basic, tbsElement),
    signatureAlgorithm: readAlgorithmOid(basic, algorithm),
    signatureValue: bitStringBytes(contentOf(basic, signature)),
  };
  const responders = certs ? responderCertificates(basic, certs) : [];
  if (
    !isSignedBy(signed, issuer.publicKey) &&
    !responders.some((cert) => isDelegatedSigner(cert, signed, issuer, now, skewMs))
  ) {
    throw new OcspError(
      'OCSP_SIGNATURE_INVALID',
      'response is not signed by the CA or one of its OCSP responders',
    );
  }

  const fields = childrenOf(basic, tbsElement);
  let index = fields[0]?.tag === contextTag(0, true) ? 1 : 0;
  index += 2; // responderID, producedAt
  const responses = fields[index++];
  const extensions = fields[index];
  if (responses?.tag !== Tag.SEQUENCE) throw new DerError('bad ResponseData');
  const nonce = extensions ? readExtensions(basic, extensions, 1).get(OID_OCSP_NONCE)?.value : undefined;
  if (!nonce || !Buffer.from(nonce).equals(request.nonceValue)) {
    throw new OcspError(
      'OCSP_NONCE_MISMATCH',
      nonce ? 'the nonce differs from the request' : 'the response has no nonce',
    );
  }
  const single = childrenOf(basic, responses).find((response) => {
    const [certId] = childrenOf(basic, response);
    return certId !== undefined && request.certId.equals(encodingOf(basic, certId));
  });
  if (!single) throw new OcspError('OCSP_WRONG_CERTIFICATE', 'no response for the requested certificate');
  return readSingleResponse(basic, single, now, skewMs);
}

function readSingleResponse(basic: Uint8Array, single: DerElement, now: number, skewMs: number): OcspAnswer {
  const [, certStatus, thisUpdateElement, ...rest] = childrenOf(basic, single);
  if (!certStatus || thisUpdateElement?.tag !== Tag.GENERALIZED_TIME)
    throw new DerError('bad SingleResponse');
  const thisUpdate = decodeTime(thisUpdateElement.tag, contentOf(basic, thisUpdateElement));
  const nextElement = rest.find((element) => element.tag === contextTag(0, true));
  const nextUpdate = nextElement ? readExplicitTime(basic, nextElement) : undefined;
  if (thisUpdate.getTime() > now + skewMs)
    throw new OcspError('OCSP_NOT_CURRENT', 'thisUpdate is in the future');
  if (nextUpdate && nextUpdate.getTime() + skewMs < now)
    throw new OcspError('OCSP_NOT_CURRENT', 'past nextUpdate');
  if (!nextUpdate && thisUpdate.getTime() + skewMs < now)
    throw new OcspError('OCSP_NOT_CURRENT', 'thisUpdate is too old');
  if (certStatus.tag === contextTag(0, false)) return { status: { status: 'good' }, thisUpdate, nextUpdate };
  if (certStatus.tag === contextTag(1, true)) {
    const [time, reason] = childrenOf(basic, certStatus);
    if (time?.tag !== Tag.GENERALIZED_TIME) throw new DerError('bad RevokedInfo');
    const code = reason ? contentOf(basic, childrenOf(basic, reason)[0] as DerElement) : undefined;
    return {
      status: {
        status: 'revoked',
        revokedAt: decodeTime(time.tag, contentOf(basic, time)),
        reason: (code?.length === 1 ? REASONS[code[0] as number] : undefined) ?? 'unspecified',
      },
      thisUpdate,
      nextUpdate,
    };
  }
  throw new OcspError('OCSP_UNKNOWN', 'the responder does not know the certificate');
}

function readExplicitTime(bytes: Uint8Array, element: DerElement): Date {
  const [time] = childrenOf(bytes, element);
  if (time?.tag !== Tag.GENERALIZED_TIME) throw new DerError('bad time');
  return decodeTime(time.tag, contentOf(bytes, time));
}

function responderCertificates(basic: Uint8Array, certs: DerElement): ParsedCertificate[] {
  const [list] = childrenOf(basic, certs);
  if (list?.tag !== Tag.SEQUENCE) throw new DerError('bad certs');
  return childrenOf(basic, list).map((cert) => parseCertificate(Uint8Array.from(encodingOf(basic, cert))));
}

/** A responder certificate issued by the CA for OCSPSigning, valid now, whose key signed `signed`. */
function isDelegatedSigner(
  responder: ParsedCertificate,
  signed: Parameters<typeof isSignedBy>[0],
  issuer: TrustAnchor,
  now: number,
  skewMs: number,
): boolean {
  return (
    (responder.extendedKeyUsage ?? []).includes(OID_EKU_OCSP_SIGNING) &&
    responder.notBefore.getTime() <= now + skewMs &&
    responder.notAfter.getTime() + skewMs >= now &&
    isSignedBy(responder, issuer.publicKey) &&
    isSignedBy(signed, rsaPublicKeyOf(responder))
  );
}

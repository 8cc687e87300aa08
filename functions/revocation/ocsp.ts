/**
 * OCSP (RFC 6960) messages, encoded and decoded with pkijs: the request for one certificate
 * (a CertID with SHA-256 hashes and a nonce, RFC 8954), and the checks of a response — status,
 * BasicOCSPResponse, a responderID that names the CA itself or a responder certificate the CA
 * issued for OCSPSigning, the signature by that responder, producedAt, the nonce, the CertID
 * (compared by its fields, with the hash algorithm the response chose) and thisUpdate/nextUpdate.
 * Signatures are verified with node:crypto under the same algorithm list as certificates.
 */
import { createHash } from 'node:crypto';
import { Constructed, Enumerated, fromBER, GeneralizedTime, Integer, OctetString } from 'asn1js';
import {
  AlgorithmIdentifier,
  BasicOCSPResponse,
  CertID,
  Extension,
  OCSPRequest,
  OCSPResponse,
  RelativeDistinguishedNames,
  Request,
  type SingleResponse,
  TBSRequest,
} from 'pkijs';
import {
  CERT_ID_HASH_ALGORITHMS,
  OID_EKU_OCSP_SIGNING,
  OID_OCSP_BASIC,
  OID_OCSP_NONCE,
  OID_SHA256,
} from '../../protocol/oids.js';
import { type ParsedCertificate, parseCertificate, serialHex } from '../jpki/certificate.js';
import { isSignedBy, rsaPublicKeyOf, type SignedObject, type TrustAnchor } from '../jpki/trust-anchors.js';
import { REASONS } from './crl.js';
import type { RevocationStatus } from './revocation-source.js';

/** OCSPResponseStatus names (RFC 6960 §4.2.1; 4 is unused). */
const RESPONSE_STATUS: readonly (string | undefined)[] = [
  'successful',
  'malformedRequest',
  'internalError',
  'tryLater',
  undefined,
  'sigRequired',
  'unauthorized',
];

/** Why a response was not usable; OcspSource turns every one into `unknown`. */
export type OcspErrorCode =
  /** Not a DER OCSPResponse with a BasicOCSPResponse. */
  | 'OCSP_MALFORMED'
  /** The body is over OCSP_MAX_RESPONSE_BYTES (refused while it streams). */
  | 'OCSP_TOO_LARGE'
  /** responseStatus is not `successful` (tryLater, unauthorized, …). */
  | 'OCSP_NOT_SUCCESSFUL'
  /** The responderID names neither the CA nor a certificate in the response that the CA issued for
   * OCSPSigning and that is valid now. */
  | 'OCSP_RESPONDER_NOT_AUTHORIZED'
  /** The response is not signed by the key its responderID names. */
  | 'OCSP_SIGNATURE_INVALID'
  /** No SingleResponse has the requested certificate's CertID. */
  | 'OCSP_WRONG_CERTIFICATE'
  /** The nonce is missing or differs from the request's (a replayed response). */
  | 'OCSP_NONCE_MISMATCH'
  /** producedAt or thisUpdate in the future, past nextUpdate, or too old without a nextUpdate. */
  | 'OCSP_NOT_CURRENT'
  /** certStatus is `unknown`. */
  | 'OCSP_UNKNOWN';

/** Why a response was not usable, with a stable code. */
export class OcspError extends Error {
  override name = 'OcspError';
  constructor(
    readonly code: OcspErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A request for one certificate, and what its response must echo. */
export interface OcspRequest {
  /** The DER OCSPRequest to POST as application/ocsp-request. */
  readonly der: Buffer;
  /** The nonce extension's extnValue (an encoded OCTET STRING). */
  readonly nonceValue: Buffer;
}

/** A verified answer about one certificate. */
export interface OcspAnswer {
  readonly status: Exclude<RevocationStatus, { status: 'unknown' }>;
  readonly producedAt: Date;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
}

/** The times a response is checked against, in epoch ms. */
export interface OcspTimes {
  readonly now: number;
  /** Tolerated clock difference to the responder. */
  readonly skewMs: number;
  /** How long after its thisUpdate a response without nextUpdate is used. */
  readonly maxAgeMs: number;
}

/** Builds the OCSPRequest for `certificate` issued by `issuer`, with `nonce` (1–32 bytes). */
export function buildOcspRequest(
  certificate: ParsedCertificate,
  issuer: TrustAnchor,
  nonce: Uint8Array,
): OcspRequest {
  const reqCert = new CertID({
    // RFC 5754 §2: the parameters of a SHA-2 AlgorithmIdentifier are absent.
    hashAlgorithm: new AlgorithmIdentifier({ algorithmId: OID_SHA256 }),
    issuerNameHash: new OctetString({ valueHex: digest('sha256', certificate.issuer) }),
    issuerKeyHash: new OctetString({ valueHex: digest('sha256', issuer.certificate.publicKey) }),
    serialNumber: new Integer({ valueHex: Uint8Array.from(certificate.serialNumber) }),
  });
  const nonceValue = Buffer.from(new OctetString({ valueHex: Uint8Array.from(nonce) }).toBER());
  const request = new OCSPRequest({
    tbsRequest: new TBSRequest({
      requestList: [new Request({ reqCert })],
      requestExtensions: [new Extension({ extnID: OID_OCSP_NONCE, extnValue: toArrayBuffer(nonceValue) })],
    }),
  });
  return { der: Buffer.from(request.toSchema(true).toBER()), nonceValue };
}

/**
 * Checks a DER OCSPResponse to `request` about `certificate` issued by `issuer` at `times`, and
 * returns the certificate's status. Throws OcspError.
 */
export function verifyOcspResponse(
  der: Uint8Array,
  request: OcspRequest,
  certificate: ParsedCertificate,
  issuer: TrustAnchor,
  times: OcspTimes,
): OcspAnswer {
  const response = decode(der, OCSPResponse, 'OCSPResponse');
  const status = response.responseStatus.valueBlock.valueDec;
  if (status !== 0) {
    throw new OcspError('OCSP_NOT_SUCCESSFUL', `responseStatus ${RESPONSE_STATUS[status] ?? status}`);
  }
  const bytes = response.responseBytes;
  if (!bytes || bytes.responseType !== OID_OCSP_BASIC) {
    throw new OcspError('OCSP_MALFORMED', 'the response is not a BasicOCSPResponse');
  }
  const basic = decode(bytes.response.valueBlock.valueHexView, BasicOCSPResponse, 'BasicOCSPResponse');
  const data = basic.tbsResponseData;
  checkSigner(basic, issuer, times);
  if (data.producedAt.getTime() > times.now + times.skewMs) {
    throw new OcspError('OCSP_NOT_CURRENT', 'producedAt is in the future');
  }
  const nonce = data.responseExtensions?.find((extension) => extension.extnID === OID_OCSP_NONCE);
  if (!nonce || !Buffer.from(nonce.extnValue.valueBlock.valueHexView).equals(request.nonceValue)) {
    throw new OcspError(
      'OCSP_NONCE_MISMATCH',
      nonce ? 'the nonce differs from the request' : 'the response has no nonce',
    );
  }
  const single = data.responses.find((candidate) => isCertIdOf(candidate.certID, certificate, issuer));
  if (!single) throw new OcspError('OCSP_WRONG_CERTIFICATE', 'no response for the requested certificate');
  return { ...readSingleResponse(single, times), producedAt: data.producedAt };
}

/** Decodes one complete DER value into a pkijs type; anything else is OCSP_MALFORMED. */
function decode<T>(der: Uint8Array, type: new (parameters: { schema: unknown }) => T, name: string): T {
  const asn1 = fromBER(der);
  if (asn1.offset !== der.byteLength) {
    throw new OcspError(
      'OCSP_MALFORMED',
      `${name} could not be read: ${asn1.result.error || 'trailing bytes'}`,
    );
  }
  try {
    return new type({ schema: asn1.result });
  } catch (error) {
    throw new OcspError('OCSP_MALFORMED', `${name} could not be read: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * Finds the responder the responderID names — the CA, or a certificate in `certs` — and checks
 * it may answer for the CA (RFC 6960 §4.2.2.2) and that its key signed the response.
 */
function checkSigner(basic: BasicOCSPResponse, issuer: TrustAnchor, times: OcspTimes): void {
  const signed: SignedObject = {
    tbs: basic.tbsResponseData.tbsView,
    signatureAlgorithm: basic.signatureAlgorithm.algorithmId,
    signatureValue: basic.signature.valueBlock.valueHexView,
  };
  if (basic.signature.valueBlock.unusedBits !== 0) {
    throw new OcspError('OCSP_MALFORMED', 'the signature BIT STRING has unused bits');
  }
  const responderId: unknown = basic.tbsResponseData.responderID;
  const names = (certificate: ParsedCertificate) => responderIdNames(responderId, certificate);
  let key = names(issuer.certificate) ? issuer.publicKey : undefined;
  if (!key) {
    const responder = (basic.certs ?? [])
      .map((certificate) => {
        try {
          return parseCertificate(new Uint8Array(certificate.toSchema().toBER()));
        } catch {
          return undefined; // an unreadable extra certificate authorises nothing
        }
      })
      .find((certificate) => certificate !== undefined && names(certificate));
    if (!responder || !isDelegatedResponder(responder, issuer, times)) {
      throw new OcspError(
        'OCSP_RESPONDER_NOT_AUTHORIZED',
        responder
          ? 'the responder certificate is not a current OCSPSigning certificate of the CA'
          : 'the responderID names neither the CA nor a certificate in the response',
      );
    }
    key = rsaPublicKeyOf(responder);
  }
  if (!isSignedBy(signed, key)) {
    throw new OcspError('OCSP_SIGNATURE_INVALID', 'the response is not signed by its responder');
  }
}

/** True when the ResponderID (byName or byKey) identifies `certificate`. */
function responderIdNames(responderId: unknown, certificate: ParsedCertificate): boolean {
  if (responderId instanceof OctetString) {
    // byKey: SHA-1 of the subjectPublicKey BIT STRING value (RFC 6960 §4.2.1).
    return Buffer.from(responderId.valueBlock.valueHexView).equals(digest('sha1', certificate.publicKey));
  }
  if (!(responderId instanceof RelativeDistinguishedNames)) return false;
  return responderId.isEqual(RelativeDistinguishedNames.fromBER(certificate.subject));
}

/** A responder certificate issued by the CA for OCSPSigning and valid at `times` (± skew). */
function isDelegatedResponder(responder: ParsedCertificate, issuer: TrustAnchor, times: OcspTimes): boolean {
  return (
    (responder.extendedKeyUsage ?? []).includes(OID_EKU_OCSP_SIGNING) &&
    responder.notBefore.getTime() <= times.now + times.skewMs &&
    responder.notAfter.getTime() + times.skewMs >= times.now &&
    isSignedBy(responder, issuer.publicKey)
  );
}

/**
 * True when `certId` identifies `certificate` of `issuer`: the issuer name and key hashed with
 * the CertID's own algorithm (its parameters, NULL or absent, do not matter) and the serial number.
 */
function isCertIdOf(certId: CertID, certificate: ParsedCertificate, issuer: TrustAnchor): boolean {
  const hash = CERT_ID_HASH_ALGORITHMS.get(certId.hashAlgorithm.algorithmId);
  return (
    hash !== undefined &&
    serialHex(certId.serialNumber.valueBlock.valueHexView) === serialHex(certificate.serialNumber) &&
    digest(hash, certificate.issuer).equals(certId.issuerNameHash.valueBlock.valueHexView) &&
    digest(hash, issuer.certificate.publicKey).equals(certId.issuerKeyHash.valueBlock.valueHexView)
  );
}

function readSingleResponse(single: SingleResponse, times: OcspTimes): Omit<OcspAnswer, 'producedAt'> {
  const { thisUpdate, nextUpdate } = single;
  if (thisUpdate.getTime() > times.now + times.skewMs) {
    throw new OcspError('OCSP_NOT_CURRENT', 'thisUpdate is in the future');
  }
  if (nextUpdate && nextUpdate.getTime() + times.skewMs < times.now) {
    throw new OcspError('OCSP_NOT_CURRENT', 'past nextUpdate');
  }
  if (!nextUpdate && thisUpdate.getTime() + times.maxAgeMs + times.skewMs < times.now) {
    throw new OcspError('OCSP_NOT_CURRENT', 'thisUpdate is too old and there is no nextUpdate');
  }
  const certStatus: unknown = single.certStatus;
  const choice = (certStatus as { idBlock?: { tagClass: number; tagNumber: number } }).idBlock;
  if (choice?.tagClass === 3 && choice.tagNumber === 0)
    return { status: { status: 'good' }, thisUpdate, nextUpdate };
  if (choice?.tagClass === 3 && choice.tagNumber === 1 && certStatus instanceof Constructed) {
    return { status: readRevokedInfo(certStatus), thisUpdate, nextUpdate };
  }
  throw new OcspError('OCSP_UNKNOWN', 'the responder does not know the certificate');
}

/** RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL } */
function readRevokedInfo(info: Constructed): Extract<RevocationStatus, { status: 'revoked' }> {
  const [time, reason] = info.valueBlock.value;
  if (!(time instanceof GeneralizedTime)) throw new OcspError('OCSP_MALFORMED', 'bad RevokedInfo');
  let code: number | undefined;
  if (reason !== undefined) {
    const value = reason instanceof Constructed ? reason.valueBlock.value[0] : undefined;
    if (!(value instanceof Enumerated)) throw new OcspError('OCSP_MALFORMED', 'bad revocationReason');
    code = value.valueBlock.valueDec;
  }
  return {
    status: 'revoked',
    revokedAt: time.toDate(),
    reason: (code === undefined ? undefined : REASONS[code]) ?? 'unspecified',
  };
}

function digest(algorithm: string, bytes: Uint8Array): Buffer {
  return createHash(algorithm).update(bytes).digest();
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/**
 * OCSP responses made to measure with pkijs, for the checks a real responder cannot be asked to
 * fail: times in the future or past, no nextUpdate, responderID by key, a SHA-1 CertID, no nonce,
 * certStatus unknown, an unsuccessful responseStatus. Each is signed for real (WebCrypto) by the
 * key given, so only the property under test is wrong.
 */
import { createHash, webcrypto } from 'node:crypto';
import { Constructed, Enumerated, GeneralizedTime, Integer, OctetString, Primitive } from 'asn1js';
import {
  AlgorithmIdentifier,
  BasicOCSPResponse,
  CertID,
  Certificate,
  Extension,
  OCSPResponse,
  ResponseBytes,
  ResponseData,
  SingleResponse,
} from 'pkijs';
import type { ParsedCertificate } from '../../functions/jpki/certificate.js';
import type { TrustAnchor } from '../../functions/jpki/trust-anchors.js';
import { OID_OCSP_BASIC, OID_OCSP_NONCE, OID_SHA1, OID_SHA256 } from '../../protocol/oids.js';

/** What the made-up response says; everything defaults to a current `good` answer. */
export interface ResponseSpec {
  /** The certificate and key that sign; its subject (or key hash) is the responderID. */
  readonly signer: { readonly der: Uint8Array; readonly privateKeyPem: string };
  /** Certificates to include (a delegated responder includes its own). */
  readonly certs?: readonly Uint8Array[];
  readonly responderIdBy?: 'name' | 'key';
  readonly producedAt?: Date;
  readonly thisUpdate?: Date;
  /** `null` omits nextUpdate. */
  readonly nextUpdate?: Date | null;
  readonly status?: 'good' | 'revoked' | 'unknown';
  /** The request's nonceValue to echo; absent: no nonce extension. */
  readonly nonceValue?: Uint8Array;
  readonly certIdHash?: 'sha1' | 'sha256';
}

/** A DER OCSPResponse about `certificate` of `issuer`, made to `spec`. */
export async function madeResponse(
  certificate: ParsedCertificate,
  issuer: TrustAnchor,
  spec: ResponseSpec,
): Promise<Buffer> {
  const now = Date.now();
  const hash = spec.certIdHash ?? 'sha256';
  const digest = (bytes: Uint8Array) => toArrayBuffer(createHash(hash).update(bytes).digest());
  const signer = Certificate.fromBER(spec.signer.der);
  const thisUpdate = spec.thisUpdate ?? new Date(now - 60_000);
  const nextUpdate = spec.nextUpdate === null ? undefined : (spec.nextUpdate ?? new Date(now + 86_400_000));
  const single = new SingleResponse({
    certID: new CertID({
      hashAlgorithm: new AlgorithmIdentifier({ algorithmId: hash === 'sha1' ? OID_SHA1 : OID_SHA256 }),
      issuerNameHash: new OctetString({ valueHex: digest(certificate.issuer) }),
      issuerKeyHash: new OctetString({ valueHex: digest(issuer.certificate.publicKey) }),
      serialNumber: new Integer({ valueHex: toArrayBuffer(certificate.serialNumber) }),
    }),
    certStatus: certStatus(spec.status ?? 'good', thisUpdate),
    thisUpdate,
    ...(nextUpdate ? { nextUpdate } : {}),
  });
  const responderID =
    spec.responderIdBy === 'key'
      ? new OctetString({
          valueHex: toArrayBuffer(
            createHash('sha1')
              .update(signer.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView)
              .digest(),
          ),
        })
      : signer.subject;
  const basic = new BasicOCSPResponse({
    tbsResponseData: new ResponseData({
      responderID,
      producedAt: spec.producedAt ?? new Date(now),
      responses: [single],
      ...(spec.nonceValue
        ? {
            responseExtensions: [
              new Extension({ extnID: OID_OCSP_NONCE, extnValue: toArrayBuffer(spec.nonceValue) }),
            ],
          }
        : {}),
    }),
    ...(spec.certs ? { certs: spec.certs.map((der) => Certificate.fromBER(der)) } : {}),
  });
  const key = await webcrypto.subtle.importKey(
    'pkcs8',
    pemBody(spec.signer.privateKeyPem),
    { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  await basic.sign(key, 'SHA-256');
  return Buffer.from(
    new OCSPResponse({
      responseStatus: new Enumerated({ value: 0 }),
      responseBytes: new ResponseBytes({
        responseType: OID_OCSP_BASIC,
        response: new OctetString({ valueHex: basic.toSchema().toBER() }),
      }),
    })
      .toSchema()
      .toBER(),
  );
}

/** An OCSPResponse with only a non-successful responseStatus (3: tryLater, 6: unauthorized…). */
export function unsuccessfulResponse(status: number): Buffer {
  return Buffer.from(
    new OCSPResponse({ responseStatus: new Enumerated({ value: status }) }).toSchema().toBER(),
  );
}

function certStatus(status: 'good' | 'revoked' | 'unknown', revokedAt: Date) {
  if (status === 'revoked') {
    return new Constructed({
      idBlock: { tagClass: 3, tagNumber: 1 },
      value: [
        new GeneralizedTime({ valueDate: revokedAt }),
        new Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [new Enumerated({ value: 4 })] }),
      ],
    });
  }
  return new Primitive({ idBlock: { tagClass: 3, tagNumber: status === 'good' ? 0 : 2 } });
}

function pemBody(pem: string): ArrayBuffer {
  return toArrayBuffer(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

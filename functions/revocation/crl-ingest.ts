/**
 * A CRL up to the point of storage: streamed and verified (crl-stream.ts), every entry keyed with
 * the certificate key of issuer + serial, checked for currency, and compared with the previous
 * import's snapshot of its scope. Storage (crl-store.ts) and the benchmark share this step.
 */
import { open } from 'node:fs/promises';
import type { TrustAnchors } from '../jpki/trust-anchors.js';
import { certificateKeyHasher } from '../subject/certificate-key.js';
import type { KeyedHashSecret } from '../subject/keyed-hash.js';
import { CrlError } from './crl.js';
import { crlScope } from './crl-scope.js';
import { readCrlStream, type StreamedCrl } from './crl-stream.js';
import { type KeyChunks, type KeyDelta, RevokedSet } from './revoked-set.js';

/** The smallest DER CRL entry: SEQUENCE { INTEGER (1 byte), UTCTime }. */
const MIN_ENTRY_BYTES = 20;
/** Read size of CRL files. */
const READ_CHUNK_BYTES = 1 << 20;

/** Options of ingestCrl. */
export interface IngestOptions {
  readonly anchors: TrustAnchors;
  /** The certificate-key secret (OpSecrets.certificateKeySecret) behind certificate keys. */
  readonly secret: KeyedHashSecret;
  readonly now: Date;
  /** Accepted clock difference for thisUpdate, and lateness past nextUpdate, in seconds. */
  readonly graceSeconds: number;
  /**
   * The previous snapshot of `scope` (sorted 32-byte keys, any chunking; nothing for a first
   * import). May throw CrlError CRL_NOT_NEWER after comparing `crl` with what it holds.
   */
  readonly previous: (scope: string, crl: StreamedCrl) => Promise<KeyChunks>;
}

/** A verified CRL with its keyed entries and the change since the previous import of its scope. */
export interface IngestedCrl {
  readonly crl: StreamedCrl;
  /** crlScope(signer id, partition). */
  readonly scope: string;
  readonly set: RevokedSet;
  readonly delta: KeyDelta;
}

/** Ingests the DER CRL in `chunks`; throws CrlError for a CRL that may not be imported. */
export async function ingestCrl(
  chunks: AsyncIterable<Uint8Array>,
  options: IngestOptions,
): Promise<IngestedCrl> {
  let set: RevokedSet | undefined;
  const crl = await readCrlStream(chunks, options.anchors, (header) => {
    set = new RevokedSet(
      Math.ceil(header.revokedListBytes / MIN_ENTRY_BYTES),
      certificateKeyHasher(options.secret, header.issuer),
    );
    return set.add;
  });
  if (!set) throw new CrlError('CRL_MALFORMED', 'CRL has no header');
  checkCurrent(crl, options.now, options.graceSeconds);
  const scope = crlScope(crl.signer.id, crl.partition);
  const delta = await set.diff(await options.previous(scope, crl));
  return { crl, scope, set, delta };
}

/** ingestCrl on a file. */
export function ingestCrlFile(path: string, options: IngestOptions): Promise<IngestedCrl> {
  return ingestCrl(readChunks(path), options);
}

/** The bytes of a file in 1 MiB chunks, all views of one reused buffer (each valid until the next). */
export async function* readChunks(path: string): AsyncGenerator<Uint8Array> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await file.close();
  }
}

function checkCurrent(crl: StreamedCrl, now: Date, graceSeconds: number): void {
  const grace = graceSeconds * 1000;
  if (crl.thisUpdate.getTime() > now.getTime() + grace) {
    throw new CrlError('CRL_NOT_CURRENT', `CRL thisUpdate ${crl.thisUpdate.toISOString()} is in the future`);
  }
  if (!crl.nextUpdate)
    throw new CrlError('CRL_NOT_CURRENT', 'CRL has no nextUpdate: its freshness is unknown');
  if (crl.nextUpdate.getTime() + grace < now.getTime()) {
    throw new CrlError('CRL_NOT_CURRENT', `CRL is stale (nextUpdate ${crl.nextUpdate.toISOString()})`);
  }
}

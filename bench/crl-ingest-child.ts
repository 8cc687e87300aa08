/**
 * Child process of the revocation benchmark: ingests one CRL file up to the point of storage
 * (stream, verify, key every entry, diff against a snapshot file) and prints one JSON line with
 * the time and this process's peak RSS. Arguments: <crl> <snapshot> <ca.pem> <secret hex>.
 */
import { readFile } from 'node:fs/promises';
import { decodePemOrDer } from '../functions/jpki/pem.js';
import { loadTrustAnchors } from '../functions/jpki/trust-anchors.js';
import { ingestCrlFile, readChunks } from '../functions/revocation/crl-ingest.js';

const [crl, snapshot, caPem, secretHex] = process.argv.slice(2) as [string, string, string, string];
const anchors = loadTrustAnchors(decodePemOrDer(await readFile(caPem), 'CERTIFICATE'));
const started = performance.now();
const ingested = await ingestCrlFile(crl, {
  anchors,
  secret: Buffer.from(secretHex, 'hex'),
  now: new Date(),
  graceSeconds: 0,
  previous: async () => readChunks(snapshot),
});
const seconds = (performance.now() - started) / 1000;
process.stdout.write(
  `${JSON.stringify({
    seconds,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    entries: ingested.delta.size,
    added: ingested.delta.added.length,
    removed: ingested.delta.removed.length / 32,
  })}\n`,
);

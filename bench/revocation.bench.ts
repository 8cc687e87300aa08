/**
 * Revocation figures. CRL ingest of a 1M-entry CRL (streamed, verified, every entry keyed, diffed
 * against the snapshot of the previous 1M CRL; storage excluded) in a child process, against
 * `openssl crl -inform DER -noout` on the same file (which parses every entry and checks nothing);
 * the child's peak RSS against the file size; entries written per second through CrlStore to
 * dynalite (a 100k CRL); and one StoredCrlSource lookup as a login performs it. The large CRLs
 * and their CA are generated once into bench/.cache/revocation (regenerated after 30 days).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCa, issueCrl, issueUserAuthCertificate } from '../dev-pki/issue.js';
import { parseCertificate } from '../functions/jpki/certificate.js';
import { decodePemOrDer } from '../functions/jpki/pem.js';
import { loadTrustAnchors } from '../functions/jpki/trust-anchors.js';
import { ingestCrlFile } from '../functions/revocation/crl-ingest.js';
import { CrlStore } from '../functions/revocation/crl-store.js';
import { StoredCrlSource } from '../functions/revocation/stored-crl-source.js';
import { startLocalDynamo } from '../functions/storage/local-dynamodb.js';
import { ensureTable } from '../functions/storage/table.js';
import { writeLargeCrl } from './large-crl.js';
import { percentile, report, sampleMicros } from './report.js';

const DAY = 86_400_000;
const MILLION = 1_000_000;
/** Entries that differ between the two 1M CRLs at each end (a day of revocations, generously). */
const CHURN = 10_000;
const CACHE_DAYS = 30;
const LOOKUP_RUNS = 500;
const here = fileURLToPath(new URL('.', import.meta.url));
const cacheDir = join(here, '..', '..', 'bench', '.cache', 'revocation');

interface BenchFiles {
  readonly createdAt: number;
  readonly secretHex: string;
}

const path = (name: string) => join(cacheDir, name);

/** Prints crl_ingest_s_1m, openssl_crl_parse_s_1m, crl_ingest_ratio, crl_file_mb_1m, crl_peak_rss_mb_1m, crl_store_items_per_s, revocation_lookup_ms_p50. */
export async function runRevocationBench(): Promise<void> {
  const files = await cachedFiles();
  const bytes = (await stat(path('1m-b.crl'))).size;
  const child = fileURLToPath(new URL('./crl-ingest-child.js', import.meta.url));
  const ingests = [0, 1].map(() => {
    const output = execFileSync(
      process.execPath,
      [child, path('1m-b.crl'), path('1m-a.keys'), path('ca.pem'), files.secretHex],
      { encoding: 'utf8' },
    );
    return JSON.parse(output) as { seconds: number; maxRssMb: number; added: number; removed: number };
  });
  const openssl = [0, 1].map(() => {
    const started = performance.now();
    const run = spawnSync('openssl', ['crl', '-inform', 'DER', '-noout', '-in', path('1m-b.crl')]);
    if (run.status !== 0) throw new Error(`openssl crl failed: ${run.stderr}`);
    return (performance.now() - started) / 1000;
  });
  const ingest = Math.min(...ingests.map((run) => run.seconds));
  const parse = Math.min(...openssl);
  report('crl_ingest_s_1m', ingest, 's');
  report('openssl_crl_parse_s_1m', parse, 's');
  report('crl_ingest_ratio', ingest / parse, 'x');
  report('crl_file_mb_1m', bytes / 2 ** 20, 'MB');
  report('crl_peak_rss_mb_1m', Math.max(...ingests.map((run) => run.maxRssMb)), 'MB');
  await storeFigures(files);
}

async function storeFigures(files: BenchFiles): Promise<void> {
  const local = await startLocalDynamo();
  try {
    await ensureTable(local.client, 'bench');
    const store = new CrlStore({ client: local.client, tableName: 'bench' });
    const secret = Buffer.from(files.secretHex, 'hex');
    const anchors = loadTrustAnchors(decodePemOrDer(await readFile(path('ca.pem')), 'CERTIFICATE'));
    const imported = await store.importFile(path('100k.crl'), { anchors, secret, now: new Date() });
    report('crl_store_items_per_s', (imported.added / imported.writeMs) * 1000, 'items/s');

    const now = new Date();
    const validity = {
      notBefore: new Date(now.getTime() - DAY),
      notAfter: new Date(now.getTime() + 365 * DAY),
    };
    const ca = await createCa({ kind: 'user-auth', serialHex: '06d18010', ...validity });
    const card = await issueUserAuthCertificate({ ca, ...validity });
    const lookupAnchors = loadTrustAnchors([ca.der]);
    const crlPath = path('lookup.crl');
    await writeFile(
      crlPath,
      await issueCrl({ ca, thisUpdate: now, nextUpdate: new Date(now.getTime() + DAY), crlNumber: 1 }),
    );
    await store.importFile(crlPath, { anchors: lookupAnchors, secret, now });
    const source = new StoredCrlSource({ store, secret });
    const certificate = parseCertificate(card.der);
    const issuer = lookupAnchors.findSigner(certificate);
    if (!issuer) throw new Error('lookup certificate has no issuer');
    const samples = await sampleMicros(async () => {
      const status = await source.status({ certificate, issuer, now: new Date() });
      if (status.status !== 'good') throw new Error(`lookup answered ${status.status}`);
    }, LOOKUP_RUNS);
    report('revocation_lookup_ms_p50', percentile(samples, 50) / 1000, 'ms');
  } finally {
    await local.close();
  }
}

/** The CA, the 1M CRLs "a" and "b" (b = a shifted by CHURN), a's snapshot, and a 100k CRL. */
async function cachedFiles(): Promise<BenchFiles> {
  try {
    const files = JSON.parse(await readFile(path('manifest.json'), 'utf8')) as BenchFiles;
    if (Date.now() - files.createdAt < CACHE_DAYS * DAY) return files;
  } catch {
    // No usable cache: generate it below.
  }
  process.stderr.write('# generating 1M-entry CRLs into bench/.cache/revocation (once)\n');
  await mkdir(cacheDir, { recursive: true });
  const now = new Date();
  const ca = await createCa({
    kind: 'user-auth',
    serialHex: '06d18009',
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + 10 * 365 * DAY),
  });
  const times = { thisUpdate: now, nextUpdate: new Date(now.getTime() + (CACHE_DAYS + 5) * DAY) };
  await writeFile(path('ca.pem'), ca.pem);
  await writeLargeCrl({ ca, path: path('1m-a.crl'), first: 0, count: MILLION, crlNumber: 1, ...times });
  await writeLargeCrl({ ca, path: path('1m-b.crl'), first: CHURN, count: MILLION, crlNumber: 2, ...times });
  await writeLargeCrl({ ca, path: path('100k.crl'), first: 0, count: MILLION / 10, crlNumber: 1, ...times });
  const files: BenchFiles = { createdAt: Date.now(), secretHex: randomBytes(32).toString('hex') };
  const first = await ingestCrlFile(path('1m-a.crl'), {
    anchors: loadTrustAnchors([ca.der]),
    secret: Buffer.from(files.secretHex, 'hex'),
    now,
    graceSeconds: 0,
    previous: async () => [],
  });
  await writeFile(path('1m-a.keys'), Buffer.concat([...first.set.snapshot(MILLION)]));
  await writeFile(path('manifest.json'), JSON.stringify(files));
  return files;
}

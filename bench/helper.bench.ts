/**
 * Reader-helper figures: APDUs per login (fresh card, same card again), the helper's own
 * overhead per login (authenticate call to result, minus the time spent inside the virtual card,
 * in-process backend, the PIN window answered at once by a scripted person), and what installing the npm package brings onto a person's PC (packages
 * and megabytes under node_modules, packed and installed offline into an empty prefix).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScriptedPinEntry } from '../dev-card/virtual-card-tools.js';
import { createDevPki } from '../dev-pki/hierarchy.js';
import { CardService } from '../reader-helper/card/card-service.js';
import { cardIdentityOf } from '../reader-helper/virtual-card/identity.js';
import { InProcessReaderBackend } from '../reader-helper/virtual-card/in-process-backend.js';
import { VirtualJpkiCard } from '../reader-helper/virtual-card/virtual-jpki-card.js';
import { packAndInstallHelper } from '../scripts/helper-install.js';
import { percentile, report } from './report.js';

const RUNS = 200;
const WARMUP = 20;
const READER = 'Bench Reader';

/**
 * Prints helper_apdus_first_login, helper_apdus_repeat_login, helper_overhead_ms_p50,
 * helper_install_packages and helper_install_mb.
 */
export async function runHelperBench(): Promise<void> {
  const pki = await createDevPki();
  const card = new VirtualJpkiCard(cardIdentityOf(pki.identities[0] as (typeof pki.identities)[number]));
  const backend = new InProcessReaderBackend([READER]);
  backend.reader(READER).insert(card);
  const service = new CardService(backend);
  const signal = new AbortController().signal;
  const person = new ScriptedPinEntry(pki.identities[0]?.userAuthPin ?? '');
  const login = () =>
    service.authenticate({
      origin: 'https://login.example.jp',
      nonce: randomBytes(32).toString('base64url'),
      language: 'ja',
      pinEntry: person,
      signal,
    });

  card.resetStats();
  await login();
  report('helper_apdus_first_login', card.apduCount, 'count');
  card.resetStats();
  await login();
  report('helper_apdus_repeat_login', card.apduCount, 'count');

  for (let i = 0; i < WARMUP; i++) await login();
  const overheadMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    card.resetStats();
    const start = process.hrtime.bigint();
    await login();
    const total = process.hrtime.bigint() - start;
    overheadMs.push(Number(total - card.busyNanos) / 1e6);
  }
  report('helper_overhead_ms_p50', percentile(overheadMs, 50), 'ms');
  await service.close();

  const work = await mkdtemp(join(tmpdir(), 'myna-helper-bench-'));
  try {
    const install = await packAndInstallHelper(work);
    report('helper_install_packages', install.packages.length, 'count');
    report('helper_install_mb', install.bytes / (1024 * 1024), 'MB');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

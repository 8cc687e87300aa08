/**
 * Reader-helper figures: APDUs per login (fresh card, same card again) and the helper's own
 * overhead per login (authenticate call to result, minus the time spent inside the virtual card,
 * in-process backend).
 */
import { randomBytes } from 'node:crypto';
import { createDevPki } from '../dev-pki/hierarchy.js';
import { CardService } from '../reader-helper/card/card-service.js';
import { cardIdentityOf } from '../reader-helper/virtual-card/identity.js';
import { InProcessReaderBackend } from '../reader-helper/virtual-card/in-process-backend.js';
import { VirtualJpkiCard } from '../reader-helper/virtual-card/virtual-jpki-card.js';
import { percentile, report } from './report.js';

const RUNS = 200;
const WARMUP = 20;
const READER = 'Bench Reader';

/** Prints helper_apdus_first_login, helper_apdus_repeat_login and helper_overhead_ms_p50. */
export async function runHelperBench(): Promise<void> {
  const pki = await createDevPki();
  const card = new VirtualJpkiCard(cardIdentityOf(pki.identities[0] as (typeof pki.identities)[number]));
  const backend = new InProcessReaderBackend([READER]);
  backend.reader(READER).insert(card);
  const service = new CardService(backend);
  const signal = new AbortController().signal;
  const login = () =>
    service.authenticate({
      origin: 'https://login.example.jp',
      nonce: randomBytes(32).toString('base64url'),
      pin: pki.identities[0]?.userAuthPin ?? '',
      confirmLastTry: false,
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
}

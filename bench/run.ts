/** `npm run bench`: runs every benchmark and prints `name value unit` lines. */
import { runColdStartBench } from './coldstart.bench.js';
import { runCostBench } from './cost.bench.js';
import { runHelperBench } from './helper.bench.js';
import { runLoginBench } from './login.bench.js';
import { runNotifyBundleBench } from './notify-bundle.bench.js';
import { runRevocationBench } from './revocation.bench.js';
import { runVerifyBench } from './verify.bench.js';

const benches: [string, () => Promise<void>][] = [
  ['verify', runVerifyBench],
  ['helper', runHelperBench],
  ['login', runLoginBench],
  ['cost', runCostBench],
  ['coldstart', runColdStartBench],
  ['revocation', runRevocationBench],
  ['notify-bundle', runNotifyBundleBench],
];

for (const [name, run] of benches) {
  process.stderr.write(`# ${name}\n`);
  await run();
}

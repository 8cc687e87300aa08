/**
 * `npm run bench`: runs every benchmark and prints `name value unit` lines. Names given as
 * arguments run only those (`npm run bench -- cost coldstart`); an unknown name is refused. Each
 * bench's module is loaded only when it runs.
 */
const benches: [string, () => Promise<void>][] = [
  ['verify', async () => (await import('./verify.bench.js')).runVerifyBench()],
  ['ekyc', async () => (await import('./ekyc.bench.js')).runEkycBench()],
  ['helper', async () => (await import('./helper.bench.js')).runHelperBench()],
  ['login', async () => (await import('./login.bench.js')).runLoginBench()],
  ['browser-login', async () => (await import('./browser-login.bench.js')).runBrowserLoginBench()],
  ['cost', async () => (await import('./cost.bench.js')).runCostBench()],
  ['coldstart', async () => (await import('./coldstart.bench.js')).runColdStartBench()],
  ['revocation', async () => (await import('./revocation.bench.js')).runRevocationBench()],
  ['notify-bundle', async () => (await import('./notify-bundle.bench.js')).runNotifyBundleBench()],
];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !benches.some(([known]) => known === name));
if (unknown.length > 0) {
  throw new Error(`unknown bench ${unknown.join(', ')}; known: ${benches.map(([name]) => name).join(', ')}`);
}
for (const [name, run] of benches.filter(([known]) => wanted.length === 0 || wanted.includes(known))) {
  process.stderr.write(`# ${name}\n`);
  await run();
}

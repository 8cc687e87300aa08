/** Output of `npm run bench`: one line per figure, `name value unit`. */

/** Prints one figure. */
export function report(name: string, value: number, unit: string): void {
  const text = Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 3 : 1);
  process.stdout.write(`${name} ${text} ${unit}\n`);
}

/** The p-th percentile (0–100) of samples, nearest-rank. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new RangeError('no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** Times `fn` `runs` times after `warmup` untimed runs; returns the samples in microseconds. */
export async function sampleMicros(
  fn: () => unknown,
  runs: number,
  warmup = Math.ceil(runs / 10),
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  return samples;
}

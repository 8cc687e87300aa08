/** `myna-helper readers`: lists the PC/SC readers and what card each holds, as the helper sees them. */
import { parseArgs } from 'node:util';
import { CardService } from '../card/card-service.js';
import type { HelperCliDeps } from './deps.js';
import { type CliIo, ExitCode } from './io.js';

export const readersUsage = `Usage: myna-helper readers [--json]

Lists PC/SC readers and their card state (absent, jpki, not-jpki, unknown). Needs pcscd (Linux),
the smart card service (Windows) or CryptoTokenKit (macOS) but not the helper.`;

/** Runs `readers`. */
export async function readersCommand(args: string[], io: CliIo, deps: HelperCliDeps): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { json: { type: 'boolean', default: false } },
  });
  const backend = await deps.openPcsc();
  const cards = new CardService(backend);
  try {
    const readers = await cards.readers();
    if (values.json) io.out(JSON.stringify(readers, null, 2));
    else if (readers.length === 0) io.out('No readers.');
    else for (const reader of readers) io.out(`${reader.name}: ${reader.card}`);
    return ExitCode.OK;
  } finally {
    await cards.close();
  }
}

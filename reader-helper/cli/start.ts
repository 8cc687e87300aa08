/**
 * `myna-helper start`: runs the daemon until Ctrl-C / SIGTERM, over PC/SC readers or, with
 * --virtual-card, over an in-process virtual reader holding a development card.
 */
import { parseArgs } from 'node:util';
import { type CliIo, ExitCode } from '../../cli/io.js';
import { CardService } from '../card/card-service.js';
import type { ReaderBackend } from '../card/reader-backend.js';
import { startHelperDaemon } from '../daemon/server.js';
import { InProcessReaderBackend } from '../virtual-card/in-process-backend.js';
import { VirtualJpkiCard } from '../virtual-card/virtual-jpki-card.js';
import { prepareVirtualCard } from './card-identity.js';
import type { HelperCliDeps } from './deps.js';
import { configOptions, configUsage, loadHelperConfig } from './options.js';

export const VIRTUAL_READER_NAME = 'myna-helper virtual reader';

export const startUsage = `Usage: myna-helper start [--virtual-card [--identity <dir>]] [--port <n>] [--allow-origin <url>]... [--dev] [--config <file>]

Runs the helper until Ctrl-C. Pages connect to ws://127.0.0.1:<port>.
${configUsage}
  --virtual-card       use an in-process virtual JPKI card instead of PC/SC readers (development)
  --identity <dir>     the virtual card's identity folder (created there when missing;
                       default: a fresh one in a temporary folder)`;

/** Runs `start`. */
export async function startCommand(args: string[], io: CliIo, deps: HelperCliDeps): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      ...configOptions,
      'virtual-card': { type: 'boolean', default: false },
      identity: { type: 'string' },
    },
  });
  const config = await loadHelperConfig(values, deps.context);
  let backend: ReaderBackend;
  if (values['virtual-card']) {
    const setup = await prepareVirtualCard(values.identity, undefined);
    const virtual = new InProcessReaderBackend([VIRTUAL_READER_NAME]);
    virtual.reader(VIRTUAL_READER_NAME).insert(new VirtualJpkiCard(setup.identity));
    backend = virtual;
    io.out(
      `Virtual card (DEVELOPMENT ONLY): identity ${setup.identityDir}, test PIN ${setup.identity.userAuthPin}`,
    );
    for (const file of setup.trustAnchorFiles) io.out(`  trust anchor for the OP: ${file}`);
  } else {
    backend = await deps.openPcsc();
  }
  const cards = new CardService(backend);
  try {
    const daemon = await startHelperDaemon({
      cards,
      port: config.port,
      allowedOrigins: config.allowedOrigins,
      dev: config.dev,
      helperVersion: deps.helperVersion,
      logger: deps.logger,
    });
    io.out(`myna-helper ${deps.helperVersion} listening on ${daemon.addresses.join(' ')}`);
    const allowed = daemon.policy.describe();
    io.out(
      allowed.length === 0 ? 'No origins allowed: add --allow-origin or allowedOrigins.' : 'Allowed origins:',
    );
    for (const origin of allowed) io.out(`  ${origin}`);
    if (config.dev) io.out('Development mode: http://localhost pages may use the card.');
    io.out('Press Ctrl-C to stop.');
    await deps.waitForStop();
    await daemon.close();
    io.out('Stopped.');
    return ExitCode.OK;
  } finally {
    await cards.close();
  }
}

/**
 * `myna-helper start`: runs the daemon until Ctrl-C / SIGTERM, over PC/SC readers or, with
 * --virtual-card (a development tool of the source tree), over an in-process virtual card.
 * `--dev` (any http://localhost page) is refused unless the card is virtual: with a real card,
 * any local dev server or tool could have the helper ask the person for the PIN and sign for it.
 * http origins may still be listed one by one, and each one is announced as a warning. The banner
 * names the PIN window the helper uses.
 */
import { parseArgs } from 'node:util';
import { CardService } from '../card/card-service.js';
import type { ReaderBackend } from '../card/reader-backend.js';
import { startHelperDaemon } from '../daemon/server.js';
import type { PinEntry } from '../pin-entry/pin-entry.js';
import type { HelperCliDeps } from './deps.js';
import { requireDevTools } from './dev-tools.js';
import { type CliIo, ExitCode, UsageError } from './io.js';
import { configOptions, configUsage, loadHelperConfig } from './options.js';

export const startUsage = `Usage: myna-helper start [--port <n>] [--allow-origin <url>]... [--config <file>]
       myna-helper start --virtual-card [--identity <dir>] [--dev] ...   (development, source tree only)

Runs the card helper until Ctrl-C. Pages connect to ws://127.0.0.1:<port> (or navigate to
http://127.0.0.1:<port>/authenticate); people see its state at http://127.0.0.1:<port>/ and type
the PIN only into the card helper's own window (Linux: zenity, kdialog or yad in the desktop session;
macOS: osascript; Windows: PowerShell).
${configUsage}
  --virtual-card       use an in-process virtual JPKI card instead of PC/SC readers (development)
  --identity <dir>     the virtual card's identity folder (created there when missing;
                       default: a fresh one in a temporary folder)`;

/** What a start banner says about the PIN window: which one, or why none can be shown now. */
export function describePinWindow(pinEntry: PinEntry): string {
  const reason = pinEntry.unavailable?.();
  if (reason === undefined)
    return `${pinEntry.kind}, the card helper's own window (people type the PIN only there, never in a web page)`;
  return `none can be shown now, so sign-ins answer PIN_ENTRY_UNAVAILABLE. ${reason}`;
}

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
  const virtualCard = values['virtual-card'];
  if (values.dev && !virtualCard) {
    throw new UsageError(
      '--dev lets every http://localhost page use the card and is only allowed with --virtual-card. ' +
        'With a real card, list each development origin instead: --allow-origin http://localhost:5173',
    );
  }
  if (values.identity !== undefined && !virtualCard) throw new UsageError('--identity needs --virtual-card');
  const config = await loadHelperConfig(values, deps.context);
  let backend: ReaderBackend;
  if (virtualCard) {
    const virtual = await (await requireDevTools(deps.loadDevTools)).openVirtualCard(values.identity);
    for (const note of virtual.notes) io.out(note);
    backend = virtual.backend;
  } else {
    backend = await deps.openPcsc();
  }
  const cards = new CardService(backend);
  const pinEntry = deps.createPinEntry();
  try {
    const daemon = await startHelperDaemon({
      cards,
      port: config.port,
      allowedOrigins: config.allowedOrigins,
      dev: config.dev,
      helperVersion: deps.helperVersion,
      logger: deps.logger,
      pinEntry,
    });
    io.out(`myna-helper ${deps.helperVersion} listening on ${daemon.addresses.join(' ')}`);
    io.out(`Status page: ${daemon.statusPageUrl}`);
    io.out(`PIN window: ${describePinWindow(pinEntry)}`);
    const allowed = daemon.policy.describe();
    io.out(
      allowed.length === 0 ? 'No origins allowed: add --allow-origin or allowedOrigins.' : 'Allowed origins:',
    );
    for (const origin of allowed) io.out(`  ${origin}`);
    for (const origin of config.allowedOrigins.filter((listed) => listed.startsWith('http:'))) {
      io.err(
        `WARNING: ${origin} is plain http: any program serving that port on this computer can ask for ` +
          'the card. Allow it only while you develop, never on a computer people use.',
      );
      deps.logger.log('warn', 'insecure origin allowed', { origin });
    }
    if (config.dev) io.out('Development mode: http://localhost pages may use the virtual card.');
    io.out('Press Ctrl-C to stop.');
    await deps.waitForStop();
    await daemon.close();
    io.out('Stopped.');
    return ExitCode.OK;
  } finally {
    await cards.close();
  }
}

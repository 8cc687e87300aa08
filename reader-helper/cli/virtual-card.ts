/**
 * `myna-helper virtual-card --vpcd`: puts a virtual JPKI card (a development tool of the source
 * tree) into a real pcscd through the vsmartcard vpcd driver until Ctrl-C, reconnecting whenever
 * pcscd restarts.
 */
import { parseArgs } from 'node:util';
import type { HelperCliDeps } from './deps.js';
import { requireDevTools } from './dev-tools.js';
import { type CliIo, ExitCode, UsageError } from './io.js';

export const virtualCardUsage = `Usage: myna-helper virtual-card --vpcd [--pin <4 digits>] [--identity <dir>] [--vpcd-port <n>]

Attaches a virtual JPKI card (DEVELOPMENT ONLY, source tree only) to pcscd via vpcd
(127.0.0.1:35963) until Ctrl-C.
  --identity <dir>   identity folder (created there when missing; default: a fresh temporary one)
  --pin <digits>     the card's user-authentication PIN (default: the identity's, 1234 when new)
  --vpcd-port <n>    vpcd's port (default 35963: the first virtual reader)`;

/** Runs `virtual-card`. */
export async function virtualCardCommand(args: string[], io: CliIo, deps: HelperCliDeps): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      vpcd: { type: 'boolean', default: false },
      pin: { type: 'string' },
      identity: { type: 'string' },
      'vpcd-port': { type: 'string' },
    },
  });
  if (!values.vpcd) throw new UsageError('virtual-card needs --vpcd (the only way to attach it to pcscd)');
  const port = values['vpcd-port'] === undefined ? undefined : Number(values['vpcd-port']);
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65_535))
    throw new UsageError('--vpcd-port must be a port number');
  const card = await (await requireDevTools(deps.loadDevTools)).attachVirtualCardToVpcd({
    identityDir: values.identity,
    pin: values.pin,
    port,
    onConnection: (up) =>
      deps.logger.log(up ? 'info' : 'warn', up ? 'vpcd connected: card inserted' : 'vpcd disconnected'),
  });
  for (const note of card.notes) io.out(note);
  io.out(
    `Connecting to vpcd on 127.0.0.1:${port ?? 35963} (retrying while pcscd is down). Press Ctrl-C to stop.`,
  );
  await deps.waitForStop();
  card.stop();
  io.out('Card removed. Stopped.');
  return ExitCode.OK;
}

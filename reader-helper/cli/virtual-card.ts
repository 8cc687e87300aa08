/**
 * `myna-helper virtual-card --vpcd`: puts a virtual JPKI card into a real pcscd through the
 * vsmartcard vpcd driver until Ctrl-C, reconnecting whenever pcscd restarts.
 */
import { parseArgs } from 'node:util';
import { type CliIo, ExitCode, UsageError } from '../../cli/io.js';
import { VirtualJpkiCard } from '../virtual-card/virtual-jpki-card.js';
import { DEFAULT_VPCD_PORT, VpcdConnector } from '../virtual-card/vpcd-connector.js';
import { prepareVirtualCard } from './card-identity.js';
import type { HelperCliDeps } from './deps.js';

export const virtualCardUsage = `Usage: myna-helper virtual-card --vpcd [--pin <4 digits>] [--identity <dir>] [--vpcd-port <n>]

Attaches a virtual JPKI card (DEVELOPMENT ONLY) to pcscd via vpcd (127.0.0.1:${DEFAULT_VPCD_PORT}) until Ctrl-C.
  --identity <dir>   identity folder (created there when missing; default: a fresh temporary one)
  --pin <digits>     the card's user-authentication PIN (default: the identity's, 1234 when new)
  --vpcd-port <n>    vpcd's port (default ${DEFAULT_VPCD_PORT}: the first virtual reader)`;

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
  const port = values['vpcd-port'] === undefined ? DEFAULT_VPCD_PORT : Number(values['vpcd-port']);
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new UsageError('--vpcd-port must be a port number');
  const setup = await prepareVirtualCard(values.identity, values.pin);
  io.out(`Virtual card (DEVELOPMENT ONLY): identity ${setup.identityDir}, PIN ${setup.identity.userAuthPin}`);
  for (const file of setup.trustAnchorFiles) io.out(`  trust anchor for the OP: ${file}`);
  const connector = new VpcdConnector(new VirtualJpkiCard(setup.identity), {
    port,
    onConnection: (up) =>
      deps.logger.log(up ? 'info' : 'warn', up ? 'vpcd connected: card inserted' : 'vpcd disconnected', {
        port,
      }),
  });
  connector.start();
  io.out(`Connecting to vpcd on 127.0.0.1:${port} (retrying while pcscd is down). Press Ctrl-C to stop.`);
  await deps.waitForStop();
  connector.stop();
  io.out('Card removed. Stopped.');
  return ExitCode.OK;
}

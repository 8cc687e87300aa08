/**
 * `myna-helper status`: asks the running helper's local status endpoint (GET /status on
 * 127.0.0.1, Host-checked, no Origin, no card operation) for its version, readers, its PIN
 * window and whether a card operation is running.
 */
import { get } from 'node:http';
import { parseArgs } from 'node:util';
import { type HelperStatus, STATUS_PATH } from '../daemon/server.js';
import type { HelperCliDeps } from './deps.js';
import { type CliIo, ExitCode } from './io.js';
import { configOptions, loadHelperConfig } from './options.js';

export const statusUsage = `Usage: myna-helper status [--port <n>] [--config <file>] [--json]

Asks the helper running on this computer for its version and readers. Exit 1 when none answers.`;

const STATUS_TIMEOUT_MS = 3000;

/** Runs `status`. */
export async function statusCommand(args: string[], io: CliIo, deps: HelperCliDeps): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      config: configOptions.config,
      port: configOptions.port,
      json: { type: 'boolean', default: false },
    },
  });
  const { port } = await loadHelperConfig(values, deps.context);
  let status: HelperStatus;
  try {
    status = await fetchStatus(port);
  } catch (error) {
    io.err(
      `No helper answers on 127.0.0.1:${port} (${(error as Error).message}). Start it with 'myna-helper start'.`,
    );
    return ExitCode.FAILED;
  }
  if (values.json) {
    io.out(JSON.stringify(status, null, 2));
    return ExitCode.OK;
  }
  io.out(`myna-helper ${status.helperVersion} (protocol ${status.protocolVersion}) on 127.0.0.1:${port}`);
  io.out(status.busy ? 'A card operation is running.' : 'Idle.');
  io.out(`PIN window: ${status.pinEntry}`);
  io.out(status.readers.length === 0 ? 'No readers.' : 'Readers:');
  for (const reader of status.readers) io.out(`  ${reader.name}: ${reader.card}`);
  return ExitCode.OK;
}

/** GET http://127.0.0.1:PORT/status (Node sets Host to 127.0.0.1:PORT and sends no Origin). */
export function fetchStatus(port: number): Promise<HelperStatus> {
  return new Promise((resolve, reject) => {
    const request = get(
      { host: '127.0.0.1', port, path: STATUS_PATH, timeout: STATUS_TIMEOUT_MS },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          if (response.statusCode !== 200) return reject(new Error(`HTTP ${response.statusCode}`));
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as HelperStatus);
          } catch {
            reject(new Error('the answer is not JSON'));
          }
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', reject);
  });
}

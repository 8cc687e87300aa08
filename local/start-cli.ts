/**
 * The command line of `npm start` (local/start.ts): options and `--help`, one clear line for what
 * an operator gets wrong in the first minutes (an unknown flag, a busy port) instead of a stack
 * trace, and the banner with what matters. (Library warnings: library-warnings.ts.)
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_HELPER_PORT } from '../protocol/helper-protocol.js';
import { describePinWindow } from '../reader-helper/cli/start.js';
import { type LocalStack, startLocalStack } from './stack.js';

/** Where `runStart` writes. */
export interface StartIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

/** Exit codes: 0 running (or --help), 1 could not start, 2 a bad command line. */
export const StartExit = { OK: 0, FAILED: 1, USAGE: 2 } as const;

const PORT_OPTIONS = {
  'op-port': { default: 3000, what: 'the OP' },
  'rp-port': { default: 3001, what: 'the demo relying party' },
  'dynamo-port': { default: 4570, what: 'the local DynamoDB' },
  'helper-port': { default: DEFAULT_HELPER_PORT, what: 'the reader-helper' },
} as const;
type PortOption = keyof typeof PORT_OPTIONS;

export const START_USAGE = `Usage: npm start -- [options]

Runs the whole product on this machine (DEVELOPMENT ONLY): a local DynamoDB kept in the data
folder, the OP, a demo relying party and the reader-helper with a virtual MyNumber card.

Options:
  --data <dir>          data folder: table, development PKI, secrets (default .data, or $MYNA_DATA_DIR)
${Object.entries(PORT_OPTIONS)
  .map(([name, { default: port, what }]) => `  --${`${name} <port>`.padEnd(20)}${what} (default ${port})`)
  .join('\n')}
  --no-helper           do not start the helper: the login page then shows what a user without it sees
  -h, --help            this text

The OP's issuer is http://localhost:<op-port>; myna-oidc reaches the table with
--endpoint http://127.0.0.1:<dynamo-port>; the login page connects to ws://127.0.0.1:<helper-port>.
Ctrl-C stops everything; the next start keeps the data, so the same card gets the same sub.`;

/** A started stack and what stops it. */
export interface StartResult {
  readonly code: number;
  readonly stack?: LocalStack;
}

/**
 * Runs `npm start` with `argv` (without node and script): prints the usage, or starts the stack
 * and prints the banner. Failures an operator can fix are one line on `io.err`; anything else is
 * thrown as it is.
 */
export async function runStart(argv: string[], io: StartIo): Promise<StartResult> {
  let values: ReturnType<typeof parseStartArgs>;
  try {
    values = parseStartArgs(argv);
  } catch (error) {
    if (!(error instanceof StartUsageError || isParseArgsError(error))) throw error;
    io.err(`npm start: ${(error as Error).message} (npm start -- --help lists the options)`);
    return { code: StartExit.USAGE };
  }
  if (values.help) {
    io.out(START_USAGE);
    return { code: StartExit.OK };
  }
  const dataDir = resolve(values.data ?? process.env.MYNA_DATA_DIR ?? '.data');
  const ports = values.ports;
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      dataDir,
      opPort: ports['op-port'],
      rpPort: ports['rp-port'],
      dynamoPort: ports['dynamo-port'],
      helperPort: ports['helper-port'],
      runHelper: values.helper,
      log: io.out,
    });
  } catch (error) {
    const busy = busyPort(error, ports);
    if (!busy) throw error;
    io.err(
      `npm start: port ${ports[busy]} (--${busy}, ${PORT_OPTIONS[busy].what}) is already in use — stop what uses it (an earlier npm start?) or choose another: npm start -- --${busy} <port>`,
    );
    return { code: StartExit.FAILED };
  }
  io.out(banner(stack, dataDir));
  return { code: StartExit.OK, stack };
}

function banner(stack: LocalStack, dataDir: string): string {
  const open = stack.rpUrl.replace('127.0.0.1', 'localhost');
  return `
Sign in with MyNumber card — local stack (DEVELOPMENT ONLY)
  Open            ${open}   and click "Sign in with MyNumber card"
${
  stack.helperUrl
    ? `  Test PIN        ${stack.pin ?? '(the PIN of your card)'}   (virtual card: ${stack.identityDir})
  Helper          ${stack.helperUrl}
  PIN window      ${stack.pinEntry ? describePinWindow(stack.pinEntry) : ''}`
    : '  Helper          not started (--no-helper): the login page shows what a user without it sees'
}
  OP (issuer)     ${stack.opUrl}
  Local DynamoDB  ${stack.dynamoEndpoint}   (myna-oidc clients list --endpoint ${stack.dynamoEndpoint})
  Data            ${dataDir}
Press Ctrl-C to stop.`;
}

/** A command line `npm start` cannot run. */
export class StartUsageError extends Error {
  override name = 'StartUsageError';
  readonly code = 'START_USAGE';
}

function isParseArgsError(error: unknown): boolean {
  return String((error as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS');
}

function parseStartArgs(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    allowNegative: true,
    options: {
      data: { type: 'string' },
      ...(Object.fromEntries(Object.keys(PORT_OPTIONS).map((name) => [name, { type: 'string' }])) as Record<
        PortOption,
        { type: 'string' }
      >),
      helper: { type: 'boolean', default: true },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const ports = Object.fromEntries(
    Object.entries(PORT_OPTIONS).map(([name, { default: fallback }]) => {
      const text = values[name as PortOption];
      const port = text === undefined ? fallback : Number(text);
      if (!Number.isInteger(port) || port < 1 || port > 65_535) {
        throw new StartUsageError(`--${name} must be a port number from 1 to 65535, not ${text}`);
      }
      return [name, port];
    }),
  ) as Record<PortOption, number>;
  return { data: values.data, ports, helper: values.helper, help: values.help };
}

/** The option whose port `error` says is taken (Node's EADDRINUSE, the helper's PORT_IN_USE). */
function busyPort(error: unknown, ports: Record<PortOption, number>): PortOption | undefined {
  const { code, port } = error as { code?: string; port?: number };
  if (code === 'PORT_IN_USE') return 'helper-port';
  if (code !== 'EADDRINUSE') return undefined;
  return (Object.keys(ports) as PortOption[]).find((name) => ports[name] === port);
}

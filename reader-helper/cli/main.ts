/** The reader-helper CLI `myna-helper`: one dispatcher, one module per command. */

import type { HelperCliDeps } from './deps.js';
import { installCommand, installUsage } from './install.js';
import { type CliIo, ExitCode, UsageError } from './io.js';
import { readersCommand, readersUsage } from './readers.js';
import { startCommand, startUsage } from './start.js';
import { statusCommand, statusUsage } from './status.js';
import { virtualCardCommand, virtualCardUsage } from './virtual-card.js';

type Command = (args: string[], io: CliIo, deps: HelperCliDeps) => Promise<number>;

const COMMANDS: Record<string, { run: Command; usage: string }> = {
  start: { run: startCommand, usage: startUsage },
  status: { run: statusCommand, usage: statusUsage },
  readers: { run: readersCommand, usage: readersUsage },
  'virtual-card': { run: virtualCardCommand, usage: virtualCardUsage },
  install: { run: (args, io, deps) => installCommand(args, io, deps, false), usage: installUsage },
  uninstall: { run: (args, io, deps) => installCommand(args, io, deps, true), usage: installUsage },
};

const USAGE = `Usage: myna-helper <command> ...

Commands:
  start          run the helper (WebSocket on 127.0.0.1 and ::1) for login pages
  status         ask the running helper for its version and readers
  readers        list PC/SC readers and the cards in them
  virtual-card   attach a virtual JPKI card to pcscd through vpcd (development, source tree only)
  install        start the helper automatically at logon (systemd, launchd, Task Scheduler)
  uninstall      remove that autostart entry

Run 'myna-helper <command> --help' for a command's options, 'myna-helper --version' for the version.`;

/** Runs the helper CLI with `argv` (without node and script) and returns the exit code. */
export async function runHelperCli(argv: string[], io: CliIo, deps: HelperCliDeps): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--version' || name === '-v') {
    io.out(deps.helperVersion);
    return ExitCode.OK;
  }
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    const asked = !name || name === '--help' || name === 'help';
    (asked ? io.out : io.err)(USAGE);
    return asked ? ExitCode.OK : ExitCode.USAGE;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.out(command.usage);
    return ExitCode.OK;
  }
  try {
    return await command.run(args, io, deps);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`${(error as Error).message}\n\n${command.usage}`);
      return ExitCode.USAGE;
    }
    const code = (error as { code?: unknown }).code;
    io.err(`myna-helper ${name}: ${typeof code === 'string' ? `${code}: ` : ''}${(error as Error).message}`);
    return ExitCode.FAILED;
  }
}

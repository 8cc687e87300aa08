/** The operator CLI `myna-oidc`: one dispatcher, one module per command. */
import { certCommand, certUsage } from './commands/cert.js';
import { clientsCommand, clientsUsage } from './commands/clients.js';
import { devPkiCommand, devPkiUsage } from './commands/dev-pki.js';
import { keysCommand, keysUsage } from './commands/keys.js';
import { revocationCommand, revocationUsage } from './commands/revocation.js';
import { type CliIo, ExitCode, UsageError } from './io.js';

const COMMANDS: Record<string, { run: (args: string[], io: CliIo) => Promise<number>; usage: string }> = {
  cert: { run: certCommand, usage: certUsage },
  clients: { run: clientsCommand, usage: clientsUsage },
  'dev-pki': { run: devPkiCommand, usage: devPkiUsage },
  keys: { run: keysCommand, usage: keysUsage },
  revocation: { run: revocationCommand, usage: revocationUsage },
};

const USAGE = `Usage: myna-oidc <command> ...

Commands:
  cert inspect|verify   describe a certificate, or check it as the login verifier does
  clients add|list|remove   register relying parties (stored in the OP's table)
  dev-pki create        write a development JPKI hierarchy (test CAs, cards, CRLs)
  keys list|rotate      token-signing key rotation (local data folder or Secrets Manager)
  revocation import|status|notify   import CRLs into the OP's table; one certificate's status;
                        notify RPs of revoked certificates (back-channel logout)

Run 'myna-oidc <command> --help' for a command's options.`;

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    (name && name !== '--help' && name !== 'help' ? io.err : io.out)(USAGE);
    return name && name !== '--help' && name !== 'help' ? ExitCode.USAGE : ExitCode.OK;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.out(command.usage);
    return ExitCode.OK;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`${(error as Error).message}\n\n${command.usage}`);
      return ExitCode.USAGE;
    }
    const { code, message } = error as { code?: string; message: string };
    io.err(`myna-oidc ${name}: ${code && !message.startsWith(code) ? `${code}: ` : ''}${message}`);
    return ExitCode.FAILED;
  }
}

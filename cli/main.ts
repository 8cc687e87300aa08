/** The operator CLI `myna-oidc`: one dispatcher, one module per command. */
import { accountsCommand, accountsUsage } from './commands/accounts.js';
import { certCommand, certUsage } from './commands/cert.js';
import { clientsCommand, clientsUsage } from './commands/clients.js';
import { devPkiCommand, devPkiUsage } from './commands/dev-pki.js';
import { keysCommand, keysUsage } from './commands/keys.js';
import { revocationCommand, revocationUsage } from './commands/revocation.js';
import { describeFailure } from './failures.js';
import { type CliIo, ExitCode, UsageError } from './io.js';

const COMMANDS: Record<string, { run: (args: string[], io: CliIo) => Promise<number>; usage: string }> = {
  accounts: { run: accountsCommand, usage: accountsUsage },
  cert: { run: certCommand, usage: certUsage },
  clients: { run: clientsCommand, usage: clientsUsage },
  'dev-pki': { run: devPkiCommand, usage: devPkiUsage },
  keys: { run: keysCommand, usage: keysUsage },
  revocation: { run: revocationCommand, usage: revocationUsage },
};

const USAGE = `Usage: myna-oidc <command> ...

Commands:
  accounts export|erase one account: what the OP holds about it (JSON), or its erasure
  cert inspect|verify   describe a certificate, or check it as the login verifier does
  clients add|update|rotate-secret|show|list|remove   relying parties (in the OP's table)
  dev-pki create        write a development JPKI hierarchy (test CAs, cards, CRLs)
  keys list|rotate      token-signing key rotation (local data folder or Secrets Manager)
  revocation import|status|notify   import CRLs into the OP's table; one certificate's status;
                        notify RPs of revoked certificates (back-channel logout)

Run 'myna-oidc <command> --help' for a command's options.`;

const HELP = new Set(['--help', '-h', 'help']);

/**
 * Runs the CLI with `argv` (without node and script) and returns the exit code: 0 done, 1 failed
 * (one line on stderr), 2 a bad command line (usage on stderr; also without any command).
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name !== undefined && HELP.has(name)) {
    io.out(USAGE);
    return ExitCode.OK;
  }
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    io.err(name ? `unknown command: ${name}\n\n${USAGE}` : USAGE);
    return ExitCode.USAGE;
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
    io.err(describeFailure(name as string, error));
    return ExitCode.FAILED;
  }
}

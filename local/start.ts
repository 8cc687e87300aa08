#!/usr/bin/env node
/**
 * `npm start`: the whole product locally. OP on http://localhost:3000, demo RP on
 * http://localhost:3001, the reader-helper with a virtual card on ws://127.0.0.1:47123, dynalite
 * persisted in ./.data (options: `npm start -- --help`, start-cli.ts). Ctrl-C stops everything;
 * the next start keeps the same data (same sub).
 */
import { showLibraryWarningsOnce } from './library-warnings.js';

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);
// Before the libraries load: oidc-provider and the AWS SDK warn on import.
showLibraryWarningsOnce(err);
const { runStart } = await import('./start-cli.js');
const { code, stack } = await runStart(process.argv.slice(2), { out, err });
process.exitCode = code;

let stopping = false;
if (stack) {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      out('\nStopping…');
      stack.close().then(
        () => out('Stopped.'),
        (error: unknown) => {
          err(`error while stopping: ${(error as Error).message}`);
          process.exitCode = 1;
        },
      );
    });
  }
}

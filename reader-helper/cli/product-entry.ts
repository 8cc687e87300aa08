/**
 * Entry point of the installed helper (the npm package `myna-helper`, the single executable and
 * the .deb, all bundled from this file): the commands for people's PCs, without the development
 * tools. No top-level await, so the same file bundles as CommonJS for Node's single executables.
 */
import { defaultDeps } from './deps.js';
import { processIo } from './io.js';
import { runHelperCli } from './main.js';

void defaultDeps()
  .then((deps) => runHelperCli(process.argv.slice(2), processIo, deps))
  .then((code) => {
    process.exitCode = code;
  });

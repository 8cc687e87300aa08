#!/usr/bin/env node
/**
 * Entry point of `myna-helper` in the myna-oidc source tree: the helper product plus its
 * development tools (the virtual card, loaded from dev-card/ only by the commands that use it).
 * The installed helper's entry point is product-entry.ts.
 */
import { defaultDeps } from './deps.js';
import { processIo } from './io.js';
import { runHelperCli } from './main.js';

const deps = await defaultDeps({
  loadDevTools: async () => (await import('../../dev-card/virtual-card-tools.js')).devTools,
});
process.exitCode = await runHelperCli(process.argv.slice(2), processIo, deps);

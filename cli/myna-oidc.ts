#!/usr/bin/env node
import { processIo } from './io.js';
/** Entry point of the `myna-oidc` operator CLI. */
import { runCli } from './main.js';

process.exitCode = await runCli(process.argv.slice(2), processIo);

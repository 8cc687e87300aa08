#!/usr/bin/env node
/** Entry point of the reader-helper CLI `myna-helper`. */
import { processIo } from '../../cli/io.js';
import { runHelperCli } from './main.js';

process.exitCode = await runHelperCli(process.argv.slice(2), processIo);

#!/usr/bin/env node
/**
 * `npm start`: the whole product locally. OP on http://localhost:3000, demo RP on
 * http://localhost:3001, the reader-helper with a virtual card on ws://127.0.0.1:47123, dynalite
 * persisted in ./.data. Ctrl-C stops everything; the next start keeps the same data (same sub).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_HELPER_PORT } from '../protocol/helper-protocol.js';
import { startLocalStack } from './stack.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: process.env.MYNA_DATA_DIR ?? '.data' },
    'op-port': { type: 'string', default: '3000' },
    'rp-port': { type: 'string', default: '3001' },
    'dynamo-port': { type: 'string', default: '4570' },
    'helper-port': { type: 'string', default: String(DEFAULT_HELPER_PORT) },
  },
});
const log = (line: string) => process.stdout.write(`${line}\n`);
const port = (name: keyof typeof values) => {
  const value = Number(values[name]);
  if (!Number.isInteger(value) || value < 1 || value > 65_535)
    throw new Error(`--${name} must be a port number`);
  return value;
};

const stack = await startLocalStack({
  dataDir: resolve(values.data),
  opPort: port('op-port'),
  rpPort: port('rp-port'),
  dynamoPort: port('dynamo-port'),
  helperPort: port('helper-port'),
  log,
});
log(`
Sign in with MyNumber card — local stack (DEVELOPMENT ONLY)
  Open            ${stack.rpUrl.replace('127.0.0.1', 'localhost')}   and click "Sign in with MyNumber card"
  Test PIN        ${stack.pin}   (virtual card: ${stack.identityDir})
  OP (issuer)     ${stack.opUrl}
  Helper          ${stack.helperUrl}
  Local DynamoDB  ${stack.dynamoEndpoint}   (myna-oidc clients list --endpoint ${stack.dynamoEndpoint})
  Data            ${resolve(values.data)}
Press Ctrl-C to stop.`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log('\nStopping…');
    stack.close().then(
      () => log('Stopped.'),
      (error: unknown) => {
        process.stderr.write(`error while stopping: ${(error as Error).message}\n`);
        process.exitCode = 1;
      },
    );
  });
}

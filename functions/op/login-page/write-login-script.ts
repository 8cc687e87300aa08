/**
 * Build step: writes the bundled login script as `login-script.bundle.js` (an ES module exporting
 * the script text) next to the compiled login-script.js. Run after tsc:
 * `node dist/functions/op/login-page/write-login-script.js`. The TypeScript entry is read from
 * the source tree (the compiled .js of the browser code is not used).
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { buildLoginScript, LOGIN_SCRIPT_ENTRY } from './login-script.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const sourceEntry = fileURLToPath(
  new URL(LOGIN_SCRIPT_ENTRY, new URL('../../../../functions/op/login-page/', import.meta.url)),
);
const script = await buildLoginScript(sourceEntry);
await writeFile(`${here}login-script.bundle.js`, `export default ${JSON.stringify(script)};\n`);

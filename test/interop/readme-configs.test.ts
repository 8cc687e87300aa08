/**
 * The README's RP configurations are the files the interop tests run: each appears in the
 * "For relying parties" section as one fenced block, byte for byte.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from '@jest/globals';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFile(new URL(path, root), 'utf8');

/** The README section from its heading to the next `## ` heading. */
async function rpSection(): Promise<string> {
  const readme = await read('README.md');
  const start = readme.indexOf('## For relying parties');
  expect(start).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

describe('README "For relying parties" shows the tested RP configurations', () => {
  it.each([
    ['mod_auth_openidc', 'apache', 'test/interop/apache/myna-oidc.conf'],
    ['Authlib', 'python', 'test/interop/authlib/myna_oidc_client.py'],
  ])('%s: %s block = %s', async (_software, language, path) => {
    const file = await read(path);
    expect(file.endsWith('\n')).toBe(true);
    expect(await rpSection()).toContain(`\`\`\`${language}\n${file}\`\`\`\n`);
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { FilePredecessorSource } from '../../functions/accounts/file-predecessor-source.js';
import type { ParsedCertificate } from '../../functions/jpki/certificate.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'myna-oidc-predecessors-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Only the serial number matters to the source. */
const withSerial = (hex: string) =>
  ({ serialNumber: Buffer.from(hex, 'hex') }) as unknown as ParsedCertificate;

describe('FilePredecessorSource', () => {
  test('maps a serial to its predecessor, re-reading the file on every call', async () => {
    const path = join(dir, 'links.json');
    await writeFile(path, JSON.stringify({ '0a1b2c': '00ff01' }));
    const source = new FilePredecessorSource(path);
    expect(Buffer.from((await source.predecessorSerial(withSerial('0a1b2c'))) ?? []).toString('hex')).toBe(
      '00ff01',
    );
    expect(await source.predecessorSerial(withSerial('0a1b2d'))).toBeUndefined();
    await writeFile(path, JSON.stringify({ '0A1B2D': '01' }));
    expect(Buffer.from((await source.predecessorSerial(withSerial('000a1b2d'))) ?? []).toString('hex')).toBe(
      '01',
    );
  });

  test('a missing file knows no renewals', async () => {
    const source = new FilePredecessorSource(join(dir, 'missing.json'));
    expect(await source.predecessorSerial(withSerial('01'))).toBeUndefined();
  });

  test.each([
    ['not JSON', '{'],
    ['an array', '["01"]'],
    ['a non-hex key', '{"zz": "01"}'],
    ['an odd-length value', '{"01": "123"}'],
    ['a number value', '{"01": 2}'],
  ])('refuses a file that is %s without echoing its contents', async (_, text) => {
    const path = join(dir, 'bad.json');
    await writeFile(path, text);
    const error = await new FilePredecessorSource(path)
      .predecessorSerial(withSerial('01'))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'PredecessorFileError', code: 'PREDECESSOR_FILE_MALFORMED' });
    expect((error as Error).message).not.toContain('123');
  });
});

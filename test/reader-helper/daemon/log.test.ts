import { describe, expect, it } from '@jest/globals';
import { certificateTag, createLogger } from '../../../reader-helper/log.js';

describe('helper log', () => {
  it('writes one JSON object per line at or above its level, dropping PIN fields', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', write: (line) => lines.push(line), now: () => new Date(0) });
    logger.log('debug', 'hidden');
    logger.log('info', 'authenticate', { origin: 'https://a.example', pin: '1234' });
    expect(lines).toEqual([
      '{"time":"1970-01-01T00:00:00.000Z","level":"info","msg":"authenticate","origin":"https://a.example"}\n',
    ]);
  });

  it('tags a certificate with a short hash', () => {
    expect(certificateTag(Uint8Array.from([1, 2, 3]))).toMatch(/^[0-9a-f]{12}$/);
  });
});

/** createRevocationSource: which source answers under each policy. */
import { describe, expect, it, jest } from '@jest/globals';
import { createRevocationSource } from '../../functions/revocation/policy.js';
import type {
  RevocationQuery,
  RevocationSource,
  RevocationStatus,
} from '../../functions/revocation/revocation-source.js';

const fixed = (status: RevocationStatus): RevocationSource => ({ status: async () => status });
const query = {} as RevocationQuery;
const revoked: RevocationStatus = { status: 'revoked', reason: 'superseded', revokedAt: new Date(0) };
const logger = () => ({ warn: jest.fn() });

describe('createRevocationSource', () => {
  it('crl and ocsp use their source and need it', async () => {
    expect(await createRevocationSource('crl', { crl: fixed(revoked), logger: logger() }).status(query)).toBe(
      revoked,
    );
    expect(
      await createRevocationSource('ocsp', { ocsp: fixed({ status: 'good' }), logger: logger() }).status(
        query,
      ),
    ).toEqual({ status: 'good' });
    expect(() => createRevocationSource('ocsp', { crl: fixed(revoked), logger: logger() })).toThrow(
      expect.objectContaining({ code: 'REVOCATION_POLICY_INVALID' }),
    );
  });

  it('ocsp-then-crl asks the CRL only when OCSP answers unknown', async () => {
    const crl = { status: jest.fn(async () => revoked) };
    const first = createRevocationSource('ocsp-then-crl', {
      ocsp: fixed({ status: 'good' }),
      crl,
      logger: logger(),
    });
    expect(await first.status(query)).toEqual({ status: 'good' });
    expect(crl.status).not.toHaveBeenCalled();
    const fallback = createRevocationSource('ocsp-then-crl', {
      ocsp: fixed({ status: 'unknown', detail: 'down' }),
      crl,
      logger: logger(),
    });
    expect(await fallback.status(query)).toBe(revoked);
    const neither = createRevocationSource('ocsp-then-crl', {
      ocsp: fixed({ status: 'unknown', detail: 'down' }),
      crl: fixed({ status: 'unknown', detail: 'stale' }),
      logger: logger(),
    });
    expect(await neither.status(query)).toEqual({ status: 'unknown', detail: 'OCSP: down; CRL: stale' });
  });

  it('none answers good and warns once at creation', async () => {
    const log = logger();
    const source = createRevocationSource('none', { logger: log });
    expect(await source.status(query)).toEqual({ status: 'good' });
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.warn).toHaveBeenCalledWith('revocation.disabled', expect.any(Object));
  });
});

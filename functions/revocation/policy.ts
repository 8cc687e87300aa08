/**
 * The operator's revocation policy: which source answers, chosen per deployment. Fail-closed by
 * default: `unknown` fails a login unless the verifier is told allowUnknownRevocation.
 */
import type { OpLogger } from '../op/log.js';
import type { RevocationSource, RevocationStatus } from './revocation-source.js';

/** `crl`: imported CRLs; `ocsp`: the responder; `ocsp-then-crl`: CRLs when OCSP answers unknown; `none`: development only. */
export type RevocationPolicy = 'crl' | 'ocsp' | 'ocsp-then-crl' | 'none';

/** Raised when a policy lacks the source it needs. */
export class RevocationPolicyError extends Error {
  override name = 'RevocationPolicyError';
  readonly code = 'REVOCATION_POLICY_INVALID';
}

/** The sources a policy may use, and where `none` warns. */
export interface RevocationSources {
  readonly crl?: RevocationSource;
  readonly ocsp?: RevocationSource;
  readonly logger: Pick<OpLogger, 'warn'>;
}

/** The RevocationSource of `policy`; throws RevocationPolicyError when a needed source is missing. */
export function createRevocationSource(
  policy: RevocationPolicy,
  sources: RevocationSources,
): RevocationSource {
  const need = (source: RevocationSource | undefined, name: string): RevocationSource => {
    if (!source) throw new RevocationPolicyError(`revocation policy ${policy} needs a ${name} source`);
    return source;
  };
  switch (policy) {
    case 'crl':
      return need(sources.crl, 'CRL');
    case 'ocsp':
      return need(sources.ocsp, 'OCSP');
    case 'ocsp-then-crl': {
      const ocsp = need(sources.ocsp, 'OCSP');
      const crl = need(sources.crl, 'CRL');
      return {
        async status(query): Promise<RevocationStatus> {
          const first = await ocsp.status(query);
          if (first.status !== 'unknown') return first;
          const second = await crl.status(query);
          return second.status === 'unknown'
            ? { status: 'unknown', detail: `OCSP: ${first.detail}; CRL: ${second.detail}` }
            : second;
        },
      };
    }
    case 'none':
      sources.logger.warn('revocation.disabled', {
        detail: 'revocation policy none: revoked certificates can log in (development only)',
      });
      return { status: async () => ({ status: 'good' }) };
    default:
      throw new RevocationPolicyError(`unknown revocation policy: ${String(policy)}`);
  }
}

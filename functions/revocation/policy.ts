/**
 * The operator's revocation policy: which source answers, chosen per deployment
 * (OP_REVOCATION_POLICY on Lambda, `revocationPolicy` in CDK). Fail-closed by default: `unknown`
 * fails a login unless the verifier is told allowUnknownRevocation. revocationSourceFor() builds
 * the source of a policy from its settings — CRL files loaded into memory or the CRLs imported
 * into the table, OCSP with the OP's clock skew — so every entry point chooses the same way.
 */
import { readFile } from 'node:fs/promises';
import { DEFAULT_CLOCK_SKEW_SECONDS, DEFAULT_CRL_GRACE_SECONDS } from '../defaults.js';
import { decodePemOrDer } from '../jpki/pem.js';
import type { TrustAnchors } from '../jpki/trust-anchors.js';
import type { OpLogger } from '../log/logger.js';
import type { CrlStore } from './crl-store.js';
import { MemoryCrlSource } from './memory-crl-source.js';
import { OcspSource } from './ocsp-source.js';
import type { RevocationSource, RevocationStatus } from './revocation-source.js';
import { StoredCrlSource } from './stored-crl-source.js';

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

/** The operator's revocation settings (on Lambda: OP_REVOCATION_POLICY, OP_CRL_FILES, OP_OCSP_…). */
export interface RevocationSettings {
  readonly policy: RevocationPolicy;
  /** DER or PEM CRL files loaded into memory once; when empty, the CRLs imported into the table. */
  readonly crlFiles?: readonly string[];
  /** How long past nextUpdate a stored CRL is still used, seconds (default 0). */
  readonly crlGraceSeconds?: number;
  /** The OCSP responder (default: the certificate's AIA). */
  readonly ocspUrl?: string;
  /** Time allowed for one OCSP exchange, ms (default defaults.ts DEFAULT_OCSP_TIMEOUT_MS). */
  readonly ocspTimeoutMs?: number;
  /** The OP's clock skew, seconds, also applied to OCSP thisUpdate/nextUpdate (default 60). */
  readonly clockSkewSeconds?: number;
}

/** What the sources of a policy are made from. */
export interface RevocationContext {
  readonly trustAnchors: TrustAnchors;
  /** The imported CRLs (used when no CRL files are given). */
  readonly crlStore: CrlStore;
  /** The certificate-key secret the imported CRLs are keyed with. */
  readonly certificateKeySecret: Uint8Array;
  /** Where the `none` policy warns. */
  readonly logger: Pick<OpLogger, 'warn'>;
}

/** The RevocationSource of `settings` (see the module comment); reads the CRL files it is given. */
export async function revocationSourceFor(
  settings: RevocationSettings,
  context: RevocationContext,
): Promise<RevocationSource> {
  const { policy } = settings;
  let crl: RevocationSource | undefined;
  if (policy === 'crl' || policy === 'ocsp-then-crl') {
    const files = settings.crlFiles ?? [];
    if (files.length > 0) {
      const memory = new MemoryCrlSource(context.trustAnchors);
      for (const path of files) {
        for (const der of decodePemOrDer(await readFile(path), 'X509 CRL')) await memory.load(der);
      }
      crl = memory;
    } else {
      crl = new StoredCrlSource({
        store: context.crlStore,
        secret: context.certificateKeySecret,
        graceSeconds: settings.crlGraceSeconds ?? DEFAULT_CRL_GRACE_SECONDS,
      });
    }
  }
  const ocsp =
    policy === 'ocsp' || policy === 'ocsp-then-crl'
      ? new OcspSource({
          responderUrl: settings.ocspUrl,
          timeoutMs: settings.ocspTimeoutMs,
          clockSkewSeconds: settings.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS,
        })
      : undefined;
  return createRevocationSource(policy, { crl, ocsp, logger: context.logger });
}

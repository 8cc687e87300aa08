/**
 * The one environment reader of the stack's Lambdas: the OP (lambda.ts, readLambdaEnv), the
 * revocation notification job (notify-handler.ts, readNotifyEnv) and the logout-token signer
 * (logout-signer-handler.ts, readLogoutSignerEnv).
 *
 * The OP (readSharedEnv; the notification job reads these too, except OP_SECRET_ID):
 *   OP_ISSUER                    issuer URL (the API's custom domain), required
 *   OP_TABLE_NAME                DynamoDB table, required
 *   OP_SECRET_ID                 Secrets Manager signing secret (name or ARN), required; alone, one
 *                                secret holding every part (functions/secrets/op-secrets.ts)
 *   OP_CERTIFICATE_KEY_SECRET_ID the certificate-key secret and the pairwise secret (both, or
 *   OP_PAIRWISE_SECRET_ID        neither), set by the stack
 *   OP_PRIVATE_RP_HOSTS          comma-separated RP host names or IP addresses that may be on private
 *                                networks (back-channel logout, jwks_uri…; default none: refused)
 * The OP only:
 *   OP_ORIGIN_VERIFY_SECRET_ID   the CloudFront origin-verify secret (WAF option; origin-verify.ts)
 *   OP_TRUST_ANCHORS_FILE        PEM bundle of the JPKI user-auth CA certificates, deployed with the
 *                                code (a path relative to LAMBDA_TASK_ROOT or absolute), required
 *   OP_REVOCATION_POLICY         crl (default) | ocsp | ocsp-then-crl | none (development only:
 *                                warned at start-up); see revocation/policy.ts
 *   OP_CRL_FILES                 comma-separated DER/PEM CRL files loaded into memory at cold start;
 *                                when unset, the CRL source is the CRLs imported into OP_TABLE_NAME
 *                                (`myna-oidc revocation import`)
 *   OP_CRL_GRACE_SECONDS         how long past nextUpdate a stored CRL is still used (default 0)
 *   OP_OCSP_URL                  OCSP responder (default: the certificate's AIA)
 *   OP_OCSP_TIMEOUT_MS           default 3000 (defaults.ts)
 *   OP_ALLOW_UNKNOWN_REVOCATION  "true" to accept logins whose revocation status is unknown
 *   OP_CLOCK_SKEW_SECONDS        default 60
 *   OP_HELPER_PORT               default 47123
 *   OP_HELPER_GUIDE_URL          link to the helper's install instructions
 *   OP_ACCOUNT_RETENTION_DAYS    days an account is kept after its last login (default 1095)
 *   OP_RELEASE_HISTORY_RETENTION_DAYS days a release history entry is kept (default 365)
 *   OP_SIGNING_TRUST_ANCHORS_FILE PEM bundle of the JPKI signing CA certificates (identity verification,
 *                                issue #14), deployed with the code like OP_TRUST_ANCHORS_FILE; unset:
 *                                identity verification is off (needs J-LIS's authorization)
 *   OP_IDENTITY_AGE_THRESHOLDS   comma-separated ages `age_over_NN` answers for (default 18,20,65)
 *   OP_IDENTITY_EVIDENCE_RETENTION_DAYS
 *                                days retained identity evidence is kept (default 2557)
 *   OP_CERTIFICATE_LINKS_FILE    JSON file of signing serial -> user-auth serial links (the format of
 *                                jpki/certificate-links.ts FileCertificateLinkSource), deployed with
 *                                the code; identity verification needs it (or the opt-in below)
 *   OP_CERTIFICATE_LINKS_AUTHORITATIVE
 *                                "false" when the file does not list every signing certificate
 *                                (default "true": an unlisted one is refused)
 *   OP_IDENTITY_ACCEPT_UNLINKED_SIGNING_CERTIFICATES
 *                                "true" to verify identities without an authoritative link file:
 *                                the signing certificate is then not proven to be the login card's
 *   OP_IDENTITY_ALLOW_UNKNOWN_REVOCATION
 *                                "true" to accept signing certificates of unknown revocation status
 *                                (default "false"; independent of OP_ALLOW_UNKNOWN_REVOCATION)
 *   OP_LIMIT_ANSWERS_PER_INTERACTION, OP_LIMIT_CHALLENGES_PER_INTERACTION,
 *   OP_LIMIT_INTERACTIONS_PER_ADDRESS_PER_MINUTE
 *                                the login limits (defaults.ts LOGIN_LIMITS: 5, 10, 100)
 *
 * The notification job reads the shared block WITHOUT OP_SECRET_ID (it holds no signing key) and
 *   OP_LOGOUT_TOKEN_SIGNER_FUNCTION  the logout-token signer Lambda it invokes (readNotifyEnv);
 * the logout-token signer reads OP_ISSUER, OP_TABLE_NAME and OP_SECRET_ID (readLogoutSignerEnv).
 */
import type { RevocationPolicy } from '../revocation/policy.js';
import type { AwsSecretIds } from '../secrets/aws-secrets.js';
import { OpConfigError } from './config.js';
import type { LoginLimitSettings } from './limit-settings.js';

const POLICIES: readonly RevocationPolicy[] = ['crl', 'ocsp', 'ocsp-then-crl', 'none'];

/** The variable of each login limit (also set by the CDK stack from its context). */
export const LOGIN_LIMIT_ENV = {
  answersPerInteraction: 'OP_LIMIT_ANSWERS_PER_INTERACTION',
  challengesPerInteraction: 'OP_LIMIT_CHALLENGES_PER_INTERACTION',
  interactionsPerAddressPerMinute: 'OP_LIMIT_INTERACTIONS_PER_ADDRESS_PER_MINUTE',
} as const satisfies Record<keyof LoginLimitSettings, string>;

/** What both Lambdas read. */
export interface SharedEnv {
  readonly issuer: string;
  readonly tableName: string;
  readonly secretIds: AwsSecretIds;
  readonly privateRpHosts: readonly string[];
}

/** The OP Lambda's environment. */
export interface LambdaEnv extends SharedEnv {
  readonly trustAnchorsFile: string;
  readonly revocationPolicy: RevocationPolicy;
  readonly crlFiles: readonly string[];
  readonly crlGraceSeconds?: number;
  readonly ocspUrl?: string;
  readonly ocspTimeoutMs?: number;
  readonly allowUnknownRevocation: boolean;
  readonly clockSkewSeconds?: number;
  readonly helperPort?: number;
  readonly helperGuideUrl?: string;
  readonly accountRetentionDays?: number;
  readonly releaseHistoryRetentionDays?: number;
  readonly limits: Partial<LoginLimitSettings>;
  readonly signingTrustAnchorsFile?: string;
  /** The certificate link file (OP_CERTIFICATE_LINKS_FILE) and whether it lists every signing certificate. */
  readonly certificateLinks?: { readonly file: string; readonly authoritative: boolean };
  readonly identity: {
    readonly ageThresholds?: readonly number[];
    readonly evidenceRetentionDays?: number;
    readonly allowUnknownRevocation: boolean;
    readonly acceptUnlinkedSigningCertificates: boolean;
  };
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new OpConfigError(`environment variable ${name} is required`);
  return value;
}

/** The OP's variables of the first block; throws OpConfigError naming the first missing or bad one. */
export function readSharedEnv(env: NodeJS.ProcessEnv): SharedEnv {
  return {
    issuer: required(env, 'OP_ISSUER'),
    tableName: required(env, 'OP_TABLE_NAME'),
    secretIds: {
      signing: required(env, 'OP_SECRET_ID'),
      certificateKey: env.OP_CERTIFICATE_KEY_SECRET_ID || undefined,
      pairwise: env.OP_PAIRWISE_SECRET_ID || undefined,
    },
    privateRpHosts: privateRpHostsIn(env),
  };
}

/** The notification job's environment (notify-handler.ts). */
export interface NotifyEnv {
  readonly issuer: string;
  readonly tableName: string;
  readonly certificateKeySecretId: string;
  readonly pairwiseSecretId: string;
  readonly privateRpHosts: readonly string[];
  readonly logoutTokenSignerFunction: string;
}

/** The notification job's variables; throws OpConfigError naming the first missing one. */
export function readNotifyEnv(env: NodeJS.ProcessEnv): NotifyEnv {
  return {
    issuer: required(env, 'OP_ISSUER'),
    tableName: required(env, 'OP_TABLE_NAME'),
    certificateKeySecretId: required(env, 'OP_CERTIFICATE_KEY_SECRET_ID'),
    pairwiseSecretId: required(env, 'OP_PAIRWISE_SECRET_ID'),
    privateRpHosts: privateRpHostsIn(env),
    logoutTokenSignerFunction: required(env, 'OP_LOGOUT_TOKEN_SIGNER_FUNCTION'),
  };
}

/** The logout-token signer's variables (logout-signer-handler.ts). */
export function readLogoutSignerEnv(env: NodeJS.ProcessEnv): {
  readonly issuer: string;
  readonly tableName: string;
  readonly signingSecretId: string;
} {
  return {
    issuer: required(env, 'OP_ISSUER'),
    tableName: required(env, 'OP_TABLE_NAME'),
    signingSecretId: required(env, 'OP_SECRET_ID'),
  };
}

/** OP_PRIVATE_RP_HOSTS as a list (also read by `myna-oidc revocation notify`); empty when unset. */
export function privateRpHostsIn(env: NodeJS.ProcessEnv): string[] {
  return (env.OP_PRIVATE_RP_HOSTS ?? '')
    .split(',')
    .map((host) => host.trim())
    .filter((host) => host !== '');
}

/** The OP Lambda's environment; throws OpConfigError naming the first missing or bad variable. */
export function readLambdaEnv(env: NodeJS.ProcessEnv): LambdaEnv {
  const integer = (name: string): number | undefined => {
    const value = env[name];
    if (value === undefined || value === '') return undefined;
    if (!/^[0-9]+$/.test(value)) throw new OpConfigError(`environment variable ${name} must be an integer`);
    return Number(value);
  };
  const integerList = (name: string): number[] | undefined => {
    const value = env[name];
    if (value === undefined || value === '') return undefined;
    if (!/^[0-9]+(,[0-9]+)*$/.test(value.replaceAll(' ', ''))) {
      throw new OpConfigError(`environment variable ${name} must be comma-separated integers`);
    }
    return value.replaceAll(' ', '').split(',').map(Number);
  };
  const boolean = (name: string, byDefault: boolean): boolean => {
    const value = env[name] || String(byDefault);
    if (value !== 'true' && value !== 'false') {
      throw new OpConfigError(`environment variable ${name} must be "true" or "false"`);
    }
    return value === 'true';
  };
  const linksFile = env.OP_CERTIFICATE_LINKS_FILE || undefined;
  const policy = env.OP_REVOCATION_POLICY || 'crl';
  if (!POLICIES.includes(policy as RevocationPolicy)) {
    throw new OpConfigError(
      `environment variable OP_REVOCATION_POLICY must be one of ${POLICIES.join(', ')}`,
    );
  }
  return {
    ...readSharedEnv(env),
    trustAnchorsFile: required(env, 'OP_TRUST_ANCHORS_FILE'),
    revocationPolicy: policy as RevocationPolicy,
    crlFiles: (env.OP_CRL_FILES ?? '')
      .split(',')
      .map((path) => path.trim())
      .filter((path) => path !== ''),
    crlGraceSeconds: integer('OP_CRL_GRACE_SECONDS'),
    ocspUrl: env.OP_OCSP_URL || undefined,
    ocspTimeoutMs: integer('OP_OCSP_TIMEOUT_MS'),
    allowUnknownRevocation: boolean('OP_ALLOW_UNKNOWN_REVOCATION', false),
    clockSkewSeconds: integer('OP_CLOCK_SKEW_SECONDS'),
    helperPort: integer('OP_HELPER_PORT'),
    helperGuideUrl: env.OP_HELPER_GUIDE_URL || undefined,
    accountRetentionDays: integer('OP_ACCOUNT_RETENTION_DAYS'),
    releaseHistoryRetentionDays: integer('OP_RELEASE_HISTORY_RETENTION_DAYS'),
    signingTrustAnchorsFile: env.OP_SIGNING_TRUST_ANCHORS_FILE || undefined,
    ...(linksFile
      ? {
          certificateLinks: {
            file: linksFile,
            authoritative: boolean('OP_CERTIFICATE_LINKS_AUTHORITATIVE', true),
          },
        }
      : {}),
    identity: {
      ageThresholds: integerList('OP_IDENTITY_AGE_THRESHOLDS'),
      evidenceRetentionDays: integer('OP_IDENTITY_EVIDENCE_RETENTION_DAYS'),
      allowUnknownRevocation: boolean('OP_IDENTITY_ALLOW_UNKNOWN_REVOCATION', false),
      acceptUnlinkedSigningCertificates: boolean('OP_IDENTITY_ACCEPT_UNLINKED_SIGNING_CERTIFICATES', false),
    },
    limits: Object.fromEntries(
      Object.entries(LOGIN_LIMIT_ENV).flatMap(([setting, name]) => {
        const value = integer(name);
        return value === undefined ? [] : [[setting, value]];
      }),
    ),
  };
}

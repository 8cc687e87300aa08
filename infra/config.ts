/**
 * The deployment's settings, read from CDK context (`cdk.json` or `-c key=value`). Everything is
 * optional so that `npm run synth` works on a fresh clone without an AWS account; docs/deploy.md
 * lists what a real deployment sets.
 */
import type { Node } from 'constructs';
import {
  DEFAULT_ACCOUNT_RETENTION_DAYS,
  DEFAULT_RELEASE_HISTORY_RETENTION_DAYS,
  LOGIN_LIMITS,
} from '../functions/defaults.js';
import type { LoginLimitSettings } from '../functions/op/limit-settings.js';
import { PrivateRpHosts } from '../functions/revocation/notification/private-network.js';

/** How the table and the secrets are encrypted at rest (default: customer, a KMS key of the stack). */
export type EncryptionOption = 'aws-owned' | 'customer';

/** The settings the stack is built from. */
export interface DeploymentConfig {
  /** Issuer host name (e.g. login.example.jp); without it the issuer is the API's execute-api URL. */
  readonly domainName?: string;
  /** ACM certificate (same region as the stack) for domainName; else one is created with DNS validation. */
  readonly certificateArn?: string;
  /** Route 53 hosted zone for domainName: DNS validation of a created certificate and the alias record. */
  readonly hostedZoneId?: string;
  readonly hostedZoneName?: string;
  /** CloudFront + AWS WAF in front of the HTTP API (WAFv2 cannot attach to HTTP APIs). */
  readonly waf: boolean;
  /** The CLOUDFRONT-scope web ACL (from the MynaOidcWaf stack in us-east-1). */
  readonly webAclArn?: string;
  /** ACM certificate in us-east-1 for domainName, required by CloudFront when waf is on. */
  readonly edgeCertificateArn?: string;
  /** WAF rate limits: requests per IP per 5 minutes. */
  readonly loginRateLimit: number;
  readonly tokenRateLimit: number;
  /** E-mail address subscribed to the alarm topic (creates the topic). */
  readonly alarmEmail?: string;
  /** Existing SNS topic for alarms (instead of creating one). */
  readonly alarmTopicArn?: string;
  /** Reserved concurrency of the OP function (`-c reservedConcurrency=none`: the account's unreserved pool). */
  readonly reservedConcurrency?: number;
  /** HTTP API stage throttling: steady requests per second and burst, for all clients together. */
  readonly throttleRateLimit: number;
  readonly throttleBurstLimit: number;
  /**
   * IAM principals (role or user ARNs, `*` allowed in names) that may read and write the OP's
   * secrets besides the stack's own roles — the operators who run `myna-oidc keys` and
   * `myna-oidc revocation import`. Every other principal of the account is denied by the secrets'
   * resource policies.
   */
  readonly secretAdminArns: readonly string[];
  /** Version id of the origin-verify secret CloudFront sends (set it to roll out a rotated value). */
  readonly originVerifyVersion?: string;
  /** Lambda memory in MB (see docs/deploy.md, "Memory"). */
  readonly memorySize: number;
  readonly encryption: EncryptionOption;
  /** PEM bundle of the J-LIS user-authentication CA certificates, shipped with the code. */
  readonly trustAnchors?: string;
  /**
   * PEM bundle of the J-LIS signing CA certificates (identity verification with the signing
   * certificate, OP_SIGNING_TRUST_ANCHORS_FILE), shipped with the code; unset: identity verification
   * is off. Production use needs J-LIS's authorization as a signature verifier or platform operator.
   */
  readonly signingTrustAnchors?: string;
  /**
   * JSON file of signing serial → user-auth serial links (jpki/certificate-links.ts format),
   * shipped with the code (OP_CERTIFICATE_LINKS_FILE): the proof that a signing certificate is of
   * the card that signed in. signingTrustAnchors need it unless identityAcceptUnlinkedSigningCertificates.
   */
  readonly certificateLinks?: string;
  /** OP_CERTIFICATE_LINKS_AUTHORITATIVE: the link file lists every signing certificate (default true). */
  readonly certificateLinksAuthoritative: boolean;
  /**
   * OP_IDENTITY_ACCEPT_UNLINKED_SIGNING_CERTIFICATES (default false): verify identities without an
   * authoritative link file — the facts are then those of whoever holds a signing card and its
   * password, not proven to be the signed-in person's (docs/identity.md).
   */
  readonly identityAcceptUnlinkedSigningCertificates: boolean;
  /** DER/PEM CRL files shipped with the code (comma-separated in context). */
  readonly crlFiles: readonly string[];
  /** OP_REVOCATION_POLICY of the OP (crl, ocsp, ocsp-then-crl, none); unset: crl. */
  readonly revocationPolicy?: string;
  /** OP_OCSP_URL: the OCSP responder (unset: the certificate's AIA). */
  readonly ocspUrl?: string;
  /** Minutes between runs of the revocation notification job. */
  readonly notifyScheduleMinutes: number;
  /** Name of the DynamoDB table (the CLI's --table). */
  readonly tableName: string;
  /** Log retention in days. */
  readonly logRetentionDays: number;
  /** Link to the helper's install guide shown on the login page. */
  readonly helperGuideUrl?: string;
  /**
   * OP_PRIVATE_RP_HOSTS of the OP and the notification job: RP host names or IP addresses that may
   * resolve to private addresses (back-channel logout, jwks_uri…); default none.
   */
  readonly privateRpHosts: readonly string[];
  /** OP_ACCOUNT_RETENTION_DAYS: days an account is kept after its last login. */
  readonly accountRetentionDays: number;
  /** OP_RELEASE_HISTORY_RETENTION_DAYS: days an entry of an account's release history is kept. */
  readonly releaseHistoryRetentionDays: number;
  /** OP_LIMIT_*: the login limits (functions/defaults.ts LOGIN_LIMITS). */
  readonly loginLimits: LoginLimitSettings;
  /** Account and region; both unset gives an environment-agnostic stack. */
  readonly account?: string;
  readonly region?: string;
}

/** Defaults of the numeric settings. */
export const DEFAULTS = {
  memorySize: 1024,
  reservedConcurrency: 20,
  throttleRateLimit: 200,
  throttleBurstLimit: 400,
  loginRateLimit: 100,
  tokenRateLimit: 600,
  tableName: 'myna-oidc',
  logRetentionDays: 90,
  notifyScheduleMinutes: 15,
  accountRetentionDays: DEFAULT_ACCOUNT_RETENTION_DAYS,
  releaseHistoryRetentionDays: DEFAULT_RELEASE_HISTORY_RETENTION_DAYS,
  limitAnswersPerInteraction: LOGIN_LIMITS.answersPerInteraction,
  limitChallengesPerInteraction: LOGIN_LIMITS.challengesPerInteraction,
  limitInteractionsPerAddressPerMinute: LOGIN_LIMITS.interactionsPerAddressPerMinute,
} as const;

/** Raised for a context value that cannot be used. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads the settings from the construct tree's context (`app.node`). */
export function readConfig(node: Node): DeploymentConfig {
  const text = (key: string): string | undefined => {
    const value = node.tryGetContext(key) as unknown;
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new ConfigError(`context ${key} must be a string`);
    }
    return String(value);
  };
  const integer = (key: string, fallback?: number): number | undefined => {
    const value = text(key);
    if (value === undefined) return fallback;
    if (!/^[0-9]+$/.test(value)) throw new ConfigError(`context ${key} must be a positive integer`);
    return Number(value);
  };
  /** An integer of at least 1 (0 would switch a limit or the retention into refusing everything). */
  const positive = (key: string, fallback: number): number => {
    const value = integer(key, fallback) as number;
    if (value < 1) throw new ConfigError(`context ${key} must be at least 1 (default ${fallback})`);
    return value;
  };
  const flag = (key: string, fallback = false): boolean => {
    const value = text(key) ?? String(fallback);
    if (value !== 'true' && value !== 'false') throw new ConfigError(`context ${key} must be true or false`);
    return value === 'true';
  };
  const list = (key: string): string[] =>
    (text(key) ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  const encryption = text('encryption') ?? 'customer';
  if (encryption !== 'aws-owned' && encryption !== 'customer') {
    throw new ConfigError('context encryption must be aws-owned or customer');
  }
  const config: DeploymentConfig = {
    domainName: text('domainName'),
    certificateArn: text('certificateArn'),
    hostedZoneId: text('hostedZoneId'),
    hostedZoneName: text('hostedZoneName'),
    waf: flag('waf'),
    webAclArn: text('webAclArn'),
    edgeCertificateArn: text('edgeCertificateArn'),
    loginRateLimit: integer('loginRateLimit', DEFAULTS.loginRateLimit) as number,
    tokenRateLimit: integer('tokenRateLimit', DEFAULTS.tokenRateLimit) as number,
    alarmEmail: text('alarmEmail'),
    alarmTopicArn: text('alarmTopicArn'),
    reservedConcurrency:
      text('reservedConcurrency') === 'none'
        ? undefined
        : integer('reservedConcurrency', DEFAULTS.reservedConcurrency),
    throttleRateLimit: integer('throttleRateLimit', DEFAULTS.throttleRateLimit) as number,
    throttleBurstLimit: integer('throttleBurstLimit', DEFAULTS.throttleBurstLimit) as number,
    secretAdminArns: list('secretAdminArns'),
    originVerifyVersion: text('originVerifyVersion'),
    memorySize: integer('memorySize', DEFAULTS.memorySize) as number,
    encryption,
    trustAnchors: text('trustAnchors'),
    signingTrustAnchors: text('signingTrustAnchors'),
    certificateLinks: text('certificateLinks'),
    certificateLinksAuthoritative: flag('certificateLinksAuthoritative', true),
    identityAcceptUnlinkedSigningCertificates: flag('identityAcceptUnlinkedSigningCertificates'),
    crlFiles: list('crlFiles'),
    revocationPolicy: text('revocationPolicy'),
    ocspUrl: text('ocspUrl'),
    notifyScheduleMinutes: integer('notifyScheduleMinutes', DEFAULTS.notifyScheduleMinutes) as number,
    tableName: text('tableName') ?? DEFAULTS.tableName,
    logRetentionDays: integer('logRetentionDays', DEFAULTS.logRetentionDays) as number,
    helperGuideUrl: text('helperGuideUrl'),
    privateRpHosts: list('privateRpHosts'),
    accountRetentionDays: positive('accountRetentionDays', DEFAULTS.accountRetentionDays),
    releaseHistoryRetentionDays: positive(
      'releaseHistoryRetentionDays',
      DEFAULTS.releaseHistoryRetentionDays,
    ),
    loginLimits: {
      answersPerInteraction: positive('limitAnswersPerInteraction', DEFAULTS.limitAnswersPerInteraction),
      challengesPerInteraction: positive(
        'limitChallengesPerInteraction',
        DEFAULTS.limitChallengesPerInteraction,
      ),
      interactionsPerAddressPerMinute: positive(
        'limitInteractionsPerAddressPerMinute',
        DEFAULTS.limitInteractionsPerAddressPerMinute,
      ),
    },
    account: text('account'),
    region: text('region'),
  };
  if ((config.hostedZoneId === undefined) !== (config.hostedZoneName === undefined)) {
    throw new ConfigError('context hostedZoneId and hostedZoneName go together');
  }
  if (!config.domainName && (config.certificateArn || config.hostedZoneId)) {
    throw new ConfigError('context certificateArn/hostedZoneId need domainName');
  }
  if (config.domainName && !config.webAclArn && !config.certificateArn && !config.hostedZoneId) {
    throw new ConfigError('context domainName needs certificateArn, or hostedZoneId + hostedZoneName');
  }
  if (config.webAclArn && !(config.domainName && config.edgeCertificateArn)) {
    throw new ConfigError('context webAclArn (CloudFront + WAF) needs domainName and edgeCertificateArn');
  }
  if (
    config.revocationPolicy !== undefined &&
    !['crl', 'ocsp', 'ocsp-then-crl', 'none'].includes(config.revocationPolicy)
  ) {
    throw new ConfigError('context revocationPolicy must be crl, ocsp, ocsp-then-crl or none');
  }
  if (
    config.signingTrustAnchors &&
    !(config.certificateLinks && config.certificateLinksAuthoritative) &&
    !config.identityAcceptUnlinkedSigningCertificates
  ) {
    throw new ConfigError(
      'context signingTrustAnchors (identity verification) needs certificateLinks (authoritative), ' +
        'or identityAcceptUnlinkedSigningCertificates=true: see docs/identity.md',
    );
  }
  if (config.notifyScheduleMinutes < 1)
    throw new ConfigError('context notifyScheduleMinutes must be at least 1');
  if (config.throttleRateLimit < 1 || config.throttleBurstLimit < 1) {
    throw new ConfigError('context throttleRateLimit and throttleBurstLimit must be at least 1');
  }
  if (config.reservedConcurrency === 0) {
    throw new ConfigError(
      'context reservedConcurrency 0 would stop the OP; use none for the unreserved pool',
    );
  }
  for (const arn of config.secretAdminArns) {
    if (!/^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:\S+$/.test(arn)) {
      throw new ConfigError(`context secretAdminArns: ${arn} is not an IAM principal ARN`);
    }
  }
  if (config.originVerifyVersion !== undefined && !config.webAclArn) {
    throw new ConfigError('context originVerifyVersion needs webAclArn (CloudFront + WAF)');
  }
  try {
    // The rule the OP and the job apply to OP_PRIVATE_RP_HOSTS, checked before a deploy.
    new PrivateRpHosts(config.privateRpHosts);
  } catch (error) {
    throw new ConfigError(`context privateRpHosts: ${(error as Error).message}`);
  }
  if (config.alarmEmail && config.alarmTopicArn) {
    throw new ConfigError('give alarmEmail or alarmTopicArn, not both');
  }
  return config;
}

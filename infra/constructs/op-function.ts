/**
 * The OP Lambda: functions/op/lambda.ts (compiled to dist/, bundled with the benchmark's esbuild
 * options), arm64, JSON logs into a log group with retention, the trust-anchor PEM bundle (and any
 * CRL files) copied next to the bundle (OP_ISSUER is added by the stack once the API exists), and
 * a role that may do exactly what the OP does: the table's item operations — writes only in the
 * partitions the OP owns (OP_WRITE_PARTITIONS: never client registrations, revocation entries,
 * CRL state or the notification job's records) — Query on the grant index, GetSecretValue on its
 * three secrets (and on the origin-verify secret with the WAF option).
 */
import { Duration } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { Role } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { OP_LAMBDA_ENTRY, OP_LAMBDA_HANDLER } from '../../functions/op/bundle-options.js';
import { LOGIN_LIMIT_ENV } from '../../functions/op/lambda-env.js';
import type { LoginLimitSettings } from '../../functions/op/limit-settings.js';
import { ORIGIN_VERIFY_SECRET_ENV } from '../../functions/op/origin-verify.js';
import { splitBundledFunctionProps } from './lambda-defaults.js';
import { tableFunctionAccess } from './table-function-access.js';

/** File name of the trust-anchor bundle inside the deployment package (OP_TRUST_ANCHORS_FILE). */
export const TRUST_ANCHORS_FILE = 'trust-anchors.pem';
/** File name of the signing CA bundle (OP_SIGNING_TRUST_ANCHORS_FILE), when identity verification is on. */
export const SIGNING_TRUST_ANCHORS_FILE = 'signing-trust-anchors.pem';
/** File name of the certificate link file (OP_CERTIFICATE_LINKS_FILE), when one is configured. */
export const CERTIFICATE_LINKS_FILE = 'certificate-links.json';

/** The item operations the storage code issues (functions/storage, functions/accounts). */
export const TABLE_ACTIONS = [
  'dynamodb:GetItem',
  // The request scope's prefetch (functions/storage/request-scope.ts).
  'dynamodb:BatchGetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:Query',
  'dynamodb:BatchWriteItem',
] as const;

/**
 * The partitions the OP writes (functions/storage/table.ts: `pk` = `<Kind>#<id>`): oidc-provider's
 * models of the features it enables (not `Client`, registered by the operator CLI; no dynamic
 * registration, device flow, CIBA or client credentials: enabling one needs its model here), the
 * account-index pointers (grants, sessions), accounts and their certificate pointers, a transaction's
 * sealed claims (raw serial, identity release: op/sealed-claims.ts) and retained identity evidence
 * (storage/identity-evidence.ts; login challenges live in their interaction's item). A new kind the OP writes must be added here (the
 * test `test/infra/table-partitions.test.ts` runs the OP and fails on any item outside this list).
 */
export const OP_WRITE_PARTITIONS = [
  'Session#*',
  'Interaction#*',
  'AuthorizationCode#*',
  'AccessToken#*',
  'RefreshToken#*',
  'Grant#*',
  'PushedAuthorizationRequest#*',
  'ReplayDetection#*',
  'AccountRef#*',
  'ACCOUNT#*',
  'CERT#*',
  'MynaSealedClaims#*',
  'MynaIdentityEvidence#*',
  // The per-address limit's counters (storage/rate-counter.ts).
  'RateLimit#*',
  // The back-channel logout queue (storage/logout-queue.ts): RP-initiated logout queues deliveries.
  'BackchannelLogout',
  // The release history (storage/release-history.ts): one entry per code issuance.
  'ReleaseHistory#*',
  // The "My account" page's sessions (op/account/account-session.ts).
  'MynaAccountSession#*',
] as const;

/**
 * The partitions the OP deletes in: its own, and the revocation audit records of one account,
 * which the "My account" page's erasure removes with the account (storage/revocation-audit.ts:
 * the OP may delete an audit record, never write one).
 */
export const OP_DELETE_PARTITIONS = [...OP_WRITE_PARTITIONS, 'RevocationAudit'] as const;

export interface OpFunctionProps {
  readonly projectRoot: string;
  readonly table: Table;
  readonly grantIndexArn: string;
  readonly secrets: {
    readonly signing: ISecret;
    readonly certificateKey: ISecret;
    readonly pairwise: ISecret;
  };
  /** The origin-verify secret CloudFront sends (WAF option): the OP refuses requests without it. */
  readonly originVerifySecret?: ISecret;
  readonly encryptionKey?: IKey;
  readonly memorySize: number;
  readonly reservedConcurrency?: number;
  readonly logRetention: RetentionDays;
  /** Absolute path of the PEM bundle of JPKI user-auth CA certificates; unset ships none. */
  readonly trustAnchorsPath?: string;
  /** Absolute path of the PEM bundle of JPKI signing CA certificates; unset: identity verification off. */
  readonly signingTrustAnchorsPath?: string;
  /** The certificate link file (absolute path) and whether it lists every signing certificate. */
  readonly certificateLinks?: { readonly path: string; readonly authoritative: boolean };
  /** OP_IDENTITY_ACCEPT_UNLINKED_SIGNING_CERTIFICATES (identity verification without links). */
  readonly acceptUnlinkedSigningCertificates?: boolean;
  /** Absolute paths of CRL files to ship and load at cold start. */
  readonly crlPaths: readonly string[];
  readonly helperGuideUrl?: string;
  /** OP_REVOCATION_POLICY and OP_OCSP_URL (unset: the Lambda's defaults). */
  readonly revocationPolicy?: string;
  readonly ocspUrl?: string;
  /** OP_PRIVATE_RP_HOSTS (empty: none). */
  readonly privateRpHosts: readonly string[];
  /** OP_ACCOUNT_RETENTION_DAYS. */
  readonly accountRetentionDays: number;
  /** OP_RELEASE_HISTORY_RETENTION_DAYS. */
  readonly releaseHistoryRetentionDays: number;
  /** OP_LIMIT_* (lambda-env.ts LOGIN_LIMIT_ENV). */
  readonly loginLimits: LoginLimitSettings;
}

export class OpFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: OpFunctionProps) {
    super(scope, id);
    ({ logGroup: this.logGroup, role: this.role } = tableFunctionAccess(this, {
      description: 'myna-oidc OP: its table partitions and index, read of its secrets, its own logs',
      tableActions: TABLE_ACTIONS,
      writePartitions: OP_WRITE_PARTITIONS,
      deletePartitions: OP_DELETE_PARTITIONS,
      table: props.table,
      grantIndexArn: props.grantIndexArn,
      secrets: [
        props.secrets.signing,
        props.secrets.certificateKey,
        props.secrets.pairwise,
        ...(props.originVerifySecret ? [props.originVerifySecret] : []),
      ],
      ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
      logRetention: props.logRetention,
    }));

    const shipped = [
      ...(props.trustAnchorsPath ? [[props.trustAnchorsPath, TRUST_ANCHORS_FILE] as const] : []),
      ...(props.signingTrustAnchorsPath
        ? [[props.signingTrustAnchorsPath, SIGNING_TRUST_ANCHORS_FILE] as const]
        : []),
      ...(props.certificateLinks ? [[props.certificateLinks.path, CERTIFICATE_LINKS_FILE] as const] : []),
      ...props.crlPaths.map((path, index) => [path, `crl-${index + 1}.crl`] as const),
    ];
    const environment: Record<string, string> = {
      OP_TABLE_NAME: props.table.tableName,
      OP_SECRET_ID: props.secrets.signing.secretArn,
      OP_CERTIFICATE_KEY_SECRET_ID: props.secrets.certificateKey.secretArn,
      OP_PAIRWISE_SECRET_ID: props.secrets.pairwise.secretArn,
      OP_TRUST_ANCHORS_FILE: TRUST_ANCHORS_FILE,
      OP_ACCOUNT_RETENTION_DAYS: String(props.accountRetentionDays),
      OP_RELEASE_HISTORY_RETENTION_DAYS: String(props.releaseHistoryRetentionDays),
      ...Object.fromEntries(
        Object.entries(LOGIN_LIMIT_ENV).map(([setting, name]) => [
          name,
          String(props.loginLimits[setting as keyof LoginLimitSettings]),
        ]),
      ),
      NODE_OPTIONS: '--enable-source-maps',
    };
    if (props.privateRpHosts.length > 0) environment.OP_PRIVATE_RP_HOSTS = props.privateRpHosts.join(',');
    if (props.crlPaths.length > 0) {
      environment.OP_CRL_FILES = props.crlPaths.map((_, index) => `crl-${index + 1}.crl`).join(',');
    }
    if (props.originVerifySecret) environment[ORIGIN_VERIFY_SECRET_ENV] = props.originVerifySecret.secretArn;
    if (props.helperGuideUrl) environment.OP_HELPER_GUIDE_URL = props.helperGuideUrl;
    if (props.revocationPolicy) environment.OP_REVOCATION_POLICY = props.revocationPolicy;
    if (props.ocspUrl) environment.OP_OCSP_URL = props.ocspUrl;
    if (props.signingTrustAnchorsPath) environment.OP_SIGNING_TRUST_ANCHORS_FILE = SIGNING_TRUST_ANCHORS_FILE;
    if (props.certificateLinks) {
      environment.OP_CERTIFICATE_LINKS_FILE = CERTIFICATE_LINKS_FILE;
      environment.OP_CERTIFICATE_LINKS_AUTHORITATIVE = String(props.certificateLinks.authoritative);
    }
    if (props.acceptUnlinkedSigningCertificates) {
      environment.OP_IDENTITY_ACCEPT_UNLINKED_SIGNING_CERTIFICATES = 'true';
    }

    this.function = new NodejsFunction(this, 'Function', {
      ...splitBundledFunctionProps({
        projectRoot: props.projectRoot,
        entry: OP_LAMBDA_ENTRY,
        handler: OP_LAMBDA_HANDLER,
        role: this.role,
        logGroup: this.logGroup,
        shipped,
      }),
      description: 'myna-oidc OpenID Provider (Sign in with MyNumber card)',
      memorySize: props.memorySize,
      timeout: Duration.seconds(15),
      environment,
      ...(props.reservedConcurrency !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrency }
        : {}),
    });
  }
}

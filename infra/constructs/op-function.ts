/**
 * The OP Lambda: functions/op/lambda.ts (compiled to dist/, bundled with the benchmark's esbuild
 * options), arm64, JSON logs into a log group with retention, the trust-anchor PEM bundle (and any
 * CRL files) copied next to the bundle (OP_ISSUER is added by the stack once the API exists), and a role that may do exactly what the OP does: the
 * table's item operations, Query on the grant index, GetSecretValue on its secret.
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
import { bundledFunctionProps } from './lambda-defaults.js';
import { tableFunctionAccess } from './table-function-access.js';

/** File name of the trust-anchor bundle inside the deployment package (OP_TRUST_ANCHORS_FILE). */
export const TRUST_ANCHORS_FILE = 'trust-anchors.pem';

/** The item operations the storage code issues (functions/storage, functions/accounts). */
export const TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:Query',
  'dynamodb:BatchWriteItem',
] as const;

export interface OpFunctionProps {
  readonly projectRoot: string;
  readonly table: Table;
  readonly grantIndexArn: string;
  readonly secret: ISecret;
  readonly encryptionKey?: IKey;
  readonly memorySize: number;
  readonly reservedConcurrency?: number;
  readonly logRetention: RetentionDays;
  /** Absolute path of the PEM bundle of JPKI user-auth CA certificates; unset ships none. */
  readonly trustAnchorsPath?: string;
  /** Absolute paths of CRL files to ship and load at cold start. */
  readonly crlPaths: readonly string[];
  readonly helperGuideUrl?: string;
  /** OP_REVOCATION_POLICY and OP_OCSP_URL (unset: the Lambda's defaults). */
  readonly revocationPolicy?: string;
  readonly ocspUrl?: string;
}

/** Single-quotes `value` for bash. */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

export class OpFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: OpFunctionProps) {
    super(scope, id);
    ({ logGroup: this.logGroup, role: this.role } = tableFunctionAccess(this, {
      description: 'myna-oidc OP: its table and index, read of its secret, its own logs',
      tableActions: TABLE_ACTIONS,
      table: props.table,
      grantIndexArn: props.grantIndexArn,
      secret: props.secret,
      ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
      logRetention: props.logRetention,
    }));

    const shipped = [
      ...(props.trustAnchorsPath ? [[props.trustAnchorsPath, TRUST_ANCHORS_FILE] as const] : []),
      ...props.crlPaths.map((path, index) => [path, `crl-${index + 1}.crl`] as const),
    ];
    const environment: Record<string, string> = {
      OP_TABLE_NAME: props.table.tableName,
      OP_SECRET_ID: props.secret.secretArn,
      OP_TRUST_ANCHORS_FILE: TRUST_ANCHORS_FILE,
      NODE_OPTIONS: '--enable-source-maps',
    };
    if (props.crlPaths.length > 0) {
      environment.OP_CRL_FILES = props.crlPaths.map((_, index) => `crl-${index + 1}.crl`).join(',');
    }
    if (props.helperGuideUrl) environment.OP_HELPER_GUIDE_URL = props.helperGuideUrl;
    if (props.revocationPolicy) environment.OP_REVOCATION_POLICY = props.revocationPolicy;
    if (props.ocspUrl) environment.OP_OCSP_URL = props.ocspUrl;

    this.function = new NodejsFunction(this, 'Function', {
      ...bundledFunctionProps({
        projectRoot: props.projectRoot,
        entry: OP_LAMBDA_ENTRY,
        role: this.role,
        logGroup: this.logGroup,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir, outputDir) =>
            shipped.map(([from, to]) => `cp ${shellQuote(from)} ${shellQuote(`${outputDir}/${to}`)}`),
        },
      }),
      description: 'myna-oidc OpenID Provider (Sign in with MyNumber card)',
      handler: OP_LAMBDA_HANDLER,
      memorySize: props.memorySize,
      timeout: Duration.seconds(15),
      environment,
      ...(props.reservedConcurrency !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrency }
        : {}),
    });
  }
}

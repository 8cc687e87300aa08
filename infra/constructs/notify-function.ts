/**
 * The revocation notification job (functions/revocation/notify-handler.ts): a Lambda bundled with
 * the OP's esbuild options, run by an EventBridge schedule (every `scheduleMinutes`), one run at a
 * time (reserved concurrency 1, so two runs never race on the same work items), with a role that
 * may do exactly what the job does: item reads on the table, puts and updates in its own
 * partitions and deletes in the ones it revokes (NOTIFY_WRITE_PARTITIONS, NOTIFY_DELETE_PARTITIONS),
 * BatchGetItem (certificate pointers), Query on the grant index (revoking a grant's tokens), GetSecretValue on the pairwise
 * secret (the `sub` of each logout token) and the certificate-key secret (its account store), and
 * invoking the logout-token signer (logout-signer-function.ts). It cannot read the signing secret:
 * logout tokens must be signed with the OP's keys (Back-Channel Logout 1.0), and the job, which
 * talks to every RP's network, gets them signed by the signer, which signs nothing else.
 */
import { Duration } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { Role } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { NOTIFY_LAMBDA_ENTRY } from '../../functions/op/bundle-options.js';
import { GRANT_BOUND_MODELS } from '../../functions/storage/account-artifacts.js';
import { bundledFunctionProps } from './lambda-defaults.js';
import type { LogoutSignerFunction } from './logout-signer-function.js';
import { tableFunctionAccess } from './table-function-access.js';

/**
 * The item operations of the job (notify-job.ts, crl-store.ts, the oidc adapter). No
 * BatchWriteItem: IAM cannot limit it to deletes, and a put in a token partition would let the OP
 * mint ID tokens from it (a refresh token or code of anyone's grant); the job deletes item by item.
 */
export const NOTIFY_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:Query',
  'dynamodb:BatchGetItem',
] as const;

/**
 * The partitions the job puts and updates (`dynamodb:LeadingKeys`): its audit records
 * (storage/revocation-audit.ts), the delivery queue (storage/logout-queue.ts) and the accounts it
 * marks revoked (accounts/dynamo-account-store.ts) — never sessions, grants, tokens, clients or
 * certificate pointers, so it cannot make the OP sign anything.
 */
export const NOTIFY_WRITE_PARTITIONS = ['RevocationAudit', 'BackchannelLogout', 'ACCOUNT#*'] as const;

/**
 * The partitions the job deletes in: what it revokes (storage/account-artifacts.ts: grants, their
 * tokens and codes, sessions with their uid pointers) and the CRL feed chunks it consumed
 * (revocation/crl-store.ts). A new kind it deletes must be added here (the test
 * `test/infra/table-partitions.test.ts` runs the job and fails on any write outside these lists).
 */
export const NOTIFY_DELETE_PARTITIONS = [
  ...GRANT_BOUND_MODELS.map((model) => `${model}#*`),
  'Grant#*',
  'Session#*',
  'CRLFEED',
] as const;

export interface NotifyFunctionProps {
  readonly projectRoot: string;
  readonly table: Table;
  readonly grantIndexArn: string;
  /** The identity secrets it reads (never the signing secret). */
  readonly secrets: {
    readonly certificateKey: ISecret;
    readonly pairwise: ISecret;
  };
  /** Signs its logout tokens. */
  readonly logoutSigner: LogoutSignerFunction;
  /** OP_PRIVATE_RP_HOSTS: RP hosts that may be on private networks. */
  readonly privateRpHosts: readonly string[];
  readonly encryptionKey?: IKey;
  readonly logRetention: RetentionDays;
  readonly issuer: string;
  readonly scheduleMinutes: number;
}

export class NotifyFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;
  readonly role: Role;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: NotifyFunctionProps) {
    super(scope, id);
    ({ logGroup: this.logGroup, role: this.role } = tableFunctionAccess(this, {
      description:
        'myna-oidc revocation notification job: its table and index, read of its identity secrets, the logout-token signer, its logs',
      tableActions: NOTIFY_TABLE_ACTIONS,
      writePartitions: NOTIFY_WRITE_PARTITIONS,
      deletePartitions: NOTIFY_DELETE_PARTITIONS,
      table: props.table,
      grantIndexArn: props.grantIndexArn,
      secrets: [props.secrets.certificateKey, props.secrets.pairwise],
      ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
      logRetention: props.logRetention,
    }));

    this.function = new NodejsFunction(this, 'Function', {
      ...bundledFunctionProps({
        projectRoot: props.projectRoot,
        entry: NOTIFY_LAMBDA_ENTRY,
        role: this.role,
        logGroup: this.logGroup,
      }),
      description: 'myna-oidc revocation notification job (back-channel logout of revoked cards)',
      handler: 'handler',
      memorySize: 512,
      timeout: Duration.minutes(10),
      reservedConcurrentExecutions: 1,
      environment: {
        OP_ISSUER: props.issuer,
        OP_TABLE_NAME: props.table.tableName,
        OP_CERTIFICATE_KEY_SECRET_ID: props.secrets.certificateKey.secretArn,
        OP_PAIRWISE_SECRET_ID: props.secrets.pairwise.secretArn,
        OP_LOGOUT_TOKEN_SIGNER_FUNCTION: props.logoutSigner.function.functionName,
        ...(props.privateRpHosts.length > 0 ? { OP_PRIVATE_RP_HOSTS: props.privateRpHosts.join(',') } : {}),
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    props.logoutSigner.grantInvoke(this.role);

    this.rule = new Rule(this, 'Schedule', {
      description: 'myna-oidc: run the revocation notification job',
      schedule: Schedule.rate(Duration.minutes(props.scheduleMinutes)),
    });
    this.rule.addTarget(new LambdaFunction(this.function, { retryAttempts: 0 }));
  }
}

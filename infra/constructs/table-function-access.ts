/**
 * Least-privilege access to the OP's table: exactly the given item actions on the table — its
 * writes limited with `dynamodb:LeadingKeys` to the partitions the role owns when
 * `writePartitions` is given (its deletes to `deletePartitions` when given), its reads to
 * `readPartitions` when given — Query on the grant index when given, GetSecretValue on its secrets
 * and the KMS key when there is one. tableFunctionAccess() adds a Lambda's role and its own log
 * group around it; the CRL import role (crl-import-role.ts) uses grantTableAccess() alone.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, type IRole, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { addLogWritePolicy } from './lambda-defaults.js';

/** What a role may do on the table and which secrets it reads. */
export interface TableAccessProps {
  readonly tableActions: readonly string[];
  readonly table: Table;
  /** The grant index (Query), for roles that revoke by grant id. */
  readonly grantIndexArn?: string;
  /** The partition-key patterns (IAM StringLike: `Session#*`) its writes are limited to. */
  readonly writePartitions?: readonly string[];
  /**
   * The partition-key patterns its DeleteItem is limited to, when they differ from its other
   * writes' (`writePartitions` then limits PutItem, UpdateItem and BatchWriteItem only).
   */
  readonly deletePartitions?: readonly string[];
  /** The partition-key patterns its reads are limited to (default: the whole table). */
  readonly readPartitions?: readonly string[];
  readonly secrets: readonly ISecret[];
  readonly encryptionKey?: IKey;
}

export interface TableFunctionAccessProps extends TableAccessProps {
  /** What the role is for, shown in IAM. */
  readonly description: string;
  readonly logRetention: RetentionDays;
}

const DELETE_ACTION: string = 'dynamodb:DeleteItem';
/** The item actions that write (what `writePartitions` limits). */
const WRITE_ACTIONS: ReadonlySet<string> = new Set([
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
]);

/** Adds the statements of `props` to `role`. */
export function grantTableAccess(role: IRole, props: TableAccessProps): void {
  const allow = (actions: readonly string[], resources: string[], conditions?: Record<string, unknown>) =>
    role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: [...actions],
        resources,
        ...(conditions ? { conditions } : {}),
      }),
    );
  const writes = props.tableActions.filter((action) => WRITE_ACTIONS.has(action));
  const reads = props.tableActions.filter((action) => !WRITE_ACTIONS.has(action));
  const within = (partitions: readonly string[] | undefined) =>
    partitions ? { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...partitions] } } : undefined;
  if (props.writePartitions || props.readPartitions || props.deletePartitions) {
    const deletes = props.deletePartitions ? writes.filter((action) => action === DELETE_ACTION) : [];
    const others = writes.filter((action) => !deletes.includes(action));
    if (reads.length > 0) allow(reads, [props.table.tableArn], within(props.readPartitions));
    if (others.length > 0) allow(others, [props.table.tableArn], within(props.writePartitions));
    if (deletes.length > 0) allow(deletes, [props.table.tableArn], within(props.deletePartitions));
  } else allow(props.tableActions, [props.table.tableArn]);
  if (props.grantIndexArn) allow(['dynamodb:Query'], [props.grantIndexArn]);
  allow(
    ['secretsmanager:GetSecretValue'],
    props.secrets.map((secret) => secret.secretArn),
  );
  props.encryptionKey?.grant(role, 'kms:Decrypt', 'kms:GenerateDataKey');
}

/** Creates `Logs` (retained) and `Role` (a Lambda's, with grantTableAccess) under `scope`. */
export function tableFunctionAccess(
  scope: Construct,
  props: TableFunctionAccessProps,
): { logGroup: LogGroup; role: Role } {
  const logGroup = new LogGroup(scope, 'Logs', {
    retention: props.logRetention,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const role = new Role(scope, 'Role', {
    assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    description: props.description,
  });
  grantTableAccess(role, props);
  addLogWritePolicy(role, logGroup);
  return { logGroup, role };
}

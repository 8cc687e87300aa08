/**
 * The log group and least-privilege role of a Lambda that works on the OP's table: exactly the
 * given item actions on the table, Query on the grant index, GetSecretValue on the secret, the
 * table's KMS key when there is one, and writes to its own log group.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { addLogWritePolicy } from './lambda-defaults.js';

export interface TableFunctionAccessProps {
  /** What the role is for, shown in IAM. */
  readonly description: string;
  readonly tableActions: readonly string[];
  readonly table: Table;
  readonly grantIndexArn: string;
  readonly secret: ISecret;
  readonly encryptionKey?: IKey;
  readonly logRetention: RetentionDays;
}

/** Creates `Logs` (retained) and `Role` under `scope`. */
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
  const allow = (actions: readonly string[], resource: string) =>
    role.addToPolicy(
      new PolicyStatement({ effect: Effect.ALLOW, actions: [...actions], resources: [resource] }),
    );
  allow(props.tableActions, props.table.tableArn);
  allow(['dynamodb:Query'], props.grantIndexArn);
  allow(['secretsmanager:GetSecretValue'], props.secret.secretArn);
  props.encryptionKey?.grant(role, 'kms:Decrypt', 'kms:GenerateDataKey');
  addLogWritePolicy(role, logGroup);
  return { logGroup, role };
}

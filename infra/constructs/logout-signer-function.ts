/**
 * The logout-token signer (functions/revocation/logout-signer-handler.ts): the one Lambda besides
 * the OP that reads the signing secret, so that the revocation notification job — which talks to
 * every RP's network — does not. It signs Back-Channel Logout tokens only (notification/logout-
 * token-signer.ts) and may do nothing else: GetSecretValue on the signing secret, GetItem in the
 * table's `Client` partition (is the token's `aud` a registered back-channel client?), its own
 * logs. Only the roles given to grantInvoke may invoke it (the notification job's). Bundled with
 * the OP's esbuild options, with a small reserved concurrency: the job runs one at a time.
 */
import { Duration } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, type IRole, PolicyStatement, type Role } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CLIENT_MODEL } from '../../functions/storage/oidc-adapter.js';
import { bundledFunctionProps } from './lambda-defaults.js';
import { tableFunctionAccess } from './table-function-access.js';

/** The signer's handler module, relative to the repository root (after `npm run build`). */
export const LOGOUT_SIGNER_LAMBDA_ENTRY = 'dist/functions/revocation/logout-signer-handler.js';

/** Concurrent signer instances: the job (one at a time) and a cold start's overlap. */
export const LOGOUT_SIGNER_CONCURRENCY = 2;

export interface LogoutSignerFunctionProps {
  readonly projectRoot: string;
  readonly table: Table;
  /** The signing secret (token-signing JWKS). */
  readonly signingSecret: ISecret;
  readonly encryptionKey?: IKey;
  readonly logRetention: RetentionDays;
  /** The OP's issuer: the only `iss` it signs. */
  readonly issuer: string;
}

export class LogoutSignerFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: LogoutSignerFunctionProps) {
    super(scope, id);
    ({ logGroup: this.logGroup, role: this.role } = tableFunctionAccess(this, {
      description:
        'myna-oidc logout-token signer: signs back-channel logout tokens only; reads the signing secret and client registrations',
      tableActions: ['dynamodb:GetItem'],
      readPartitions: [CLIENT_MODEL],
      table: props.table,
      secrets: [props.signingSecret],
      ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
      logRetention: props.logRetention,
    }));

    this.function = new NodejsFunction(this, 'Function', {
      ...bundledFunctionProps({
        projectRoot: props.projectRoot,
        entry: LOGOUT_SIGNER_LAMBDA_ENTRY,
        role: this.role,
        logGroup: this.logGroup,
      }),
      description: 'myna-oidc logout-token signer (back-channel logout tokens for the notification job)',
      handler: 'handler',
      memorySize: 512,
      timeout: Duration.seconds(10),
      reservedConcurrentExecutions: LOGOUT_SIGNER_CONCURRENCY,
      environment: {
        OP_ISSUER: props.issuer,
        OP_TABLE_NAME: props.table.tableName,
        OP_SECRET_ID: props.signingSecret.secretArn,
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
  }

  /**
   * Lets `role` invoke the signer: lambda:InvokeFunction on the unqualified function only (no
   * version or alias ARNs, so no wildcard).
   */
  grantInvoke(role: IRole): void {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['lambda:InvokeFunction'],
        resources: [this.function.functionArn],
      }),
    );
  }
}

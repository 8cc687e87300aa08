/**
 * The myna-oidc stack: HTTP API (custom domain = issuer) → OP Lambda → DynamoDB table, the OP's
 * Secrets Manager secret filled at deploy time, alarms, the scheduled revocation notification job
 * (EventBridge rule → Lambda); optionally CloudFront + WAF in front.
 */
import { resolve } from 'node:path';
import { Annotations, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { DeploymentConfig } from './config.js';
import { NotifyFunction } from './constructs/notify-function.js';
import { OpAlarms } from './constructs/op-alarms.js';
import { OpApi } from './constructs/op-api.js';
import { OpEdge } from './constructs/op-edge.js';
import { OpFunction } from './constructs/op-function.js';
import { OpSecret } from './constructs/op-secret.js';
import { OpTable } from './constructs/op-table.js';

export interface MynaOidcStackProps extends StackProps {
  readonly config: DeploymentConfig;
  /** The repository root (entry points in dist/, package-lock.json). */
  readonly projectRoot: string;
}

export class MynaOidcStack extends Stack {
  readonly table: OpTable;
  readonly secret: OpSecret;
  readonly op: OpFunction;
  readonly api: OpApi;
  readonly alarms: OpAlarms;
  readonly notify: NotifyFunction;
  readonly edge?: OpEdge;
  readonly issuer: string;

  constructor(scope: Construct, id: string, props: MynaOidcStackProps) {
    super(scope, id, props);
    const { config, projectRoot } = props;
    const logRetention = config.logRetentionDays as RetentionDays;
    const encryptionKey =
      config.encryption === 'customer'
        ? new Key(this, 'DataKey', {
            description: 'myna-oidc: OP table and secret',
            enableKeyRotation: true,
            alias: 'alias/myna-oidc',
          })
        : undefined;
    const hostedZone =
      config.hostedZoneId && config.hostedZoneName
        ? { id: config.hostedZoneId, name: config.hostedZoneName }
        : undefined;
    const behindEdge = config.webAclArn !== undefined;

    this.table = new OpTable(this, 'Storage', { tableName: config.tableName, encryptionKey });
    this.secret = new OpSecret(this, 'Secrets', { projectRoot, encryptionKey, logRetention });

    // The issuer must be known before the API exists (the Lambda's environment): it is the custom
    // domain when there is one, else the API's own endpoint (resolved by CloudFormation).
    const issuerFromDomain = config.domainName ? `https://${config.domainName}` : undefined;
    if (!config.trustAnchors) {
      Annotations.of(this).addWarningV2(
        'myna-oidc:noTrustAnchors',
        'No trust anchors (-c trustAnchors=path/to/jpki-user-auth-cas.pem): the deployed OP cannot start. See docs/deploy.md.',
      );
    }
    const op = new OpFunction(this, 'Op', {
      projectRoot,
      table: this.table.table,
      grantIndexArn: this.table.grantIndexArn,
      secret: this.secret.secret,
      encryptionKey,
      memorySize: config.memorySize,
      reservedConcurrency: config.reservedConcurrency,
      logRetention,
      trustAnchorsPath: config.trustAnchors ? resolve(config.trustAnchors) : undefined,
      crlPaths: config.crlFiles.map((path) => resolve(path)),
      helperGuideUrl: config.helperGuideUrl,
      revocationPolicy: config.revocationPolicy,
      ocspUrl: config.ocspUrl,
    });
    op.function.node.addDependency(this.secret.provisioned);
    this.op = op;

    this.api = new OpApi(this, 'Http', {
      handler: op.function,
      logRetention,
      domain:
        config.domainName && !behindEdge
          ? { domainName: config.domainName, certificateArn: config.certificateArn, hostedZone }
          : undefined,
      keepExecuteApiEndpoint: behindEdge,
    });
    this.issuer = issuerFromDomain ?? this.api.executeApiUrl;
    op.function.addEnvironment('OP_ISSUER', this.issuer);

    if (behindEdge && config.domainName && config.edgeCertificateArn && config.webAclArn) {
      this.edge = new OpEdge(this, 'Edge', {
        api: this.api.api,
        domainName: config.domainName,
        edgeCertificateArn: config.edgeCertificateArn,
        webAclArn: config.webAclArn,
        hostedZone,
      });
      new CfnOutput(this, 'DistributionDomainName', {
        value: this.edge.distribution.distributionDomainName,
        description: 'CNAME target for the issuer domain (external DNS)',
      });
    }

    this.alarms = new OpAlarms(this, 'Alarms', {
      handler: op.function,
      logGroup: op.logGroup,
      api: this.api.api,
      table: this.table.table,
      alarmEmail: config.alarmEmail,
      alarmTopicArn: config.alarmTopicArn,
    });

    this.notify = new NotifyFunction(this, 'RevocationNotify', {
      projectRoot,
      table: this.table.table,
      grantIndexArn: this.table.grantIndexArn,
      secret: this.secret.secret,
      encryptionKey,
      logRetention,
      issuer: this.issuer,
      scheduleMinutes: config.notifyScheduleMinutes,
    });
    this.notify.function.node.addDependency(this.secret.provisioned);
    this.alarms.watchNotifyJob(this.notify.function, this.notify.logGroup);

    new CfnOutput(this, 'Issuer', {
      value: this.issuer,
      description: 'OP_ISSUER: give it to relying parties',
    });
    new CfnOutput(this, 'TableName', {
      value: this.table.table.tableName,
      description: 'myna-oidc clients … --table <this>',
    });
    new CfnOutput(this, 'SecretId', {
      value: this.secret.secret.secretArn,
      description: 'myna-oidc keys rotate --secret-id <this>',
    });
    new CfnOutput(this, 'FunctionName', {
      value: op.function.functionName,
      description: 'the OP Lambda (force new environments after a key rotation)',
    });
    if (this.api.domainName) {
      new CfnOutput(this, 'ApiDomainTarget', {
        value: this.api.domainName.regionalDomainName,
        description: 'CNAME target for the issuer domain (external DNS)',
      });
    }
  }
}

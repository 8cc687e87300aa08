/**
 * The OP's Secrets Manager secret (the OpSecrets JSON: signing JWKS, cookie keys, subject secret)
 * and the custom resource that fills it at deploy time (functions/secrets/provision-handler.ts).
 *
 * The secret is declared WITHOUT a value (no SecretString, no GenerateSecretString), so the
 * template never holds one; the provisioner generates the value inside AWS and writes it with
 * PutSecretValue only while the secret is empty. Retained on stack deletion: losing the subject
 * secret changes every user's `sub` at every RP.
 */
import { CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { type ILogGroup, LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type CfnSecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { addLogWritePolicy, bundledFunctionProps } from './lambda-defaults.js';
import { acknowledge } from './nag.js';

export interface OpSecretProps {
  readonly projectRoot: string;
  readonly encryptionKey?: IKey;
  readonly logRetention: RetentionDays;
}

export class OpSecret extends Construct {
  readonly secret: Secret;
  readonly provisioner: NodejsFunction;
  readonly provisionerLogs: ILogGroup;
  /** The custom resource; depend on it to use the secret only once it has a value. */
  readonly provisioned: CustomResource;

  constructor(scope: Construct, id: string, props: OpSecretProps) {
    super(scope, id);
    this.secret = new Secret(this, 'Secret', {
      description:
        'myna-oidc OP secrets (signing JWKS, cookie keys, subject secret); generated at deploy time',
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // No value in the template: the provisioner writes the first version.
    (this.secret.node.defaultChild as CfnSecret).addPropertyDeletionOverride('GenerateSecretString');
    acknowledge(this.secret, [
      {
        id: 'AwsSolutions-SMG4',
        reason:
          'Secrets Manager rotation would replace the whole value; the subject secret must never change (it keys every account and pairwise sub) and signing keys rotate in two published steps with `myna-oidc keys rotate` (docs/deploy.md).',
      },
    ]);

    this.provisionerLogs = new LogGroup(this, 'ProvisionerLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new Role(this, 'ProvisionerRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'myna-oidc secret provisioner: read and first-write of the OP secret, its own logs',
    });
    role.addToPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
        resources: [this.secret.secretArn],
      }),
    );
    props.encryptionKey?.grant(role, 'kms:Decrypt', 'kms:GenerateDataKey');
    addLogWritePolicy(role, this.provisionerLogs);

    this.provisioner = new NodejsFunction(this, 'Provisioner', {
      ...bundledFunctionProps({
        projectRoot: props.projectRoot,
        entry: 'dist/functions/secrets/provision-handler.js',
        role,
        logGroup: this.provisionerLogs,
      }),
      description: 'myna-oidc: fills the OP secret once at deploy time',
      handler: 'handler',
      memorySize: 512,
      timeout: Duration.minutes(2),
    });

    this.provisioned = new CustomResource(this, 'Provision', {
      serviceToken: this.provisioner.functionArn,
      resourceType: 'Custom::MynaOidcSecrets',
      properties: { SecretId: this.secret.secretArn },
    });
    this.provisioned.node.addDependency(role);
  }
}

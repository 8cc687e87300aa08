/**
 * The OP's Secrets Manager secrets, one per purpose (functions/secrets/op-secrets.ts), and the
 * custom resource that fills them at deploy time (functions/secrets/provision-handler.ts):
 * - `Secret` — the signing secret: token-signing JWKS and cookie keys. (Its construct id is the
 *   one the single secret of earlier versions had, so an existing deployment keeps it: the
 *   provisioner copies its `subjectSecret` into the two secrets below.)
 * - `CertificateKey` — the certificate-key secret (certificate keys, revocation entries);
 * - `Pairwise` — the pairwise secret (`sub`s).
 *
 * Each is declared WITHOUT a value (no SecretString, no GenerateSecretString), so the template
 * never holds one; the provisioner generates the values inside AWS and writes each with
 * PutSecretValue only while it is empty. All are retained on stack deletion: losing an identity
 * secret loses every account or changes every user's `sub` at every RP.
 *
 * restrictAccess() adds a resource policy to each secret that denies reading (and writing) its
 * value to every principal but the roles named for it and the operators (`secretAdminArns`): an
 * identity policy elsewhere in the account that grants `secretsmanager:*` cannot reach them.
 */
import { CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  AnyPrincipal,
  Effect,
  type IRole,
  PolicyStatement,
  Role,
  ServicePrincipal,
} from 'aws-cdk-lib/aws-iam';
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

/** The roles that read each secret (restrictAccess). */
export interface SecretReaders {
  readonly signing: readonly IRole[];
  readonly certificateKey: readonly IRole[];
  readonly pairwise: readonly IRole[];
}

const NO_ROTATION = {
  id: 'AwsSolutions-SMG4',
  reason:
    'Secrets Manager rotation would replace the whole value: the identity secrets must never change (they key every account and pairwise sub) and signing keys rotate in two published steps with `myna-oidc keys rotate` (docs/deploy.md).',
};

export class OpSecret extends Construct {
  /** The signing secret (JWKS and cookie keys). */
  readonly secret: Secret;
  readonly certificateKey: Secret;
  readonly pairwise: Secret;
  readonly provisioner: NodejsFunction;
  readonly provisionerLogs: ILogGroup;
  readonly provisionerRole: Role;
  /** The custom resource; depend on it to use the secrets only once they have values. */
  readonly provisioned: CustomResource;

  constructor(scope: Construct, id: string, props: OpSecretProps) {
    super(scope, id);
    const secret = (secretId: string, description: string): Secret => {
      const created = new Secret(this, secretId, {
        description: `myna-oidc ${description}; generated at deploy time`,
        encryptionKey: props.encryptionKey,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      // No value in the template: the provisioner writes the first version.
      (created.node.defaultChild as CfnSecret).addPropertyDeletionOverride('GenerateSecretString');
      acknowledge(created, [NO_ROTATION]);
      return created;
    };
    this.secret = secret('Secret', 'OP signing secret (token-signing JWKS, cookie keys)');
    this.certificateKey = secret(
      'CertificateKey',
      'certificate-key secret (account keys and revocation entries: HMAC of issuer + serial)',
    );
    this.pairwise = secret('Pairwise', 'pairwise secret (pairwise subject identifiers)');

    this.provisionerLogs = new LogGroup(this, 'ProvisionerLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new Role(this, 'ProvisionerRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'myna-oidc secret provisioner: read and first-write of the OP secrets, its own logs',
    });
    this.provisionerRole = role;
    for (const target of this.all) {
      role.addToPolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
          resources: [target.secretArn],
        }),
      );
    }
    props.encryptionKey?.grant(role, 'kms:Decrypt', 'kms:GenerateDataKey');
    addLogWritePolicy(role, this.provisionerLogs);

    this.provisioner = new NodejsFunction(this, 'Provisioner', {
      ...bundledFunctionProps({
        projectRoot: props.projectRoot,
        entry: 'dist/functions/secrets/provision-handler.js',
        role,
        logGroup: this.provisionerLogs,
      }),
      description: 'myna-oidc: fills the OP secrets once at deploy time',
      handler: 'handler',
      memorySize: 512,
      timeout: Duration.minutes(2),
    });

    this.provisioned = new CustomResource(this, 'Provision', {
      serviceToken: this.provisioner.functionArn,
      resourceType: 'Custom::MynaOidcSecrets',
      properties: {
        SigningSecretId: this.secret.secretArn,
        CertificateKeySecretId: this.certificateKey.secretArn,
        PairwiseSecretId: this.pairwise.secretArn,
      },
    });
    this.provisioned.node.addDependency(role);
  }

  /** The three secrets. */
  get all(): readonly Secret[] {
    return [this.secret, this.certificateKey, this.pairwise];
  }

  /**
   * Resource policies: each secret's value may be read only by its `readers`, the provisioner and
   * `adminArns`, and written only by the provisioner and `adminArns` (key rotation).
   */
  restrictAccess(readers: SecretReaders, adminArns: readonly string[]): void {
    const writers = [this.provisionerRole.roleArn, ...adminArns];
    const denyUnless = (target: Secret, actions: string[], allowed: string[]) =>
      target.addToResourcePolicy(
        new PolicyStatement({
          effect: Effect.DENY,
          principals: [new AnyPrincipal()],
          actions,
          resources: ['*'],
          conditions: { ArnNotLike: { 'aws:PrincipalArn': allowed } },
        }),
      );
    const pairs: [Secret, readonly IRole[]][] = [
      [this.secret, readers.signing],
      [this.certificateKey, readers.certificateKey],
      [this.pairwise, readers.pairwise],
    ];
    for (const [target, roles] of pairs) {
      denyUnless(
        target,
        ['secretsmanager:GetSecretValue'],
        [...roles.map((role) => role.roleArn), ...writers],
      );
      denyUnless(
        target,
        ['secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
        writers,
      );
    }
  }
}

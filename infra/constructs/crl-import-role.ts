/**
 * The IAM role for CRL import (`myna-oidc revocation import`, README "Revocation"), for the
 * machine or job that fetches J-LIS's CRLs: it reads the table and writes only the revocation
 * partitions (CRL_IMPORT_PARTITIONS, `dynamodb:LeadingKeys`), and reads only the certificate-key
 * secret (the keyed hash of the stored entries) — never the signing keys or the pairwise secret,
 * so a compromised importer cannot sign a token, nor, on a deployment made after the secret split,
 * compute a `sub`. (A deployment upgraded from before the split keeps one value in both identity
 * secrets, op-secrets.ts legacyIdentitySecrets, so there the certificate-key secret IS the pairwise
 * secret and its reader can compute every `sub`; docs/security.md "A secret leak".) Principals
 * of the stack's account whose own policies allow sts:AssumeRole on it can assume it (an AWS CLI
 * profile with `role_arn = <CrlImportRoleArn>`).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { AccountPrincipal, Role } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { grantTableAccess } from './table-function-access.js';

/** The partitions CRL import writes (functions/revocation/crl-store.ts). */
export const CRL_IMPORT_PARTITIONS = ['REVOKED#*', 'CRL#*', 'CRLSNAP#*', 'CRLFEED'] as const;

/** The item operations of CrlStore (import and status). */
export const CRL_IMPORT_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
] as const;

export interface CrlImportRoleProps {
  readonly table: Table;
  readonly certificateKeySecret: ISecret;
  readonly encryptionKey?: IKey;
}

export class CrlImportRole extends Construct {
  readonly role: Role;

  constructor(scope: Construct, id: string, props: CrlImportRoleProps) {
    super(scope, id);
    this.role = new Role(this, 'Role', {
      assumedBy: new AccountPrincipal(Stack.of(this).account),
      description:
        'myna-oidc CRL import: the revocation partitions of the table, read of the certificate-key secret',
      maxSessionDuration: Duration.hours(1),
    });
    grantTableAccess(this.role, {
      tableActions: CRL_IMPORT_TABLE_ACTIONS,
      table: props.table,
      writePartitions: CRL_IMPORT_PARTITIONS,
      secrets: [props.certificateKeySecret],
      ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
    });
  }
}

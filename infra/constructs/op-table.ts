/**
 * The OP's single DynamoDB table, declared from functions/storage/table.ts (createTableInput and
 * its constants are the one source of truth; nothing about keys, index or TTL is restated here).
 * On-demand, TTL on EXPIRES_AT_ATTRIBUTE, point-in-time recovery, deletion protection, RETAIN.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import {
  type Attribute,
  AttributeType,
  BillingMode,
  ProjectionType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import {
  BILLING_MODE,
  createTableInput,
  EXPIRES_AT_ATTRIBUTE,
  GRANT_INDEX,
} from '../../functions/storage/table.js';

export interface OpTableProps {
  readonly tableName: string;
  /** Customer-managed key; unset: AWS-owned encryption (no KMS cost, no key policy to manage). */
  readonly encryptionKey?: IKey;
}

/** The table and the ARN of its grant index (for least-privilege grants). */
export class OpTable extends Construct {
  readonly table: Table;
  readonly grantIndexArn: string;

  constructor(scope: Construct, id: string, props: OpTableProps) {
    super(scope, id);
    const input = createTableInput(props.tableName);
    if (input.BillingMode !== BILLING_MODE || BILLING_MODE !== 'PAY_PER_REQUEST') {
      throw new Error('the table is on-demand (PAY_PER_REQUEST)');
    }
    const attributeType = new Map(
      (input.AttributeDefinitions ?? []).map((definition) => [
        definition.AttributeName,
        definition.AttributeType,
      ]),
    );
    const attribute = (name: string | undefined): Attribute => {
      if (!name || attributeType.get(name) !== 'S') throw new Error(`attribute ${name} must be a string key`);
      return { name, type: AttributeType.STRING };
    };
    const keyOf = (schema: { AttributeName?: string; KeyType?: string }[] | undefined, type: string) =>
      attribute(schema?.find((key) => key.KeyType === type)?.AttributeName);

    this.table = new Table(this, 'Table', {
      tableName: props.tableName,
      partitionKey: keyOf(input.KeySchema, 'HASH'),
      sortKey: keyOf(input.KeySchema, 'RANGE'),
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: EXPIRES_AT_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(props.encryptionKey
        ? { encryption: TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
        : { encryption: TableEncryption.DEFAULT }),
    });
    for (const index of input.GlobalSecondaryIndexes ?? []) {
      if (index.Projection?.ProjectionType !== 'KEYS_ONLY')
        throw new Error('only KEYS_ONLY indexes are declared');
      this.table.addGlobalSecondaryIndex({
        indexName: index.IndexName as string,
        partitionKey: keyOf(index.KeySchema, 'HASH'),
        sortKey: keyOf(index.KeySchema, 'RANGE'),
        projectionType: ProjectionType.KEYS_ONLY,
      });
    }
    this.grantIndexArn = `${this.table.tableArn}/index/${GRANT_INDEX.name}`;
  }
}

/**
 * The CDK stack, synthesized ONCE (esbuild bundles the Lambdas) with a full set of context values
 * and checked with aws-cdk-lib/assertions and the cdk-nag AwsSolutions pack. Needs `npm run build`
 * (the Lambda entries are the compiled handlers in dist/, as in the benchmark).
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { devCertificateLinks } from '../../dev-pki/hierarchy.js';
import {
  DEFAULT_ACCOUNT_RETENTION_DAYS,
  DEFAULT_RELEASE_HISTORY_RETENTION_DAYS,
  LOGIN_LIMITS,
} from '../../functions/defaults.js';
import { certificateLinkFileText } from '../../functions/jpki/certificate-links.js';
import { encodePem } from '../../functions/jpki/pem.js';
import { OP_LAMBDA_BUNDLING } from '../../functions/op/bundle-options.js';
import { clientAddressHeaderFor, ORIGIN_VERIFY_HEADER } from '../../functions/op/origin-verify.js';
import { EXPIRES_AT_ATTRIBUTE, GRANT_INDEX, PARTITION_KEY, SORT_KEY } from '../../functions/storage/table.js';
import { buildApp } from '../../infra/app.js';
import { CRL_IMPORT_PARTITIONS } from '../../infra/constructs/crl-import-role.js';
import { LOGOUT_SIGNER_CONCURRENCY } from '../../infra/constructs/logout-signer-function.js';
import { NOTIFY_DELETE_PARTITIONS, NOTIFY_WRITE_PARTITIONS } from '../../infra/constructs/notify-function.js';
import {
  CERTIFICATE_LINKS_FILE,
  OP_DELETE_PARTITIONS,
  OP_WRITE_PARTITIONS,
  SIGNING_TRUST_ANCHORS_FILE,
  TRUST_ANCHORS_FILE,
} from '../../infra/constructs/op-function.js';
import type { MynaOidcStack } from '../../infra/stack.js';
import { devPki } from '../support/dev-pki.js';

const DOMAIN = 'login.example.jp';
const ADMIN = 'arn:aws:iam::123456789012:role/MynaOidcOperator';
/** The environment of the OP: issuer, table, three secrets, trust anchors, retention, login limits. */
const OP_VARIABLES = [
  'NODE_OPTIONS',
  'OP_ACCOUNT_RETENTION_DAYS',
  'OP_CERTIFICATE_KEY_SECRET_ID',
  'OP_ISSUER',
  'OP_LIMIT_ANSWERS_PER_INTERACTION',
  'OP_LIMIT_CHALLENGES_PER_INTERACTION',
  'OP_LIMIT_INTERACTIONS_PER_ADDRESS_PER_MINUTE',
  'OP_PAIRWISE_SECRET_ID',
  'OP_RELEASE_HISTORY_RETENTION_DAYS',
  'OP_SECRET_ID',
  'OP_TABLE_NAME',
  'OP_TRUST_ANCHORS_FILE',
];
/** The notification job's: issuer, table, the two identity secrets, its signer — no signing secret. */
const NOTIFY_VARIABLES = [
  'NODE_OPTIONS',
  'OP_CERTIFICATE_KEY_SECRET_ID',
  'OP_ISSUER',
  'OP_LOGOUT_TOKEN_SIGNER_FUNCTION',
  'OP_PAIRWISE_SECRET_ID',
  'OP_TABLE_NAME',
];
/** The private RP hosts of the main stack's context. */
const PRIVATE_RP_HOSTS = 'rp.internal.example,10.0.0.7';
const CERTIFICATE =
  'arn:aws:acm:ap-northeast-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';

let app: App;
let stack: MynaOidcStack;
let template: Template;
let anchorsPem: string;
let anchorsPath: string;

type Statement = {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
  Condition?: Record<string, Record<string, unknown>>;
};

/** The logical ids of the three OP secrets (signing, certificate key, pairwise), by description. */
function secretIds(of: Template = template): { signing: string; certificateKey: string; pairwise: string } {
  const find = (pattern: string) => {
    const [id] = Object.keys(
      of.findResources('AWS::SecretsManager::Secret', {
        Properties: { Description: Match.stringLikeRegexp(pattern) },
      }),
    );
    expect(id).toEqual(expect.any(String));
    return id as string;
  };
  return {
    signing: find('OP signing secret'),
    certificateKey: find('certificate-key secret'),
    pairwise: find('pairwise secret'),
  };
}

/** The identity-policy statements of the role with a description starting `description`. */
function roleStatements(description: string, of: Template = template): Statement[] {
  const [role] = Object.keys(
    of.findResources('AWS::IAM::Role', { Properties: { Description: Match.stringLikeRegexp(description) } }),
  );
  return Object.values(
    of.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } }),
  ).flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

/** What a function that reads and writes the table may do with it (the OP, the notification job). */
const TABLE_ITEM_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
];

/**
 * What a function reading its secrets does besides its work: the customer-managed key of the table
 * and the secrets (the default encryption), its log group, GetSecretValue.
 */
const READS_SECRETS_AND_LOGS = [
  'kms:Decrypt',
  'kms:GenerateDataKey',
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  'secretsmanager:GetSecretValue',
];

/** The actions of the identity policies of the role of `fn` (a Lambda function resource), sorted. */
function functionRoleActions(fn: { Properties?: { Role?: unknown } } | undefined): string[] {
  const role = (fn?.Properties?.Role as { 'Fn::GetAtt': [string, string] } | undefined)?.['Fn::GetAtt'][0];
  expect(role).toEqual(expect.any(String));
  return Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } }))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[])
    .flatMap((statement) => [statement.Action].flat())
    .sort();
}

/** The logout-token signer Lambda: its logical id and resource. */
function signerFunction(of: Template = template) {
  const [id, fn] = Object.entries(
    of.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp('logout-token signer') },
    }),
  )[0] ?? [undefined, undefined];
  expect(id).toEqual(expect.any(String));
  return { id: id as string, fn };
}

/** Every IAM statement of the template (identity policies and inline role policies). */
function iamStatements(): Statement[] {
  const statements: Statement[] = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    statements.push(...(policy.Properties.PolicyDocument.Statement as Statement[]));
  }
  for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
    for (const inline of (role.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[])
      statements.push(...inline.PolicyDocument.Statement);
  }
  return statements;
}

beforeAll(async () => {
  const pki = await devPki();
  const dir = await mkdtemp(join(tmpdir(), 'myna-infra-'));
  anchorsPem = pki.userAuthCas.map((ca) => encodePem(ca.der, 'CERTIFICATE')).join('');
  const anchors = join(dir, 'jpki-user-auth-cas.pem');
  await writeFile(anchors, anchorsPem);
  anchorsPath = anchors;
  app = new App({
    outdir: join(dir, 'cdk.out'),
    context: {
      domainName: DOMAIN,
      certificateArn: CERTIFICATE,
      hostedZoneId: 'Z0123456789ABCDEFGHIJ',
      hostedZoneName: 'example.jp',
      alarmEmail: 'ops@example.jp',
      reservedConcurrency: 50,
      trustAnchors: anchors,
      secretAdminArns: ADMIN,
      privateRpHosts: PRIVATE_RP_HOSTS,
      accountRetentionDays: 730,
      releaseHistoryRetentionDays: 200,
      limitAnswersPerInteraction: 3,
      limitChallengesPerInteraction: '8',
      limitInteractionsPerAddressPerMinute: 250,
    },
  });
  stack = buildApp(app).op;
  template = Template.fromStack(stack);
}, 120_000);

describe('the OP Lambda', () => {
  it('runs the newest Node.js runtime on arm64 with JSON logs and source maps', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('OpenID Provider'),
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 1024,
      ReservedConcurrentExecutions: 50,
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
      Environment: { Variables: Match.objectLike({ NODE_OPTIONS: '--enable-source-maps' }) },
    });
  });

  it('gets the issuer, table, secret id and trust-anchor file from its environment, and no secret value', () => {
    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp('OpenID Provider') },
    });
    const [op] = Object.values(functions);
    const variables = op?.Properties.Environment.Variables as Record<string, unknown>;
    expect(Object.keys(variables).sort()).toEqual([...OP_VARIABLES, 'OP_PRIVATE_RP_HOSTS'].sort());
    expect(variables.OP_ISSUER).toBe(`https://${DOMAIN}`);
    expect(variables.OP_TRUST_ANCHORS_FILE).toBe(TRUST_ANCHORS_FILE);
    const ids = secretIds();
    expect(variables.OP_SECRET_ID).toEqual({ Ref: ids.signing });
    expect(variables.OP_CERTIFICATE_KEY_SECRET_ID).toEqual({ Ref: ids.certificateKey });
    expect(variables.OP_PAIRWISE_SECRET_ID).toEqual({ Ref: ids.pairwise });
    // The context's retention, limits and private RP hosts (cdk.json documents the defaults).
    expect(variables).toMatchObject({
      OP_PRIVATE_RP_HOSTS: PRIVATE_RP_HOSTS,
      OP_ACCOUNT_RETENTION_DAYS: '730',
      OP_RELEASE_HISTORY_RETENTION_DAYS: '200',
      OP_LIMIT_ANSWERS_PER_INTERACTION: '3',
      OP_LIMIT_CHALLENGES_PER_INTERACTION: '8',
      OP_LIMIT_INTERACTIONS_PER_ADDRESS_PER_MINUTE: '250',
    });
    // Nothing that looks like key material anywhere in the template.
    const text = JSON.stringify(template.toJSON());
    expect(text).not.toMatch(
      /"(d|p|q|dp|dq|qi|k)":"[A-Za-z0-9_-]{20,}"|subjectSecret|certificateKeySecret|pairwiseSecret|cookieKeys|BEGIN PRIVATE/,
    );
  });

  it('may read, write, query and batch-read/-write the table (the request scope prefetches with BatchGetItem)', () => {
    const [op] = Object.values(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('OpenID Provider') },
      }),
    );
    // A missing BatchGetItem turns every prefetch into AccessDenied and a fallback on AWS.
    expect(new Set(functionRoleActions(op).filter((action) => action.startsWith('dynamodb:')))).toEqual(
      new Set(TABLE_ITEM_ACTIONS),
    );
  });

  it('ships the trust-anchor bundle and the source map next to the bundled code', async () => {
    const [op] = Object.values(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('OpenID Provider') },
      }),
    );
    const assetHash = String(op?.Properties.Code.S3Key).replace(/\.zip$/, '');
    const assetDir = join(app.outdir, `asset.${assetHash}`);
    expect(await readFile(join(assetDir, TRUST_ANCHORS_FILE), 'utf8')).toBe(anchorsPem);
    expect((await readFile(join(assetDir, 'index.mjs'), 'utf8')).startsWith(OP_LAMBDA_BUNDLING.banner)).toBe(
      true,
    );
    await readFile(join(assetDir, 'index.mjs.map'));
  });
});

describe('the revocation notification job', () => {
  const jobFunction = () => {
    const [id, job] = Object.entries(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('revocation notification job') },
      }),
    )[0] ?? [undefined, undefined];
    return { id: id as string, job };
  };

  it('is a Lambda of the OP bundle options, run by an EventBridge rule every 15 minutes, one at a time', () => {
    const { id, job } = jobFunction();
    expect(job?.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      ReservedConcurrentExecutions: 1,
    });
    const variables = job?.Properties.Environment.Variables as Record<string, unknown>;
    expect(Object.keys(variables).sort()).toEqual([...NOTIFY_VARIABLES, 'OP_PRIVATE_RP_HOSTS'].sort());
    expect(variables.OP_PRIVATE_RP_HOSTS).toBe(PRIVATE_RP_HOSTS);
    expect(variables.OP_LOGOUT_TOKEN_SIGNER_FUNCTION).toEqual({ Ref: signerFunction().id });
    const rules = Object.values(template.findResources('AWS::Events::Rule'));
    expect(rules).toHaveLength(1);
    expect(rules[0]?.Properties).toMatchObject({
      ScheduleExpression: 'rate(15 minutes)',
      State: 'ENABLED',
      Targets: [expect.objectContaining({ Arn: { 'Fn::GetAtt': [id, 'Arn'] } })],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [id, 'Arn'] },
    });
  });

  it('may use the table, its grant index, GetSecretValue on its secrets and invoke its signer, nothing more', () => {
    const { job } = jobFunction();
    expect(functionRoleActions(job)).toEqual(
      [
        // No BatchWriteItem: IAM cannot limit it to deletes.
        ...TABLE_ITEM_ACTIONS.filter((action) => action !== 'dynamodb:BatchWriteItem'),
        // Its grant index.
        'dynamodb:Query',
        // The logout-token signer.
        'lambda:InvokeFunction',
        ...READS_SECRETS_AND_LOGS,
      ].sort(),
    );
  });

  it('puts and updates only its own partitions and deletes only what it revokes (dynamodb:LeadingKeys)', () => {
    const statements = roleStatements('^myna-oidc revocation notification job').filter((statement) =>
      [statement.Action].flat().some((action) => action.startsWith('dynamodb:')),
    );
    const withAction = (action: string) =>
      statements.filter((statement) => [statement.Action].flat().includes(action));
    const [writes, ...moreWrites] = withAction('dynamodb:PutItem');
    expect(moreWrites).toEqual([]);
    expect([writes?.Action].flat().sort()).toEqual(['dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(writes?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...NOTIFY_WRITE_PARTITIONS] },
    });
    const [deletes, ...moreDeletes] = withAction('dynamodb:DeleteItem');
    expect(moreDeletes).toEqual([]);
    expect([deletes?.Action].flat()).toEqual(['dynamodb:DeleteItem']);
    expect(deletes?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...NOTIFY_DELETE_PARTITIONS] },
    });
    expect(withAction('dynamodb:BatchWriteItem')).toEqual([]);
    const reachable = (patterns: readonly string[], pk: string) =>
      patterns.some((pattern) => new RegExp(`^${pattern.replace('*', '.*')}$`).test(pk));
    // Nothing the OP signs from (sessions, grants, tokens, codes, clients, certificate pointers) can
    // be put or updated; client registrations and certificate pointers cannot be deleted either.
    for (const pk of [
      'Session#s',
      'Grant#g',
      'RefreshToken#r',
      'AuthorizationCode#c',
      'AccessToken#a',
      'Interaction#i',
      'Client',
      'CERT#k',
      'AccountRef#a',
      'REVOKED#k',
    ]) {
      expect(reachable(NOTIFY_WRITE_PARTITIONS, pk)).toBe(false);
    }
    for (const pk of ['Client', 'CERT#k', 'ACCOUNT#a', 'REVOKED#k', 'RevocationAudit', 'Interaction#i'])
      expect(reachable(NOTIFY_DELETE_PARTITIONS, pk)).toBe(false);
    const reads = withAction('dynamodb:GetItem')[0];
    expect(reads?.Condition).toBeUndefined();
  });

  it('has alarms on its errors and on notifications given up', () => {
    const descriptions = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (alarm) => alarm.Properties.AlarmDescription as string,
    );
    expect(descriptions.some((text) => /notification job Lambda errors/.test(text))).toBe(true);
    expect(descriptions.some((text) => /given up/.test(text))).toBe(true);
  });
});

describe('the logout-token signer', () => {
  it('is a Lambda of the OP bundle options with the issuer, the table and the signing secret only', () => {
    const { fn } = signerFunction();
    expect(fn?.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      ReservedConcurrentExecutions: LOGOUT_SIGNER_CONCURRENCY,
    });
    const variables = fn?.Properties.Environment.Variables as Record<string, unknown>;
    expect(Object.keys(variables).sort()).toEqual([
      'NODE_OPTIONS',
      'OP_ISSUER',
      'OP_SECRET_ID',
      'OP_TABLE_NAME',
    ]);
    expect(variables.OP_SECRET_ID).toEqual({ Ref: secretIds().signing });
    expect(variables.OP_ISSUER).toBe(`https://${DOMAIN}`);
    // Named in the outputs: force new environments after a key rotation (docs/deploy.md).
    template.hasOutput('LogoutTokenSignerFunctionName', { Value: { Ref: signerFunction().id } });
  });

  it('may read client registrations (GetItem in the Client partition) and the signing secret, nothing more', () => {
    const { fn } = signerFunction();
    expect(functionRoleActions(fn)).toEqual(['dynamodb:GetItem', ...READS_SECRETS_AND_LOGS].sort());
    const reads = roleStatements('^myna-oidc logout-token signer').find((statement) =>
      [statement.Action].flat().includes('dynamodb:GetItem'),
    );
    expect(reads?.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['Client'] } });
  });

  it('may be invoked by the notification job alone, and alarms on errors and on every refusal', () => {
    const { id } = signerFunction();
    const invokers = iamStatements().filter((statement) =>
      [statement.Action].flat().includes('lambda:InvokeFunction'),
    );
    expect(invokers).toHaveLength(1);
    expect(invokers[0]?.Resource).toEqual({ 'Fn::GetAtt': [id, 'Arn'] });
    expect(roleStatements('^myna-oidc revocation notification job')).toContainEqual(invokers[0]);
    // No resource policy lets anything else (a service, another account) invoke it.
    expect(
      Object.values(template.findResources('AWS::Lambda::Permission')).filter(
        (permission) =>
          JSON.stringify(permission.Properties.FunctionName) ===
            JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] }) ||
          JSON.stringify(permission.Properties.FunctionName) === JSON.stringify({ Ref: id }),
      ),
    ).toEqual([]);
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '{ $.event = "logout_token.refused" }',
    });
    const descriptions = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (alarm) => alarm.Properties.AlarmDescription as string,
    );
    expect(descriptions.filter((text) => /logout-token signer/.test(text))).toHaveLength(2);
  });
});

describe('the HTTP API', () => {
  it('has the $default stage and the catch-all $default route to the Lambda', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
    template.resourceCountIs('AWS::ApiGatewayV2::Route', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$default' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
    });
  });

  it('throttles the stage (default 200 requests/s, burst 400) before the reserved concurrency', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 }),
    });
  });

  it('serves only the custom domain with its certificate, with Route 53 alias records', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { DisableExecuteApiEndpoint: true });
    template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: DOMAIN,
      DomainNameConfigurations: [Match.objectLike({ CertificateArn: CERTIFICATE })],
    });
    const [domain] = Object.keys(template.findResources('AWS::ApiGatewayV2::DomainName'));
    template.hasResourceProperties('AWS::ApiGatewayV2::ApiMapping', {
      Stage: '$default',
      DomainName: { Ref: domain },
    });
    template.hasResourceProperties('AWS::Route53::RecordSet', { Name: `${DOMAIN}.`, Type: 'A' });
    template.hasResourceProperties('AWS::Route53::RecordSet', { Name: `${DOMAIN}.`, Type: 'AAAA' });
  });
});

describe('the table', () => {
  it('is declared from functions/storage/table.ts: keys, grant index, TTL attribute, on-demand', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: PARTITION_KEY, KeyType: 'HASH' },
        { AttributeName: SORT_KEY, KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: EXPIRES_AT_ATTRIBUTE, Enabled: true },
      GlobalSecondaryIndexes: [
        Match.objectLike({ IndexName: GRANT_INDEX.name, Projection: { ProjectionType: 'KEYS_ONLY' } }),
      ],
    });
  });

  it('has point-in-time recovery, deletion protection and the RETAIN policy', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      }),
    });
  });
});

describe('the secrets', () => {
  it('are three, by purpose, declared without a value, retained, filled by the deploy-time custom resource', () => {
    const secrets = template.findResources('AWS::SecretsManager::Secret');
    expect(Object.keys(secrets)).toHaveLength(3);
    for (const secret of Object.values(secrets)) {
      expect(secret.DeletionPolicy).toBe('Retain');
      expect(secret.Properties).not.toHaveProperty('SecretString');
      expect(secret.Properties).not.toHaveProperty('GenerateSecretString');
    }
    const ids = secretIds();
    // The signing secret keeps the logical id of the single secret of earlier versions.
    expect(ids.signing).toMatch(/^SecretsSecret[0-9A-F]{8}$/);
    template.hasResourceProperties('Custom::MynaOidcSecrets', {
      SigningSecretId: { Ref: ids.signing },
      CertificateKeySecretId: { Ref: ids.certificateKey },
      PairwiseSecretId: { Ref: ids.pairwise },
    });
  });

  it("are encrypted with the stack's customer-managed KMS key by default, as is the table", () => {
    const [key] = Object.keys(template.findResources('AWS::KMS::Key'));
    expect(key).toEqual(expect.any(String));
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    for (const secret of Object.values(template.findResources('AWS::SecretsManager::Secret'))) {
      expect(secret.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [key, 'Arn'] });
    }
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: Match.objectLike({ SSEEnabled: true, SSEType: 'KMS' }),
    });
  });

  it('deny reading a value to everyone but its readers, the provisioner and the operators', () => {
    const ids = secretIds();
    const roleId = (description: string) =>
      Object.keys(
        template.findResources('AWS::IAM::Role', {
          Properties: { Description: Match.stringLikeRegexp(description) },
        }),
      )[0] as string;
    const arnOf = (role: string) => ({ 'Fn::GetAtt': [role, 'Arn'] });
    const op = arnOf(roleId('^myna-oidc OP:'));
    const job = arnOf(roleId('^myna-oidc revocation notification job'));
    const signer = arnOf(roleId('^myna-oidc logout-token signer'));
    const provisioner = arnOf(roleId('^myna-oidc secret provisioner'));
    const crlImport = arnOf(roleId('^myna-oidc CRL import'));
    const policies = Object.values(template.findResources('AWS::SecretsManager::ResourcePolicy'));
    for (const id of Object.values(ids)) {
      const policy = policies.find(
        (candidate) => JSON.stringify(candidate.Properties.SecretId) === JSON.stringify({ Ref: id }),
      );
      const statements = policy?.Properties.ResourcePolicy.Statement as (Statement & {
        Principal: unknown;
      })[];
      const read = statements.find((statement) =>
        [statement.Action].flat().includes('secretsmanager:GetSecretValue'),
      );
      expect(read).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' } });
      const readers = read?.Condition?.ArnNotLike?.['aws:PrincipalArn'];
      // The signing secret: the OP and the logout-token signer — not the notification job. The
      // CRL importer reads the certificate-key secret, and no other.
      expect(readers).toEqual(
        {
          [ids.signing]: [op, signer, provisioner, ADMIN],
          [ids.certificateKey]: [op, job, crlImport, provisioner, ADMIN],
          [ids.pairwise]: [op, job, provisioner, ADMIN],
        }[id],
      );
      const write = statements.find((statement) =>
        [statement.Action].flat().includes('secretsmanager:PutSecretValue'),
      );
      expect(write?.Condition?.ArnNotLike?.['aws:PrincipalArn']).toEqual([provisioner, ADMIN]);
    }
  });

  it('the OP, the job and the signer read exactly their secrets; the provisioner reads and first-writes them', () => {
    const ids = secretIds();
    const all = [ids.signing, ids.certificateKey, ids.pairwise].map((id) => ({ Ref: id }));
    const secretStatements = (description: string) =>
      roleStatements(description).filter((statement) =>
        [statement.Action].flat().some((action) => action.startsWith('secretsmanager:')),
      );
    const reads: [string, unknown[]][] = [
      ['^myna-oidc OP:', all],
      // The job that talks to every RP's network cannot read the signing secret.
      ['^myna-oidc revocation notification job', [{ Ref: ids.certificateKey }, { Ref: ids.pairwise }]],
      ['^myna-oidc logout-token signer', [{ Ref: ids.signing }]],
    ];
    for (const [description, resources] of reads) {
      const [statement, ...more] = secretStatements(description);
      expect(more).toEqual([]);
      expect(statement?.Action).toBe('secretsmanager:GetSecretValue');
      expect([statement?.Resource].flat()).toEqual(resources);
    }
    const jobStatements = JSON.stringify(roleStatements('^myna-oidc revocation notification job'));
    expect(jobStatements).not.toContain(ids.signing);
    const provisioner = secretStatements('^myna-oidc secret provisioner');
    expect(provisioner.map((statement) => statement.Resource)).toEqual(all);
  });
});

describe('the CRL import role', () => {
  it('is assumable in the account, writes only the revocation partitions and reads only the certificate-key secret', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      Description: Match.stringLikeRegexp('^myna-oidc CRL import'),
      MaxSessionDuration: 3600,
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: 'sts:AssumeRole',
            Principal: { AWS: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':root$')])] } },
          }),
        ],
      },
    });
    const statements = roleStatements('^myna-oidc CRL import');
    const writes = statements.find((statement) => [statement.Action].flat().includes('dynamodb:PutItem'));
    expect(writes?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...CRL_IMPORT_PARTITIONS] },
    });
    const secretReads = statements.filter((statement) =>
      [statement.Action].flat().some((action) => action.startsWith('secretsmanager:')),
    );
    expect(secretReads.map((statement) => statement.Resource)).toEqual([{ Ref: secretIds().certificateKey }]);
    template.hasOutput('CrlImportRoleArn', Match.anyValue());
  });
});

describe('IAM', () => {
  it('names actions without wildcards and a resource in every statement', () => {
    const statements = iamStatements();
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      for (const action of [statement.Action].flat()) expect(action).not.toContain('*');
      expect(statement.Resource).toBeDefined();
      expect(JSON.stringify(statement.Resource)).not.toBe('"*"');
    }
  });

  it("limits the OP's writes to its own partitions with dynamodb:LeadingKeys (reads stay table-wide)", () => {
    const statements = roleStatements('^myna-oidc OP:').filter((statement) =>
      [statement.Action].flat().some((action) => action.startsWith('dynamodb:')),
    );
    const writes = statements.find((statement) => [statement.Action].flat().includes('dynamodb:PutItem'));
    expect([writes?.Action].flat().sort()).toEqual(
      ['dynamodb:BatchWriteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'].sort(),
    );
    expect(writes?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...OP_WRITE_PARTITIONS] },
    });
    // Deletes reach one more partition: the revocation audit records an account erasure removes.
    const deletes = statements.find((statement) => [statement.Action].flat().includes('dynamodb:DeleteItem'));
    expect([deletes?.Action].flat()).toEqual(['dynamodb:DeleteItem']);
    expect(deletes?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...OP_DELETE_PARTITIONS] },
    });
    // Client registrations, revocation entries and CRL state are out of reach.
    const reachable = (pk: string) =>
      OP_WRITE_PARTITIONS.some((pattern) => new RegExp(`^${pattern.replace('*', '.*')}$`).test(pk));
    for (const pk of ['Client', 'REVOKED#abc', 'CRL#scope', 'CRLSNAP#x@1', 'CRLFEED', 'RevocationAudit'])
      expect(reachable(pk)).toBe(false);
    const reads = statements.find((statement) => [statement.Action].flat().includes('dynamodb:GetItem'));
    expect(reads?.Condition).toBeUndefined();
    expect([reads?.Action].flat()).not.toContain('dynamodb:PutItem');
  });

  it('scopes every Secrets Manager permission to the secrets; the OP may only GetSecretValue', () => {
    const secretStatements = iamStatements().filter((statement) =>
      [statement.Action].flat().some((action) => action.startsWith('secretsmanager:')),
    );
    const ids = Object.values(secretIds()).map((id) => ({ Ref: id }));
    for (const statement of secretStatements) {
      for (const resource of [statement.Resource].flat()) expect(ids).toContainEqual(resource);
    }
    const [opRole] = Object.keys(
      template.findResources('AWS::IAM::Role', {
        Properties: { Description: Match.stringLikeRegexp('^myna-oidc OP:') },
      }),
    );
    const opPolicies = Object.values(
      template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: opRole }] } }),
    );
    const opSecretActions = opPolicies
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[])
      .flatMap((statement) => [statement.Action].flat())
      .filter((action) => action.startsWith('secretsmanager:'));
    expect(opSecretActions).toEqual(['secretsmanager:GetSecretValue']);
  });
});

describe('observability', () => {
  it('keeps logs 90 days and alarms on errors, throttles, 5xx, DynamoDB throttles and login failures', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    const descriptions = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (alarm) => alarm.Properties.AlarmDescription as string,
    );
    for (const expected of [/Lambda errors/, /throttled/, /5xx/, /DynamoDB/, /logins refused/]) {
      expect(descriptions.some((description) => expected.test(description))).toBe(true);
    }
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '{ $.event = "login.refused" }',
    });
  });

  it("counts backchannel.delivery_failed in the OP's and the job's logs and alarms on it", () => {
    const filters = Object.values(
      template.findResources('AWS::Logs::MetricFilter', {
        Properties: { FilterPattern: '{ $.event = "backchannel.delivery_failed" }' },
      }),
    );
    expect(filters).toHaveLength(2);
    const groups = filters.map((filter) => JSON.stringify(filter.Properties.LogGroupName)).sort();
    const [op] = Object.values(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('OpenID Provider') },
      }),
    );
    const [job] = Object.values(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('revocation notification job') },
      }),
    );
    const logGroupOf = (fn: typeof op) => JSON.stringify({ Ref: fn?.Properties.LoggingConfig.LogGroup.Ref });
    expect(groups).toEqual([logGroupOf(op), logGroupOf(job)].sort());
    for (const filter of filters)
      expect(filter.Properties.MetricTransformations[0]).toMatchObject({
        MetricName: 'BackchannelDeliveryFailed',
      });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('back-channel logout deliveries'),
      MetricName: 'BackchannelDeliveryFailed',
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.jp',
    });
  });
});

describe('cdk-nag', () => {
  it('has no unacknowledged AwsSolutions finding', () => {
    const report = new AwsSolutionsChecks(app).validateScope(stack);
    expect(report.violations.map((violation) => violation.ruleName)).toEqual([]);
    const errors = Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'));
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'));
    expect([...errors, ...warnings]).toEqual([]);
  });
});

describe('behind CloudFront + WAF (webAclArn)', () => {
  let edgeApp: App;
  let edgeStack: MynaOidcStack;
  let edge: Template;
  let edgeOut: string;
  beforeAll(async () => {
    // This deployment verifies identities too: the signing CA bundle and the link file ship with the code.
    const dir = await mkdtemp(join(tmpdir(), 'myna-infra-edge-'));
    const pki = await devPki();
    await writeFile(join(dir, 'signing-cas.pem'), encodePem(pki.signingCa.der, 'CERTIFICATE'));
    await writeFile(join(dir, 'links.json'), certificateLinkFileText(devCertificateLinks(pki.identities)));
    edgeOut = join(dir, 'cdk.out');
    edgeApp = new App({
      outdir: edgeOut,
      context: {
        signingTrustAnchors: join(dir, 'signing-cas.pem'),
        certificateLinks: join(dir, 'links.json'),
        domainName: DOMAIN,
        webAclArn: 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/MynaOidc/abc',
        edgeCertificateArn:
          'arn:aws:acm:us-east-1:123456789012:certificate/66666666-7777-8888-9999-000000000000',
        trustAnchors: anchorsPath,
        originVerifyVersion: 'EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE',
      },
    });
    edgeStack = buildApp(edgeApp).op;
    edge = Template.fromStack(edgeStack);
  }, 120_000);

  it("keeps execute-api as CloudFront's origin, and CloudFront sends the origin-verify secret by reference", () => {
    edge.hasResourceProperties('AWS::ApiGatewayV2::Api', { DisableExecuteApiEndpoint: false });
    const [originVerify] = Object.keys(
      edge.findResources('AWS::SecretsManager::Secret', {
        Properties: { Description: Match.stringLikeRegexp('origin-verify') },
      }),
    );
    // Generated by Secrets Manager at creation: a recipe in the template, never a value.
    edge.hasResourceProperties('AWS::SecretsManager::Secret', {
      Description: Match.stringLikeRegexp('origin-verify'),
      GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true },
    });
    const [distribution] = Object.values(edge.findResources('AWS::CloudFront::Distribution'));
    const origin = distribution?.Properties.DistributionConfig.Origins[0];
    expect(origin.OriginCustomHeaders).toEqual([
      {
        HeaderName: ORIGIN_VERIFY_HEADER,
        HeaderValue: {
          'Fn::Join': [
            '',
            [
              '{{resolve:secretsmanager:',
              { Ref: originVerify },
              ':SecretString:::EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE}}',
            ],
          ],
        },
      },
    ]);
    const [op] = Object.values(
      edge.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('OpenID Provider') },
      }),
    );
    expect(op?.Properties.Environment.Variables.OP_ORIGIN_VERIFY_SECRET_ID).toEqual({ Ref: originVerify });
    const opSecretReads = roleStatements('^myna-oidc OP:', edge).find((statement) =>
      [statement.Action].flat().includes('secretsmanager:GetSecretValue'),
    );
    expect(opSecretReads?.Resource).toContainEqual({ Ref: originVerify });
  });

  it("forwards CloudFront-Viewer-Address (the rate limit's client address) with the managed AllViewerExceptHostHeader policy", () => {
    const [distribution] = Object.values(edge.findResources('AWS::CloudFront::Distribution'));
    const behavior = distribution?.Properties.DistributionConfig.DefaultCacheBehavior;
    // The managed policy's id (aws-cdk-lib OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER):
    // all viewer headers but Host, and CloudFront's own headers (op-edge.ts).
    expect(behavior?.OriginRequestPolicyId).toBe('b689b0a8-53d0-40ab-baf2-68738e2966ac');
    // And the OP this stack configures reads its client address from that header (and only here:
    // without the WAF option the OP ignores it, test/op/origin-verify-viewer-address.test.ts).
    const opVariables = (of: Template) =>
      Object.values(
        of.findResources('AWS::Lambda::Function', {
          Properties: { Description: Match.stringLikeRegexp('OpenID Provider') },
        }),
      )[0]?.Properties.Environment.Variables as NodeJS.ProcessEnv;
    expect(clientAddressHeaderFor(opVariables(edge))).toBe('cloudfront-viewer-address');
    expect(clientAddressHeaderFor(opVariables(template))).toBeUndefined();
  });

  it('ships the signing CAs and the certificate link file, and names them (authoritative) in the environment', async () => {
    const [op] = Object.values(
      edge.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('OpenID Provider') },
      }),
    );
    const variables = op?.Properties.Environment.Variables as Record<string, unknown>;
    expect(variables).toMatchObject({
      OP_SIGNING_TRUST_ANCHORS_FILE: SIGNING_TRUST_ANCHORS_FILE,
      OP_CERTIFICATE_LINKS_FILE: CERTIFICATE_LINKS_FILE,
      OP_CERTIFICATE_LINKS_AUTHORITATIVE: 'true',
    });
    expect(variables).not.toHaveProperty('OP_IDENTITY_ACCEPT_UNLINKED_SIGNING_CERTIFICATES');
    // The function's code asset (S3 key `<hash>.zip`), as synthesized into the cloud assembly.
    const asset = `asset.${String(op?.Properties.Code.S3Key).replace(/\.zip$/, '')}`;
    const shipped = JSON.parse(await readFile(join(edgeOut, asset, CERTIFICATE_LINKS_FILE), 'utf8'));
    expect(Object.keys(shipped).length).toBeGreaterThan(1);
  });

  it('passes the default retention and login limits without context values, and no private RP host', () => {
    const [op] = Object.values(
      edge.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('OpenID Provider') },
      }),
    );
    const variables = op?.Properties.Environment.Variables as Record<string, unknown>;
    expect(variables).toMatchObject({
      OP_ACCOUNT_RETENTION_DAYS: String(DEFAULT_ACCOUNT_RETENTION_DAYS),
      OP_RELEASE_HISTORY_RETENTION_DAYS: String(DEFAULT_RELEASE_HISTORY_RETENTION_DAYS),
      OP_LIMIT_ANSWERS_PER_INTERACTION: String(LOGIN_LIMITS.answersPerInteraction),
      OP_LIMIT_CHALLENGES_PER_INTERACTION: String(LOGIN_LIMITS.challengesPerInteraction),
      OP_LIMIT_INTERACTIONS_PER_ADDRESS_PER_MINUTE: String(LOGIN_LIMITS.interactionsPerAddressPerMinute),
    });
    expect(variables).not.toHaveProperty('OP_PRIVATE_RP_HOSTS');
  });

  it('uses the default reserved concurrency (20) and warns that no operator can reach the secrets', () => {
    edge.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('OpenID Provider'),
      ReservedConcurrentExecutions: 20,
    });
    const warnings = Annotations.fromStack(edgeStack).findWarning(
      '*',
      Match.stringLikeRegexp('secretAdminArns'),
    );
    expect(warnings).toHaveLength(1);
  });

  it('has no unacknowledged AwsSolutions finding', () => {
    const report = new AwsSolutionsChecks(edgeApp).validateScope(edgeStack);
    expect(report.violations.map((violation) => violation.ruleName)).toEqual([]);
  });
});

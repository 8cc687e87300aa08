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
import { encodePem } from '../../functions/jpki/pem.js';
import { OP_LAMBDA_BUNDLING } from '../../functions/op/bundle-options.js';
import { EXPIRES_AT_ATTRIBUTE, GRANT_INDEX, PARTITION_KEY, SORT_KEY } from '../../functions/storage/table.js';
import { buildApp } from '../../infra/app.js';
import { TRUST_ANCHORS_FILE } from '../../infra/constructs/op-function.js';
import type { MynaOidcStack } from '../../infra/stack.js';
import { devPki } from '../support/dev-pki.js';

const DOMAIN = 'login.example.jp';
const CERTIFICATE =
  'arn:aws:acm:ap-northeast-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';

let app: App;
let stack: MynaOidcStack;
let template: Template;
let anchorsPem: string;

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

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
    expect(Object.keys(variables).sort()).toEqual(
      ['NODE_OPTIONS', 'OP_ISSUER', 'OP_SECRET_ID', 'OP_TABLE_NAME', 'OP_TRUST_ANCHORS_FILE'].sort(),
    );
    expect(variables.OP_ISSUER).toBe(`https://${DOMAIN}`);
    expect(variables.OP_TRUST_ANCHORS_FILE).toBe(TRUST_ANCHORS_FILE);
    const [secretId] = Object.keys(template.findResources('AWS::SecretsManager::Secret'));
    expect(variables.OP_SECRET_ID).toEqual({ Ref: secretId });
    // Nothing that looks like key material anywhere in the template.
    const text = JSON.stringify(template.toJSON());
    expect(text).not.toMatch(
      /"(d|p|q|dp|dq|qi|k)":"[A-Za-z0-9_-]{20,}"|subjectSecret|cookieKeys|BEGIN PRIVATE/,
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
    expect(Object.keys(job?.Properties.Environment.Variables).sort()).toEqual(
      ['NODE_OPTIONS', 'OP_ISSUER', 'OP_SECRET_ID', 'OP_TABLE_NAME'].sort(),
    );
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

  it('may use the table, its grant index and GetSecretValue on the secret, nothing more', () => {
    const { job } = jobFunction();
    const role = (job?.Properties.Role as { 'Fn::GetAtt': [string, string] } | undefined)?.['Fn::GetAtt'][0];
    expect(role).toEqual(expect.any(String));
    const statements = Object.values(
      template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } }),
    ).flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
    const actions = statements.flatMap((statement) => [statement.Action].flat()).sort();
    expect(actions).toEqual(
      [
        'dynamodb:BatchGetItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'secretsmanager:GetSecretValue',
      ].sort(),
    );
  });

  it('has alarms on its errors and on notifications given up', () => {
    const descriptions = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (alarm) => alarm.Properties.AlarmDescription as string,
    );
    expect(descriptions.some((text) => /notification job Lambda errors/.test(text))).toBe(true);
    expect(descriptions.some((text) => /given up/.test(text))).toBe(true);
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

describe('the secret', () => {
  it('is declared without a value, retained, and filled by the deploy-time custom resource', () => {
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      Properties: Match.not(Match.objectLike({ SecretString: Match.anyValue() })),
    });
    const [secret] = Object.values(template.findResources('AWS::SecretsManager::Secret'));
    expect(secret?.Properties).not.toHaveProperty('GenerateSecretString');
    const [secretId] = Object.keys(template.findResources('AWS::SecretsManager::Secret'));
    template.hasResourceProperties('Custom::MynaOidcSecrets', { SecretId: { Ref: secretId } });
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

  it('scopes every Secrets Manager permission to the secret; the OP may only GetSecretValue', () => {
    const secretStatements = iamStatements().filter((statement) =>
      [statement.Action].flat().some((action) => action.startsWith('secretsmanager:')),
    );
    const [secretId] = Object.keys(template.findResources('AWS::SecretsManager::Secret'));
    for (const statement of secretStatements) expect(statement.Resource).toEqual({ Ref: secretId });
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

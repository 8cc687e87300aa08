/**
 * The AWS WAF web ACL for the OP, in us-east-1 (CLOUDFRONT scope). WAFv2 cannot be associated with
 * an API Gateway HTTP API (only REST APIs, ALB, AppSync, Cognito, App Runner, Verified Access and
 * CloudFront), so with WAF the OP is served through a CloudFront distribution that carries this
 * ACL (infra/constructs/op-edge.ts). Rules: per-IP rate limits on the login (`/interaction/…`) and
 * token (`/token`) endpoints, plus AWS's IP-reputation and known-bad-inputs rule groups.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { CfnWebACL } from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';

export interface WafStackProps extends StackProps {
  /** Requests per client IP per 5 minutes on /interaction/… (page loads and card answers). */
  readonly loginRateLimit: number;
  /** Requests per client IP per 5 minutes on /token (RPs are few IPs making many calls). */
  readonly tokenRateLimit: number;
}

const visibility = (name: string): CfnWebACL.VisibilityConfigProperty => ({
  cloudWatchMetricsEnabled: true,
  metricName: name,
  sampledRequestsEnabled: true,
});

export class WafStack extends Stack {
  readonly webAcl: CfnWebACL;

  constructor(scope: Construct, id: string, props: WafStackProps) {
    super(scope, id, props);
    const rateRule = (
      name: string,
      priority: number,
      limit: number,
      path: string,
      match: 'STARTS_WITH' | 'EXACTLY',
    ): CfnWebACL.RuleProperty => ({
      name,
      priority,
      action: { block: {} },
      statement: {
        rateBasedStatement: {
          limit,
          evaluationWindowSec: 300,
          aggregateKeyType: 'IP',
          scopeDownStatement: {
            byteMatchStatement: {
              fieldToMatch: { uriPath: {} },
              positionalConstraint: match,
              searchString: path,
              textTransformations: [{ priority: 0, type: 'NONE' }],
            },
          },
        },
      },
      visibilityConfig: visibility(name),
    });
    const managed = (name: string, priority: number): CfnWebACL.RuleProperty => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
      visibilityConfig: visibility(name),
    });
    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'CLOUDFRONT',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('MynaOidc'),
      rules: [
        rateRule('LoginRateLimit', 0, props.loginRateLimit, '/interaction/', 'STARTS_WITH'),
        rateRule('TokenRateLimit', 1, props.tokenRateLimit, '/token', 'EXACTLY'),
        managed('AWSManagedRulesAmazonIpReputationList', 2),
        managed('AWSManagedRulesKnownBadInputsRuleSet', 3),
      ],
    });
    new CfnOutput(this, 'WebAclArn', {
      value: this.webAcl.attrArn,
      description: 'Pass to the OP stack: -c webAclArn=<this>',
    });
  }
}

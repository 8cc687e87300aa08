/**
 * CloudFront in front of the HTTP API, carrying the WAF web ACL (WAFv2 cannot attach to an HTTP
 * API). No caching (every OP answer is per user or per request), all methods, every viewer header,
 * cookie and query string forwarded except Host (API Gateway routes on its own host name); TLS 1.2+
 * towards viewers and the origin. The issuer is the distribution's domain.
 *
 * The per-address rate limit reads `CloudFront-Viewer-Address` (functions/op/origin-verify.ts
 * clientAddressHeaderFor: only behind origin verification), which CloudFront adds itself; it reaches the OP only because the managed AllViewerExceptHostHeader
 * policy also forwards CloudFront's own headers (AWS documents that policy as "all viewer headers
 * except Host, and all CloudFront headers" — not verified against a live distribution here). A
 * custom policy cannot replace it: `allExcept` forwards viewer headers only, and an allow-list may
 * not name Authorization (which DPoP and Basic client auth need). Should the header ever be
 * missing, the OP counts CloudFront's edge address instead: many users in one bucket.
 *
 * CloudFront adds the origin-verify header (functions/op/origin-verify.ts) to every request it
 * forwards; its value is a CloudFormation dynamic reference to the origin-verify secret, resolved
 * at deploy time (the template holds only the reference). `originVerifyVersion` pins a version
 * id, so a deploy with a new id rolls a rotated value out (docs/deploy.md).
 */
import { SecretValue, Stack } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  HttpVersion,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  PriceClass,
  SecurityPolicyProtocol,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { AaaaRecord, ARecord, HostedZone, RecordTarget } from 'aws-cdk-lib/aws-route53';
import { CloudFrontTarget } from 'aws-cdk-lib/aws-route53-targets';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ORIGIN_VERIFY_HEADER } from '../../functions/op/origin-verify.js';
import { acknowledge } from './nag.js';

export interface OpEdgeProps {
  readonly api: IHttpApi;
  readonly domainName: string;
  /** ACM certificate in us-east-1 for domainName. */
  readonly edgeCertificateArn: string;
  readonly webAclArn: string;
  readonly hostedZone?: { readonly id: string; readonly name: string };
  readonly originVerifySecret: ISecret;
  readonly originVerifyVersion?: string;
}

export class OpEdge extends Construct {
  readonly distribution: Distribution;

  constructor(scope: Construct, id: string, props: OpEdgeProps) {
    super(scope, id);
    const originHost = `${props.api.apiId}.execute-api.${Stack.of(this).region}.${Stack.of(this).urlSuffix}`;
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'myna-oidc OP (WAF in front of the HTTP API)',
      defaultBehavior: {
        origin: new HttpOrigin(originHost, {
          protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
          customHeaders: {
            [ORIGIN_VERIFY_HEADER]: SecretValue.secretsManager(props.originVerifySecret.secretArn, {
              ...(props.originVerifyVersion ? { versionId: props.originVerifyVersion } : {}),
            }).unsafeUnwrap(),
          },
        }),
        allowedMethods: AllowedMethods.ALLOW_ALL,
        cachePolicy: CachePolicy.CACHING_DISABLED,
        originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
      },
      domainNames: [props.domainName],
      certificate: Certificate.fromCertificateArn(this, 'Certificate', props.edgeCertificateArn),
      minimumProtocolVersion: SecurityPolicyProtocol.TLS_V1_2_2021,
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: PriceClass.PRICE_CLASS_200,
      webAclId: props.webAclArn,
    });
    acknowledge(this.distribution, [
      {
        id: 'AwsSolutions-CFR1',
        reason:
          'No geo restriction: MyNumber card holders may log in from abroad (the card is usable overseas since 2024); abuse is limited per IP by the WAF rate rules.',
      },
      {
        id: 'AwsSolutions-CFR3',
        reason:
          'CloudFront standard logs would store every viewer IP (personal data); the API access log (no IPs), the OP JSON log and WAF metrics/sampled requests cover operations.',
      },
    ]);
    if (props.hostedZone) {
      const zone = HostedZone.fromHostedZoneAttributes(this, 'Zone', {
        hostedZoneId: props.hostedZone.id,
        zoneName: props.hostedZone.name,
      });
      const target = RecordTarget.fromAlias(new CloudFrontTarget(this.distribution));
      new ARecord(this, 'AliasA', { zone, recordName: props.domainName, target });
      new AaaaRecord(this, 'AliasAaaa', { zone, recordName: props.domainName, target });
    }
  }
}

/**
 * The HTTP API in front of the OP: one `$default` stage (no stage prefix in paths), the catch-all
 * `$default` route to the Lambda (the OP routes everything itself), access logs, and — when a
 * domain is configured — the custom domain with its ACM certificate as the only endpoint (the
 * execute-api URL is then disabled: the issuer is the domain, and cookies and origin checks are
 * bound to it). With a Route 53 zone, the alias records are created too. The stage throttles all
 * clients together (`throttle`: steady rate and burst), the first limit before the Lambda's
 * reserved concurrency.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { DomainName, HttpApi, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Certificate, CertificateValidation, type ICertificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { AaaaRecord, ARecord, HostedZone, RecordTarget } from 'aws-cdk-lib/aws-route53';
import { ApiGatewayv2DomainProperties } from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import { acknowledge } from './nag.js';

export interface OpApiProps {
  readonly handler: IFunction;
  readonly logRetention: RetentionDays;
  /** Custom domain (the issuer host) served by the API itself; unset: the execute-api URL. */
  readonly domain?: {
    readonly domainName: string;
    readonly certificateArn?: string;
    readonly hostedZone?: { readonly id: string; readonly name: string };
  };
  /** Keep the execute-api endpoint (CloudFront in front uses it as origin). */
  readonly keepExecuteApiEndpoint?: boolean;
  /** Stage throttling of every route: requests per second and burst. */
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
}

export class OpApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;
  readonly domainName?: DomainName;

  constructor(scope: Construct, id: string, props: OpApiProps) {
    super(scope, id);
    const { domain } = props;
    const zone = domain?.hostedZone
      ? HostedZone.fromHostedZoneAttributes(this, 'Zone', {
          hostedZoneId: domain.hostedZone.id,
          zoneName: domain.hostedZone.name,
        })
      : undefined;
    if (domain) {
      const certificate: ICertificate = domain.certificateArn
        ? Certificate.fromCertificateArn(this, 'Certificate', domain.certificateArn)
        : new Certificate(this, 'Certificate', {
            domainName: domain.domainName,
            validation: CertificateValidation.fromDns(zone),
          });
      this.domainName = new DomainName(this, 'Domain', { domainName: domain.domainName, certificate });
    }

    this.api = new HttpApi(this, 'Api', {
      description: 'myna-oidc OpenID Provider',
      defaultIntegration: new HttpLambdaIntegration('Op', props.handler),
      createDefaultStage: false,
      disableExecuteApiEndpoint: domain !== undefined && !props.keepExecuteApiEndpoint,
    });
    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttle.rateLimit, burstLimit: props.throttle.burstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        // No source IP, user agent or query string: the access log carries no personal data.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTimeEpoch',
            method: '$context.httpMethod',
            path: '$context.path',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            integrationStatus: '$context.integrationStatus',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
      ...(this.domainName ? { domainMapping: { domainName: this.domainName } } : {}),
    });

    if (zone && this.domainName && domain) {
      const target = RecordTarget.fromAlias(
        new ApiGatewayv2DomainProperties(
          this.domainName.regionalDomainName,
          this.domainName.regionalHostedZoneId,
        ),
      );
      new ARecord(this, 'AliasA', { zone, recordName: domain.domainName, target });
      new AaaaRecord(this, 'AliasAaaa', { zone, recordName: domain.domainName, target });
    }

    acknowledge(this.api, [
      {
        id: 'AwsSolutions-APIG4',
        reason:
          'The OpenID Provider endpoints are public by protocol: clients authenticate to the OP itself (client_secret / PKCE at /token), users with the MyNumber card; an API Gateway authorizer cannot express either.',
      },
    ]);
  }

  /** The API's own URL (https://<id>.execute-api.<region>.<suffix>). */
  get executeApiUrl(): string {
    return this.api.apiEndpoint;
  }
}

/**
 * CloudWatch alarms for the OP: Lambda errors and throttles, API 5xx, DynamoDB throttling, and the
 * login failure rate from the OP's JSON log events (`login.succeeded` / `login.refused`, written by
 * functions/op/interactions/routes.ts), and back-channel logout deliveries that failed
 * (`backchannel.delivery_failed`, from the OP and from the notification job). Optionally an SNS
 * topic (with an e-mail subscription) that every alarm notifies.
 */
import { Duration } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { FilterPattern, type ILogGroup, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** Namespace of the metrics derived from the OP's log. */
export const METRIC_NAMESPACE = 'MynaOidc';
/** The log event of a back-channel logout delivery that failed (OP and notification job). */
export const BACKCHANNEL_DELIVERY_FAILED_EVENT = 'backchannel.delivery_failed';
/** The metric counting it (one filter per log group, one metric). */
const BACKCHANNEL_FAILED_METRIC = 'BackchannelDeliveryFailed';

/** The OP's log events counted for the login failure rate. */
export const LOGIN_EVENTS = { succeeded: 'login.succeeded', refused: 'login.refused' } as const;

export interface OpAlarmsProps {
  readonly handler: IFunction;
  readonly logGroup: ILogGroup;
  readonly api: IHttpApi;
  readonly table: ITable;
  readonly alarmEmail?: string;
  readonly alarmTopicArn?: string;
}

const FIVE_MINUTES = Duration.minutes(5);

export class OpAlarms extends Construct {
  readonly alarms: Alarm[] = [];
  readonly topic?: ITopic;

  constructor(scope: Construct, id: string, props: OpAlarmsProps) {
    super(scope, id);
    if (props.alarmTopicArn) this.topic = Topic.fromTopicArn(this, 'Topic', props.alarmTopicArn);
    else if (props.alarmEmail) {
      const topic = new Topic(this, 'Topic', { displayName: 'myna-oidc alarms', enforceSSL: true });
      topic.addSubscription(new EmailSubscription(props.alarmEmail));
      this.topic = topic;
    }

    const counted = (name: string, event: string): Metric => {
      new MetricFilter(this, `${name}Filter`, {
        logGroup: props.logGroup,
        filterPattern: FilterPattern.stringValue('$.event', '=', event),
        metricNamespace: METRIC_NAMESPACE,
        metricName: name,
        metricValue: '1',
        defaultValue: 0,
      });
      return new Metric({
        namespace: METRIC_NAMESPACE,
        metricName: name,
        statistic: 'Sum',
        period: FIVE_MINUTES,
      });
    };
    this.countBackchannelFailures('Op', props.logGroup);
    const succeeded = counted('LoginSucceeded', LOGIN_EVENTS.succeeded);
    const refused = counted('LoginRefused', LOGIN_EVENTS.refused);

    this.add(
      'LambdaErrors',
      'OP Lambda errors (uncaught failures, timeouts)',
      props.handler.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
      1,
    );
    this.add(
      'LambdaThrottles',
      'OP Lambda throttled (reserved or account concurrency exhausted)',
      props.handler.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
      1,
    );
    this.add(
      'Api5xx',
      'HTTP API 5xx answers',
      props.api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
      5,
    );
    const tableMetric = (metricName: string) =>
      new Metric({
        namespace: 'AWS/DynamoDB',
        metricName,
        dimensionsMap: { TableName: props.table.tableName },
        statistic: 'Sum',
        period: FIVE_MINUTES,
      });
    this.add(
      'DynamoThrottles',
      'DynamoDB read or write throttle events on the OP table',
      new MathExpression({
        expression: 'reads + writes',
        usingMetrics: {
          reads: tableMetric('ReadThrottleEvents'),
          writes: tableMetric('WriteThrottleEvents'),
        },
        period: FIVE_MINUTES,
        label: 'Throttle events',
      }),
      1,
    );
    this.add(
      'LoginFailureRate',
      'Half or more of card logins refused (at least 20 attempts in 5 minutes): a broken trust-anchor or CRL set, clock skew, or an attack',
      new MathExpression({
        expression: 'IF((ok + refused) >= 20, 100 * refused / (ok + refused), 0)',
        usingMetrics: { ok: succeeded, refused },
        period: FIVE_MINUTES,
        label: 'Login failure rate (%)',
      }),
      50,
      2,
    );
  }

  /** Counts `backchannel.delivery_failed` events of `logGroup` into the shared metric. */
  private countBackchannelFailures(source: string, logGroup: ILogGroup): void {
    new MetricFilter(this, `${source}BackchannelFailedFilter`, {
      logGroup,
      filterPattern: FilterPattern.stringValue('$.event', '=', BACKCHANNEL_DELIVERY_FAILED_EVENT),
      metricNamespace: METRIC_NAMESPACE,
      metricName: BACKCHANNEL_FAILED_METRIC,
      metricValue: '1',
      defaultValue: 0,
    });
  }

  /** Alarms of the revocation notification job: its errors, and notifications given up on. */
  watchNotifyJob(handler: IFunction, logGroup: ILogGroup): void {
    this.countBackchannelFailures('Notify', logGroup);
    this.add(
      'BackchannelDeliveryFailed',
      'back-channel logout deliveries to RPs failed (OP or notification job): an RP endpoint is down or refusing logout tokens',
      new Metric({
        namespace: METRIC_NAMESPACE,
        metricName: BACKCHANNEL_FAILED_METRIC,
        statistic: 'Sum',
        period: FIVE_MINUTES,
      }),
      1,
    );
    const filter = new MetricFilter(this, 'NotifyFailedFilter', {
      logGroup,
      filterPattern: FilterPattern.stringValue('$.event', '=', 'revocation.notify.failed'),
      metricNamespace: METRIC_NAMESPACE,
      metricName: 'RevocationNotifyFailed',
      metricValue: '1',
      defaultValue: 0,
    });
    this.add(
      'NotifyJobErrors',
      'revocation notification job Lambda errors (a run failed; the next run resumes it)',
      handler.metricErrors({ period: Duration.minutes(15), statistic: 'Sum' }),
      1,
    );
    this.add(
      'NotifyFailed',
      'a back-channel logout notification was given up after all retries (see the audit record)',
      filter.metric({ period: Duration.minutes(15), statistic: 'Sum' }),
      1,
    );
  }

  private add(
    id: string,
    description: string,
    metric: Metric | MathExpression,
    threshold: number,
    periods = 1,
  ) {
    const alarm = new Alarm(this, id, {
      alarmDescription: `myna-oidc: ${description}`,
      metric,
      threshold,
      evaluationPeriods: periods,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    if (this.topic) {
      alarm.addAlarmAction(new SnsAction(this.topic));
      alarm.addOkAction(new SnsAction(this.topic));
    }
    this.alarms.push(alarm);
  }
}

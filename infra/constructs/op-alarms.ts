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
      this.countEvent(`${name}Filter`, props.logGroup, event, name);
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
    this.countEvent(
      `${source}BackchannelFailedFilter`,
      logGroup,
      BACKCHANNEL_DELIVERY_FAILED_EVENT,
      BACKCHANNEL_FAILED_METRIC,
    );
  }

  /** A metric filter `id` counting (1 each) the JSON log lines of `logGroup` whose event is `event`. */
  private countEvent(id: string, logGroup: ILogGroup, event: string, metricName: string): MetricFilter {
    return new MetricFilter(this, id, {
      logGroup,
      filterPattern: FilterPattern.stringValue('$.event', '=', event),
      metricNamespace: METRIC_NAMESPACE,
      metricName,
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
    const filter = this.countEvent(
      'NotifyFailedFilter',
      logGroup,
      'revocation.notify.failed',
      'RevocationNotifyFailed',
    );
    this.watchBackgroundFunction(
      handler,
      [
        'NotifyJobErrors',
        'revocation notification job Lambda errors (a run failed; the next run resumes it)',
      ],
      [
        'NotifyFailed',
        'a back-channel logout notification was given up after all retries (see the audit record)',
        filter,
      ],
    );
  }

  /**
   * The logout-token signer's errors, and every refused signing request: the notification job never
   * asks for anything but a logout token, so a refusal means something else is asking (or a client
   * was removed while its logout was queued).
   */
  watchLogoutSigner(handler: IFunction, logGroup: ILogGroup): void {
    const refused = this.countEvent(
      'LogoutTokenRefusedFilter',
      logGroup,
      'logout_token.refused',
      'LogoutTokenRefused',
    );
    this.watchBackgroundFunction(
      handler,
      [
        'LogoutSignerErrors',
        'logout-token signer Lambda errors (logout tokens cannot be signed; deliveries retry)',
      ],
      [
        'LogoutTokenRefused',
        'the logout-token signer refused a request that is not a well-formed logout token (check who invokes it)',
        refused,
      ],
    );
  }

  /** Two alarms on any occurrence in 15 minutes: `handler`'s Lambda errors, and the events `events` counts. */
  private watchBackgroundFunction(
    handler: IFunction,
    [errorsId, errorsDescription]: [string, string],
    [eventsId, eventsDescription, events]: [string, string, MetricFilter],
  ): void {
    const period = Duration.minutes(15);
    this.add(errorsId, errorsDescription, handler.metricErrors({ period, statistic: 'Sum' }), 1);
    this.add(eventsId, eventsDescription, events.metric({ period, statistic: 'Sum' }), 1);
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

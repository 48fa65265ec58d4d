import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Alarm, ComparisonOperator, type Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { EventField, Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { LambdaFunction, SnsTopic } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { UNSUCCESSFUL_STATUSES } from '../../lambdas/shared/execution-events.js';

export interface ObservabilityProps {
  stateMachine: StateMachine;
  webhook: IFunction;
  /** The notify Lambda: also told about runs that ended unsuccessfully before their Notify state (outages). */
  notify: IFunction;
  /** The release-ticket Lambda: tags the ticket vault_failed after every unsuccessful end. */
  release: IFunction;
  api: HttpApi;
  alarmEmail: string | undefined;
  /** Console link builder: the execution ARN (a token or EventBridge field) in, a URL out. */
  executionConsoleUrl: (executionArn: string) => string;
}

/** Statuses an operator must look at; each one can be redriven within 14 days. */
export const ALERT_STATUSES = UNSUCCESSFUL_STATUSES;

/**
 * Alerts to one encrypted SNS topic (optionally e-mailed): CloudWatch alarms on the state machine's
 * failed / timed-out / aborted executions, the API's 5xx and the webhook Lambda's errors, plus one
 * EventBridge message per unsuccessful execution with a console link for redrive.
 */
export class Observability extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const account = Stack.of(this).account;

    // A customer managed key: the AWS managed SNS key cannot grant CloudWatch or EventBridge access.
    const key = new Key(this, 'AlertsKey', {
      description: 'attachment-vault: encrypts the alerts topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // CloudWatch alarms publish with this key; the EventBridge target below adds its own grant for events.
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': account } },
      }),
    );

    this.topic = new Topic(this, 'AlertsTopic', {
      displayName: 'attachment-vault alerts',
      masterKey: key,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));

    const sm = props.stateMachine;
    this.alarm('ExecutionsFailed', sm.metricFailed(), 'An archive run failed: see the execution history, fix, then redrive.');
    this.alarm('ExecutionsTimedOut', sm.metricTimedOut(), 'An archive run timed out: redrive it within 14 days.');
    this.alarm('ExecutionsAborted', sm.metricAborted(), 'An archive run was aborted (stopped by someone or by the service).');
    this.alarm('WebhookApi5xx', props.api.metricServerError(), 'The webhook API answered 5xx: Zendesk will retry, then may deactivate the webhook.');
    this.alarm('WebhookErrors', props.webhook.metricErrors(), 'The webhook Lambda threw: deliveries may not have started a run.');

    new Rule(this, 'UnsuccessfulExecutions', {
      description: 'attachment-vault: one alert per execution that ends FAILED, TIMED_OUT or ABORTED',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { status: [...ALERT_STATUSES], stateMachineArn: [sm.stateMachineArn] },
      },
      targets: [
        new SnsTopic(this.topic, {
          message: RuleTargetInput.fromText(
            `attachment-vault: execution ${EventField.fromPath('$.detail.name')} ended ` +
              `${EventField.fromPath('$.detail.status')}. Open it (and redrive within 14 days): ` +
              props.executionConsoleUrl(EventField.fromPath('$.detail.executionArn')),
          ),
        }),
        // The ticket shows vault_failed, never vault_processing, after an unsuccessful end (a no-op when FinishTicket
        // tagged it already). Retried by the asynchronous invoke for up to six hours: Zendesk may be the outage.
        new LambdaFunction(props.release, { retryAttempts: 2, maxEventAge: Duration.hours(6) }),
        // The team hears about an interrupted run in Slack too; the Lambda skips runs whose Notify state already ran.
        new LambdaFunction(props.notify, { retryAttempts: 2, maxEventAge: Duration.hours(1) }),
      ],
    });
  }

  private alarm(id: string, metric: Metric, description: string): void {
    const alarm = new Alarm(this, id, {
      alarmDescription: `attachment-vault: ${description}`,
      metric: metric.with({ statistic: 'Sum', period: Duration.minutes(5) }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}

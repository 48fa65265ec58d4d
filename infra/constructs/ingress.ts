import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogField, AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination, PayloadFormatVersion } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DELIVERY_KEY_PREFIX } from '../../lambdas/webhook/deliveries.js';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { LAMBDA_ENTRIES } from '../project.js';
import { VaultSecrets } from './secrets.js';
import { VaultFunction } from './vault-function.js';

export interface IngressProps {
  stateMachine: StateMachine;
  /** The idempotency table, where the webhook records the deliveries it accepted (lambdas/webhook/deliveries.ts). */
  idempotencyTable: Table;
  secrets: VaultSecrets;
  environment: Record<string, string>;
  webhookTimestampToleranceSeconds: number;
  throttle: { rateLimit: number; burstLimit: number };
  logRetention: RetentionDays;
}

export const WEBHOOK_PATH = '/webhooks/zendesk';

/**
 * `POST /webhooks/zendesk` -> webhook Lambda (verifies Zendesk's HMAC signature, starts one execution).
 *
 * HTTP API, not REST API. The webhook is one low-volume route authenticated by an HMAC over the body, which
 * only the Lambda can check (authorizers never see the body), so REST API's extras do not pay: usage plans
 * and API keys (Zendesk sends no key), WAF (an allow-list of Zendesk's changing egress IPs would be a second,
 * weaker check) and request validation (the Lambda validates after verifying the signature). HTTP API is
 * cheaper and faster and still gives stage throttling and access logs. Its payload v2 lower-cases header
 * names and may base64-encode the body (`isBase64Encoded`): the handler lower-cases lookups and signs the
 * decoded bytes. If WAF becomes a requirement, move to REST API.
 */
export class Ingress extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly webhook: VaultFunction;
  readonly accessLogs: LogGroup;
  readonly webhookUrl: string;

  constructor(scope: Construct, id: string, props: IngressProps) {
    super(scope, id);

    this.webhook = new VaultFunction(this, 'Webhook', {
      entry: LAMBDA_ENTRIES.webhook,
      description: 'attachment-vault webhook: verify the Zendesk signature and start the workflow',
      memorySize: 256,
      timeout: Duration.seconds(10), // well inside API Gateway's 30 s integration timeout
      logRetention: props.logRetention,
      environment: {
        ...props.environment,
        STATE_MACHINE_ARN: props.stateMachine.stateMachineArn,
        IDEMPOTENCY_TABLE: props.idempotencyTable.tableName,
        WEBHOOK_SECRET_ARN: props.secrets.webhookSigning.secretArn,
        WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS: String(props.webhookTimestampToleranceSeconds),
      },
    });
    // The only principal that may start executions.
    props.stateMachine.grantStartExecution(this.webhook.role);
    VaultSecrets.grantGetValue(props.secrets.webhookSigning, this.webhook.role);
    // Only its own items: keys under webhook# (the table also holds the steps' Powertools records).
    this.webhook.role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'RecordDeliveries',
        actions: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem'],
        resources: [props.idempotencyTable.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${DELIVERY_KEY_PREFIX}*`] } },
      }),
    );
    Validations.of(this.webhook).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions.',
    });

    this.api = new HttpApi(this, 'Api', {
      description: 'attachment-vault: Zendesk webhook receiver',
      createDefaultStage: false,
    });

    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        // Request metadata only: no headers, no body, no query string.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: AccessLogField.contextRequestId(),
            requestTime: AccessLogField.contextRequestTime(),
            sourceIp: AccessLogField.contextIdentitySourceIp(),
            userAgent: AccessLogField.contextIdentityUserAgent(),
            routeKey: '$context.routeKey',
            status: AccessLogField.contextStatus(),
            responseLength: AccessLogField.contextResponseLength(),
            integrationStatus: '$context.integrationStatus',
            integrationLatency: AccessLogField.contextIntegrationLatency(),
            integrationError: '$context.integrationErrorMessage',
            error: AccessLogField.contextErrorMessage(),
          }),
        ),
      },
    });

    const [route] = this.api.addRoutes({
      path: WEBHOOK_PATH,
      methods: [HttpMethod.POST],
      integration: new HttpLambdaIntegration('WebhookIntegration', this.webhook.fn, {
        payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
      }),
    });
    Validations.of(route ?? this.api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: 'Zendesk webhooks cannot present IAM, JWT or Cognito credentials. Each request is authenticated by its HMAC-SHA256 signature and timestamp, verified in the webhook Lambda (authorizers never see the body).',
    });

    // The $default stage is served at the API's root: no stage segment in the URL.
    this.webhookUrl = `${this.api.apiEndpoint}${WEBHOOK_PATH}`;
  }
}

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Match } from 'aws-cdk-lib/assertions';
import { ALERT_STATUSES } from '../../infra/constructs/observability.js';
import { logicalId, type Statement, synthVault, type VaultSynth } from './support/vault.js';

let vault: VaultSynth;

beforeAll(() => {
  // One synthesis with non-default settings, so the tests also see them flow through.
  vault = synthVault({ context: { alarmEmail: 'ops@acme.com', apiThrottleRateLimit: '25', apiThrottleBurstLimit: 50 } });
});

afterAll(() => vault?.cleanup());

const resolve = (value: unknown) => vault.stack.resolve(value);

describe('ingress', () => {
  it('is an HTTP API with one route, POST /webhooks/zendesk, proxied to the webhook Lambda (payload 2.0)', () => {
    // Two HTTP APIs: this one, and the viewer's (viewer.test.ts).
    vault.template.resourceCountIs('AWS::ApiGatewayV2::Api', 2);
    vault.template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    const apiId = resolve(vault.stack.ingress.api.apiId);
    const routes = Object.values(vault.template.findResources('AWS::ApiGatewayV2::Route')) as Array<{ Properties: { RouteKey: string; ApiId: unknown } }>;
    expect(routes.filter((r) => JSON.stringify(r.Properties.ApiId) === JSON.stringify(apiId)).map((r) => r.Properties.RouteKey)).toEqual(['POST /webhooks/zendesk']);
    vault.template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: resolve(vault.stack.ingress.webhook.fn.functionArn),
    });
    vault.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: resolve(vault.stack.ingress.webhook.fn.functionArn),
      Principal: 'apigateway.amazonaws.com',
    });
  });

  it('throttles the $default stage and writes JSON access logs without headers or body', () => {
    const apiId = JSON.stringify(resolve(vault.stack.ingress.api.apiId));
    const stage = (Object.values(vault.template.findResources('AWS::ApiGatewayV2::Stage')) as Array<{ Properties: Record<string, unknown> }>).find((s) => JSON.stringify(s.Properties.ApiId) === apiId)!;
    expect(stage.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 25, ThrottlingBurstLimit: 50 },
      AccessLogSettings: { DestinationArn: resolve(vault.stack.ingress.accessLogs.logGroupArn) },
    });
    const format = JSON.parse((stage.Properties.AccessLogSettings as { Format: string }).Format) as Record<string, string>;
    expect(format.requestId).toBe('$context.requestId');
    expect(format.status).toBe('$context.status');
    expect(JSON.stringify(format)).not.toMatch(/header|requestBody|querystring/i);
  });

  it('outputs the webhook URL', () => {
    vault.template.hasOutput('WebhookUrl', {
      Value: { 'Fn::Join': ['', [resolve(vault.stack.ingress.api.apiEndpoint), '/webhooks/zendesk']] },
    });
  });
});

describe('alerts', () => {
  const topicRef = () => ({ Ref: logicalId(vault.stack.observability.topic) });

  function alarm(metricName: string): Record<string, unknown> {
    const alarms = vault.template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: metricName } });
    const values = Object.values(alarms);
    expect(values).toHaveLength(1);
    return (values[0] as { Properties: Record<string, unknown> }).Properties;
  }

  it.each(['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted'])('alarms on the state machine’s %s', (metric) => {
    expect(alarm(metric)).toMatchObject({
      Namespace: 'AWS/States',
      Dimensions: [{ Name: 'StateMachineArn', Value: resolve(vault.stack.workflow.stateMachine.stateMachineArn) }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef()],
    });
  });

  it('alarms on the webhook API’s 5xx and the webhook Lambda’s errors', () => {
    expect(alarm('5xx')).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      Dimensions: [{ Name: 'ApiId', Value: resolve(vault.stack.ingress.api.apiId) }],
      AlarmActions: [topicRef()],
    });
    expect(alarm('Errors')).toMatchObject({
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: resolve(vault.stack.ingress.webhook.fn.functionName) }],
      AlarmActions: [topicRef()],
    });
  });

  it('sends every FAILED, TIMED_OUT or ABORTED end of this state machine to the topic, to release-ticket (vault_failed) and to notify', () => {
    vault.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { status: [...ALERT_STATUSES], stateMachineArn: [resolve(vault.stack.workflow.stateMachine.stateMachineArn)] },
      },
      Targets: [
        Match.objectLike({ Arn: topicRef(), InputTransformer: Match.objectLike({ InputPathsMap: Match.objectLike({ 'detail-executionArn': '$.detail.executionArn' }) }) }),
        // The whole event (no input transformer) goes to release-ticket, which tags the ticket vault_failed, and to
        // notify, which reports runs interrupted before their Notify state.
        Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(vault.stack.workflow.release.fn), 'Arn'] }, Input: Match.absent(), InputTransformer: Match.absent() }),
        Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(vault.stack.workflow.steps.NotifyFunctionArn.fn), 'Arn'] }, Input: Match.absent(), InputTransformer: Match.absent() }),
      ],
    });
    for (const fn of [vault.stack.workflow.steps.NotifyFunctionArn.fn, vault.stack.workflow.release.fn]) {
      vault.template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [logicalId(fn), 'Arn'] },
      });
    }
  });

  it('publishes to a topic encrypted with a rotating customer managed key, TLS only', () => {
    const keyId = (vault.template.findResources('AWS::SNS::Topic')[logicalId(vault.stack.observability.topic)] as {
      Properties: { KmsMasterKeyId: { 'Fn::GetAtt': [string, string] } };
    }).Properties.KmsMasterKeyId['Fn::GetAtt'][0];
    const key = vault.template.findResources('AWS::KMS::Key')[keyId] as { Properties: { EnableKeyRotation: boolean; KeyPolicy: { Statement: Statement[] } } };
    expect(key.Properties.EnableKeyRotation).toBe(true);
    const services = key.Properties.KeyPolicy.Statement.map((s) => (s.Principal as { Service?: string }).Service).filter(Boolean);
    expect(new Set(services)).toEqual(new Set(['cloudwatch.amazonaws.com', 'events.amazonaws.com']));

    const policy = Object.values(vault.template.findResources('AWS::SNS::TopicPolicy'))[0] as { Properties: { PolicyDocument: { Statement: Statement[] } } };
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('e-mails alarmEmail when it is set', () => {
    vault.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@acme.com', TopicArn: topicRef() });
  });
});

describe('idempotency table', () => {
  it('is keyed by id, on demand, with TTL on expiration, PITR, encryption, retained', () => {
    vault.template.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      },
      DeletionPolicy: 'Retain',
    });
  });
});

describe('secrets', () => {
  it('are three placeholders with the documented JSON shapes and empty values', () => {
    const secrets = Object.values(vault.template.findResources('AWS::SecretsManager::Secret')).map(
      (s) => JSON.parse((s as { Properties: { SecretString: string } }).Properties.SecretString) as Record<string, string>,
    );
    expect(secrets.map((s) => Object.keys(s).sort().join(',')).sort()).toEqual(['apiToken,email', 'secret', 'url']);
    expect(secrets.flatMap((s) => Object.values(s))).toEqual(['', '', '', '']);
  });

  it('are output by ARN for the operator to fill', () => {
    for (const name of ['ZendeskSecretArn', 'WebhookSecretArn', 'NotifySecretArn']) vault.template.hasOutput(name, {});
  });
});

import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createLambdaIngress, handler, normalizeEvent, type ApiGatewayEvent } from '../../../lambdas/webhook/handler.js';
import { signZendeskPayload } from '../../../lambdas/shared/signature.js';
import { awsError, BODY, SECRET, signedRequest } from './fixtures.js';

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:111122223333:stateMachine:attachment-vault';
const sfn = mockClient(SFNClient);
const ddb = mockClient(DynamoDBClient);

/** Signed "now" so the handler (real clock) accepts the request. */
function freshRequest(body = BODY) {
  const timestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  return signedRequest(body, {
    'x-zendesk-webhook-signature-timestamp': timestamp,
    'x-zendesk-webhook-signature': signZendeskPayload(SECRET, timestamp, Buffer.from(body)),
  });
}

/** HTTP API payload v2: lower-case headers, body possibly base64. */
function httpApiEvent(request: ReturnType<typeof freshRequest>, base64 = false): ApiGatewayEvent {
  return {
    version: '2.0',
    requestContext: { http: { method: request.method } },
    headers: request.headers,
    body: base64 ? request.rawBody.toString('base64') : request.rawBody.toString('utf8'),
    isBase64Encoded: base64,
  };
}

/** REST API v1: header case as sent, plus multiValueHeaders. */
function restApiEvent(request: ReturnType<typeof freshRequest>, base64 = false): ApiGatewayEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const cased = name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
    headers[cased] = value;
    multiValueHeaders[cased] = [value];
  }
  return {
    httpMethod: request.method,
    headers,
    multiValueHeaders,
    body: base64 ? request.rawBody.toString('base64') : request.rawBody.toString('utf8'),
    isBase64Encoded: base64,
  };
}

const env = { STATE_MACHINE_ARN, ZENDESK_WEBHOOK_SECRET: SECRET, IDEMPOTENCY_TABLE: 'vault-idempotency' };

beforeEach(() => {
  sfn.reset();
  ddb.reset();
  ddb.on(PutItemCommand).resolves({});
  ddb.on(DeleteItemCommand).resolves({});
});

describe('webhook handler', () => {
  it('normalizes v2 and v1 events to lower-case headers and raw bytes', () => {
    const request = freshRequest();
    for (const event of [httpApiEvent(request), restApiEvent(request), httpApiEvent(request, true), restApiEvent(request, true)]) {
      const normalized = normalizeEvent(event);
      expect(normalized.method).toBe('POST');
      expect(normalized.headers['x-zendesk-webhook-signature']).toBe(request.headers['x-zendesk-webhook-signature']);
      expect(normalized.rawBody.equals(request.rawBody)).toBe(true);
    }
  });

  it('starts the execution with the state machine ARN, the name and the deterministic input', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${STATE_MACHINE_ARN}:x`, startDate: new Date() });
    const ingress = createLambdaIngress(env, new SFNClient({ region: 'eu-west-1' }));
    const res = await ingress(normalizeEvent(httpApiEvent(freshRequest())));
    expect(res.statusCode).toBe(202);
    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      stateMachineArn: STATE_MACHINE_ARN,
      name: 'zd-12345-8350205582',
      input: JSON.stringify({
        ticketId: '12345',
        source: 'webhook',
        invocationId: '8350205582',
        webhookId: '01F1KRFQ6BG29CNWFR60NK5FNY',
      }),
    });
  });

  it('verifies a base64-encoded body over the decoded bytes (non-ASCII body)', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });
    const ingress = createLambdaIngress(env, new SFNClient({ region: 'eu-west-1' }));
    const body = '{"ticket_id":"42","note":"café ✓"}';
    const v2 = await ingress(normalizeEvent(httpApiEvent(freshRequest(body), true)));
    const v1 = await ingress(normalizeEvent(restApiEvent(freshRequest(body), true)));
    expect([v2.statusCode, v1.statusCode]).toEqual([202, 202]);
  });

  it('rejects a base64 body verified as if it were the text (401)', async () => {
    const ingress = createLambdaIngress(env, new SFNClient({ region: 'eu-west-1' }));
    const event = httpApiEvent(freshRequest(), true);
    const res = await ingress(normalizeEvent({ ...event, isBase64Encoded: false }));
    expect(res.statusCode).not.toBe(202);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('answers 200 duplicate on ExecutionAlreadyExists', async () => {
    sfn.on(StartExecutionCommand).rejects(awsError('ExecutionAlreadyExists', 400));
    const ingress = createLambdaIngress(env, new SFNClient({ region: 'eu-west-1' }));
    const res = await ingress(normalizeEvent(restApiEvent(freshRequest())));
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ executionName: 'zd-12345-8350205582', duplicate: true });
  });

  it('answers 503 with Retry-After when Step Functions throttles', async () => {
    sfn.on(StartExecutionCommand).rejects(awsError('ThrottlingException', 400));
    const ingress = createLambdaIngress(env, new SFNClient({ region: 'eu-west-1' }));
    const res = await ingress(normalizeEvent(httpApiEvent(freshRequest())));
    expect(res.statusCode).toBe(503);
    expect(res.headers['Retry-After']).toBe('30');
  });

  it('reads the timestamp window from WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });
    const old = new Date(Date.now() - 120_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const request = signedRequest(BODY, {
      'x-zendesk-webhook-signature-timestamp': old,
      'x-zendesk-webhook-signature': signZendeskPayload(SECRET, old, Buffer.from(BODY)),
    });
    const strict = createLambdaIngress({ ...env, WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS: '60' }, new SFNClient({ region: 'eu-west-1' }));
    const lenient = createLambdaIngress(env, new SFNClient({ region: 'eu-west-1' }));
    expect((await strict(request)).statusCode).toBe(401);
    expect((await lenient(request)).statusCode).toBe(202);
    expect(() => createLambdaIngress({ ...env, WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS: 'soon' })).toThrow('WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS');
  });

  it('refuses to build without STATE_MACHINE_ARN', () => {
    expect(() => createLambdaIngress({ ZENDESK_WEBHOOK_SECRET: SECRET })).toThrow('STATE_MACHINE_ARN');
  });

  describe('the exported Lambda handler', () => {
    const saved = { ...process.env };
    afterEach(() => {
      process.env = { ...saved };
    });

    it('answers API Gateway with the core response and isBase64Encoded false', async () => {
      process.env.STATE_MACHINE_ARN = STATE_MACHINE_ARN;
      process.env.ZENDESK_WEBHOOK_SECRET = SECRET;
      process.env.AWS_REGION = 'eu-west-1';
      process.env.IDEMPOTENCY_TABLE = 'vault-idempotency';
      delete process.env.WEBHOOK_SECRET_ARN;
      sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });
      const res = await handler(httpApiEvent(freshRequest(), true));
      expect(res).toMatchObject({ statusCode: 202, isBase64Encoded: false });
      expect(JSON.parse(res.body)).toEqual({ executionName: 'zd-12345-8350205582' });
      expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.stateMachineArn).toBe(STATE_MACHINE_ARN);
    });
  });
});

describe('the record of accepted deliveries (idempotency table)', () => {
  it('claims the invocation id under webhook# with a TTL before starting, only if no record holds it', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${STATE_MACHINE_ARN}:x`, startDate: new Date() });
    const ingress = createLambdaIngress(env, new SFNClient({ region: 'eu-west-1' }));
    expect((await ingress(normalizeEvent(httpApiEvent(freshRequest())))).statusCode).toBe(202);
    const [put] = ddb.commandCalls(PutItemCommand);
    expect(put!.args[0].input).toMatchObject({
      TableName: 'vault-idempotency',
      Item: { id: { S: 'webhook#invocation#8350205582' }, executionName: { S: 'zd-12345-8350205582' } },
      ConditionExpression: 'attribute_not_exists(id)',
    });
    const ttl = Number(put!.args[0].input.Item!.expiration!.N);
    expect(ttl - Date.now() / 1000).toBeGreaterThan(86_400);
  });

  it('answers a repeat 200 with the first execution, and starts nothing (even while the first still runs)', async () => {
    ddb.on(PutItemCommand).rejects(new ConditionalCheckFailedException({ message: 'held', $metadata: {} }));
    ddb.on(GetItemCommand).resolves({ Item: { executionName: { S: 'zd-12345-8350205582' } } });
    const ingress = createLambdaIngress(env, new SFNClient({ region: 'eu-west-1' }));
    const res = await ingress(normalizeEvent(httpApiEvent(freshRequest())));
    expect([res.statusCode, JSON.parse(res.body)]).toEqual([200, { executionName: 'zd-12345-8350205582', duplicate: true }]);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('gives the claim back when Step Functions throttles, so that Zendesk\'s retry can start the run', async () => {
    sfn.on(StartExecutionCommand).rejects(awsError('ThrottlingException', 400));
    const ingress = createLambdaIngress(env, new SFNClient({ region: 'eu-west-1' }));
    expect((await ingress(normalizeEvent(httpApiEvent(freshRequest())))).statusCode).toBe(503);
    expect(ddb.commandCalls(DeleteItemCommand).map((c) => c.args[0].input.Key!.id!.S)).toEqual(['webhook#invocation#8350205582', expect.stringMatching(/^webhook#content#[0-9a-f]{64}$/)]);
  });

  it('answers 503 (Zendesk retries) when the record cannot be written, and starts nothing', async () => {
    ddb.on(PutItemCommand).rejects(awsError('ProvisionedThroughputExceededException', 400));
    const ingress = createLambdaIngress(env, new SFNClient({ region: 'eu-west-1' }));
    const res = await ingress(normalizeEvent(httpApiEvent(freshRequest())));
    expect([res.statusCode, res.headers['Retry-After']]).toEqual([503, '30']);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});

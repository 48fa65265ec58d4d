/**
 * The adapters the deployed harness added for the archive's reading side, on their own: API Gateway's route selection
 * and payload 2.0 event, the JWT authorizer's verdicts, the local STS, and tables created as CloudFormation does; and
 * for the backfill: one Step Functions endpoint over several state machines, and a startExecution.sync:2 Task served
 * by its integration in an engine whose Lambda Tasks are invoked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { CallLog } from '../../local/deployed/calls.js';
import { HarnessConfigurationError } from '../../local/deployed/errors.js';
import { selectRoute, startHttpApi, type HttpApiRoute, type LocalHttpApi } from '../../local/deployed/http-api.js';
import { LocalJwtIssuer } from '../../local/deployed/jwt.js';
import { startLocalSts, type LocalSts } from '../../local/deployed/sts.js';
import { createTableInput } from '../../local/deployed/tables.js';
import { LocalEngine } from '../../local/runtime/engine.js';
import { START_EXECUTION_SYNC, startExecutionSync } from '../../local/runtime/nested-execution.js';
import { startSfnEndpoint, type SfnEndpoint } from '../../local/runtime/sfn-endpoint.js';

const ok = async () => ({ ok: true as const, payload: '{}' });
const route = (routeKey: string, extra: Partial<HttpApiRoute> = {}): HttpApiRoute => ({ routeKey, invoke: ok, ...extra });

describe('HTTP API routes', () => {
  const routes = [route('GET /'), route('GET /api/me'), route('GET /api/{proxy+}'), route('ANY /api/{proxy+}'), route('GET /tickets/{id}'), route('$default')];
  const pick = (method: string, path: string) => {
    const matched = selectRoute(routes, method, path);
    return [matched?.route.routeKey, matched?.pathParameters];
  };

  it('selects the most specific route: exact, then variables, then greedy, then $default; a method over ANY', () => {
    expect(pick('GET', '/api/me')).toEqual(['GET /api/me', undefined]);
    expect(pick('GET', '/api/files')).toEqual(['GET /api/{proxy+}', { proxy: 'files' }]);
    expect(pick('POST', '/api/open')).toEqual(['ANY /api/{proxy+}', { proxy: 'open' }]);
    expect(pick('GET', '/api/a/b')).toEqual(['GET /api/{proxy+}', { proxy: 'a/b' }]);
    expect(pick('GET', '/tickets/42')).toEqual(['GET /tickets/{id}', { id: '42' }]);
    expect(pick('GET', '/tickets/42/x')).toEqual(['$default', undefined]);
    expect(pick('GET', '/api')).toEqual(['$default', undefined]);
  });
});

describe('JWT authorizer', () => {
  const issuer = new LocalJwtIssuer();
  const config = { issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/pool', audience: ['client'] };
  const token = (claims: Record<string, unknown>) => issuer.issue({ iss: config.issuer, aud: 'client', sub: 'u-1', ...claims });

  it('accepts a token of the issuer and audience, with or without Bearer, and passes claims as API Gateway flattens them', () => {
    const verified = issuer.verify(`Bearer ${token({ 'cognito:groups': ['vault-readers', 'admins'], auth_time: 12 })}`, config);
    expect(verified?.claims).toMatchObject({ sub: 'u-1', 'cognito:groups': '[vault-readers admins]', auth_time: '12', iss: config.issuer });
    expect(issuer.verify(token({}), config)).toBeDefined();
    // An access token names its client in client_id instead of aud.
    expect(issuer.verify(issuer.issue({ iss: config.issuer, client_id: 'client', scope: 'openid email' }), { ...config, scopes: ['email'] })?.scopes).toEqual(['openid', 'email']);
  });

  it('refuses another issuer or audience, an expired or not-yet-valid token, a missing scope, a forged signature', () => {
    const now = Math.floor(Date.now() / 1000);
    expect(issuer.verify(token({ iss: 'https://elsewhere.example' }), config)).toBeUndefined();
    expect(issuer.verify(token({ aud: 'another-client' }), config)).toBeUndefined();
    expect(issuer.verify(token({ exp: now - 1 }), config)).toBeUndefined();
    expect(issuer.verify(token({ nbf: now + 60 }), config)).toBeUndefined();
    expect(issuer.verify(token({}), { ...config, scopes: ['vault/read'] })).toBeUndefined();
    expect(issuer.verify(new LocalJwtIssuer().issue({ iss: config.issuer, aud: 'client' }), config)).toBeUndefined();
    const [header, , signature] = token({}).split('.');
    const forged = Buffer.from(JSON.stringify({ iss: config.issuer, aud: 'client', exp: now + 60, sub: 'admin' })).toString('base64url');
    expect(issuer.verify(`${header}.${forged}.${signature}`, config)).toBeUndefined();
    expect(issuer.verify(undefined, config)).toBeUndefined();
  });
});

describe('HTTP API with a JWT route', () => {
  const issuer = new LocalJwtIssuer();
  const jwt = { issuer: 'https://issuer.example', audience: ['client'], identitySource: '$request.header.Authorization' };
  const events: Array<Record<string, unknown>> = [];
  let api: LocalHttpApi;
  beforeAll(async () => {
    const echo = async (event: string) => {
      events.push(JSON.parse(event) as Record<string, unknown>);
      return { ok: true as const, payload: JSON.stringify({ statusCode: 200, body: 'ok' }) };
    };
    api = await startHttpApi({ apiId: 'abc123', account: '123456789012', region: 'eu-west-1', stage: '$default', issuer, routes: [route('GET /', { invoke: echo }), route('GET /api/{proxy+}', { jwt, invoke: echo })] });
  });
  afterAll(() => api?.close());

  it('answers 401 without invoking the function unless the authorizer accepts the token', async () => {
    expect([(await fetch(`${api.url}/api/files`)).status, events.length]).toEqual([401, 0]);
    const response = await fetch(`${api.url}/api/files?ticket=1&ticket=2`, { headers: { authorization: `Bearer ${issuer.issue({ iss: jwt.issuer, aud: 'client', email: 'ann@example' })}`, cookie: 'a=1; b=2' } });
    expect(response.status).toBe(200);
    expect(events.at(-1)).toMatchObject({
      routeKey: 'GET /api/{proxy+}',
      pathParameters: { proxy: 'files' },
      queryStringParameters: { ticket: '1,2' },
      cookies: ['a=1', 'b=2'],
      isBase64Encoded: false,
      requestContext: { authorizer: { jwt: { claims: { email: 'ann@example', iss: jwt.issuer, aud: 'client' }, scopes: null } } },
    });
    expect(events.at(-1)).not.toHaveProperty('body');
    expect(events.at(-1)!.headers).not.toHaveProperty('cookie');
  });

  it('serves a route without authorization to anyone, with no authorizer context', async () => {
    expect((await fetch(`${api.url}/`)).status).toBe(200);
    expect((events.at(-1)!.requestContext as Record<string, unknown>).authorizer).toBeUndefined();
  });
});

describe('local STS', () => {
  const log = new CallLog();
  const role = { arn: 'arn:aws:iam::123456789012:role/Vault-Signer', logicalId: 'Signer', roleId: 'AROAEXAMPLE', maxSessionDuration: 3600 };
  let sts: LocalSts;
  let client: STSClient;
  beforeAll(async () => {
    sts = await startLocalSts({ roles: [role], log });
    client = new STSClient({ endpoint: sts.url, region: 'eu-west-1', credentials: { accessKeyId: 'AKID-viewer', secretAccessKey: 's' } });
  });
  afterAll(async () => {
    client?.destroy();
    await sts?.close();
  });

  it('hands out a session of the role whose access key it remembers, and records the call with its session', async () => {
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/k' }] });
    const answer = await client.send(new AssumeRoleCommand({ RoleArn: role.arn, RoleSessionName: 'ann@acme.example', SourceIdentity: 'ann@acme.example', DurationSeconds: 900, Policy: policy }));
    expect(answer.AssumedRoleUser?.Arn).toBe('arn:aws:sts::123456789012:assumed-role/Vault-Signer/ann@acme.example');
    expect(answer.SourceIdentity).toBe('ann@acme.example');
    expect(answer.Credentials?.AccessKeyId).toMatch(/^ASIA[0-9A-F]{16}$/);
    expect(sts.sessions.at(-1)).toMatchObject({ accessKeyId: answer.Credentials?.AccessKeyId, roleLogicalId: 'Signer', sessionName: 'ann@acme.example', policy });
    expect(log.calls.at(-1)).toMatchObject({ accessKeyId: 'AKID-viewer', service: 'sts', operation: 'AssumeRole', status: 200, resourceArn: role.arn, sts: { sessionName: 'ann@acme.example', sourceIdentity: 'ann@acme.example' } });
  });

  it('refuses what STS refuses: a role it does not have, a duration over the role’s maximum, a bad session name', async () => {
    await expect(client.send(new AssumeRoleCommand({ RoleArn: `${role.arn}-gone`, RoleSessionName: 'ann' }))).rejects.toMatchObject({ name: 'AccessDenied' });
    await expect(client.send(new AssumeRoleCommand({ RoleArn: role.arn, RoleSessionName: 'ann', DurationSeconds: 7200 }))).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(client.send(new AssumeRoleCommand({ RoleArn: role.arn, RoleSessionName: 'a b' }))).rejects.toMatchObject({ name: 'ValidationError' });
    expect(log.calls.slice(-3).map((c) => c.status)).toEqual([403, 400, 400]);
  });
});

describe('tables', () => {
  const table = {
    KeySchema: [{ AttributeName: 'attachmentId', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'attachmentId', AttributeType: 'S' }, { AttributeName: 'ticketId', AttributeType: 'S' }],
    BillingMode: 'PAY_PER_REQUEST',
    GlobalSecondaryIndexes: [{ IndexName: 'byTicket', KeySchema: [{ AttributeName: 'ticketId', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } }],
    SSESpecification: { SSEEnabled: true },
    TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
  };

  it('creates the key schema and every index CloudFormation would; the properties it cannot pass are known', () => {
    expect(createTableInput('index', table)).toEqual({
      TableName: 'index',
      KeySchema: table.KeySchema,
      AttributeDefinitions: table.AttributeDefinitions,
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: table.GlobalSecondaryIndexes,
    });
  });

  it('fails on a table property it does not know, instead of dropping it', () => {
    expect(() => createTableInput('index', { ...table, StreamSpecification: { StreamViewType: 'NEW_IMAGE' } })).toThrow(HarnessConfigurationError);
  });
});

describe('two state machines: one Step Functions endpoint, a startExecution.sync:2 Task beside Lambda Tasks', () => {
  const arn = (name: string) => `arn:aws:states:eu-west-1:123456789012:stateMachine:${name}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'vault-two-machines-'));
  const invoked: string[] = [];
  let child: LocalEngine;
  let parent: LocalEngine;
  let endpoint: SfnEndpoint;
  let sfn: SFNClient;

  beforeAll(async () => {
    const fn = 'arn:aws:lambda:eu-west-1:123456789012:function:Step';
    const invoke = async (resource: string, input: unknown) => {
      invoked.push(resource);
      return { seen: input };
    };
    child = await LocalEngine.create({
      historyDir: path.join(dir, 'child'),
      stateMachineArn: arn('ticket'),
      definition: JSON.stringify({ StartAt: 'Work', States: { Work: { Type: 'Task', Resource: fn, End: true } } }),
      invoke,
    });
    parent = await LocalEngine.create({
      historyDir: path.join(dir, 'parent'),
      stateMachineArn: arn('backfill'),
      definition: JSON.stringify({
        StartAt: 'Run',
        States: {
          Run: { Type: 'Task', Resource: START_EXECUTION_SYNC, Parameters: { StateMachineArn: arn('ticket'), 'Name.$': "States.Format('bf-{}', $.id)", Input: { 'id.$': '$.id' } }, ResultSelector: { 'status.$': '$.Status', 'output.$': '$.Output' }, Next: 'After' },
          After: { Type: 'Task', Resource: fn, End: true },
        },
      }),
      invoke,
      integrations: { [START_EXECUTION_SYNC]: startExecutionSync(child) },
    });
    endpoint = await startSfnEndpoint([child, parent]);
    sfn = new SFNClient({ endpoint: endpoint.url, region: 'eu-west-1', credentials: { accessKeyId: 'AKID-test', secretAccessKey: 'test' } });
  });

  afterAll(async () => {
    sfn?.destroy();
    await endpoint?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the integration runs the child in its own engine; the Lambda Tasks are still invoked; each call goes to the machine its ARN names', async () => {
    const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn('backfill'), name: 'run-1', input: JSON.stringify({ id: '7' }) }));
    expect(started.executionArn).toBe(`${arn('backfill').replace(':stateMachine:', ':execution:')}:run-1`);
    const record = await parent.wait('run-1');
    expect([record?.status, record?.output]).toEqual(['SUCCEEDED', { seen: { status: 'SUCCEEDED', output: { seen: { id: '7' } } } }]);
    // The child's Task and the parent's second Task, both through invoke; the .sync Task through its integration.
    expect(invoked).toHaveLength(2);
    expect((await child.history.list()).map((r) => r.executionName)).toEqual(['bf-7']);
    expect((await parent.history.list()).map((r) => r.executionName)).toEqual(['run-1']);

    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: `${arn('ticket').replace(':stateMachine:', ':execution:')}:bf-7` }));
    expect([described.status, described.stateMachineArn]).toEqual(['SUCCEEDED', arn('ticket')]);
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn: arn('elsewhere'), name: 'x' }))).rejects.toMatchObject({ name: 'StateMachineDoesNotExist' });
    await expect(sfn.send(new DescribeExecutionCommand({ executionArn: `${arn('elsewhere').replace(':stateMachine:', ':execution:')}:x` }))).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
  });

  it('a Task timeout longer than a Node.js timer can wait (the backfill’s 30 days) does not end the Task at once', async () => {
    const slow = await LocalEngine.create({
      historyDir: path.join(dir, 'slow'),
      stateMachineArn: arn('slow'),
      definition: JSON.stringify({ StartAt: 'Long', States: { Long: { Type: 'Task', Resource: 'arn:aws:lambda:eu-west-1:123456789012:function:Slow', TimeoutSeconds: 2_592_000, End: true } } }),
      invoke: () => new Promise((resolve) => setTimeout(() => resolve({ done: true }), 50)),
    });
    const record = await slow.run({} as never, 'long-1');
    expect([record.status, record.output]).toEqual(['SUCCEEDED', { done: true }]);
  });

  it('the same name again fails the .sync Task with StepFunctions.ExecutionAlreadyExistsException', async () => {
    const record = await parent.run({ id: '7' } as never, 'run-2');
    expect([record.status, record.error]).toEqual(['FAILED', 'StepFunctions.ExecutionAlreadyExistsException']);
  });
});

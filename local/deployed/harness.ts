import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTableCommand, DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { startFauxqs } from 'fauxqs';
import { LocalEngine, type LocalEngineOptions } from '../runtime/engine.js';
import type { ExecutionRecord } from '../runtime/history.js';
import { startSfnEndpoint } from '../runtime/sfn-endpoint.js';
import { loadDeployedStack, type DeployedFunction, type DeployedStack, type DeployedStateMachine } from './assembly.js';
import { CallLog, accessKeyOf } from './calls.js';
import { statusChangeEvent, targetsFor, type RuleTarget } from './events.js';
import { startHttpApi } from './http-api.js';
import { startLocalSecrets, startRecordingDynamoDb, type LocalSecrets } from './json-endpoints.js';
import { FunctionProcesses, lambdaRuntime, type LambdaRuntime } from './launcher.js';
import type { FunctionError, InvocationOutcome } from './runtime-api.js';
import { RecordingS3, type BucketEncryption } from './s3-proxy.js';
import type { FakeAwsEnvironment } from './template.js';

/**
 * The deployed harness: what `cdk synth` put in cdk.out, run on this machine with no AWS account.
 *
 * - Every AWS::Lambda::Function runs from its staged bundle, in its own processes (launcher.ts), with the
 *   template's environment. Overridden, and nothing else: ZENDESK_URL and ZENDESK_CONTENT_HOSTS (the sandbox stands for
 *   the Zendesk account), and what the Lambda service itself sets (AWS_LAMBDA_*, _HANDLER, LAMBDA_TASK_ROOT, region,
 *   credentials) plus the SDK's endpoint variables (AWS_ENDPOINT_URL_S3/_DYNAMODB/_SECRETS_MANAGER/_SFN) and
 *   S3_FORCE_PATH_STYLE, pointing at the local endpoints.
 * - Each function signs with its own fake access key, `AKID-<logicalId>`: the endpoints record who called (calls.ts).
 * - The state machine's rendered definition runs in the local engine; each Task invokes its function's process; the
 *   state machine's own invokes are recorded as its role's lambda:InvokeFunction calls.
 * - The HTTP API's routes invoke their integrations with payload 2.0 events (http-api.ts); an execution's end is
 *   matched against the EventBridge rules and delivered to their Lambda targets (events.ts).
 */

export interface Caller {
  accessKeyId: string;
  /** The function's or state machine's logical ID. */
  logicalId: string;
  roleLogicalId: string;
  roleArn: string;
}

/** A service (API Gateway, EventBridge) invoking a function through the function's resource-based policy. */
export interface ServiceInvocation {
  principal: string;
  sourceArn: string;
  functionArn: string;
}

export interface DeliveredEvent extends RuleTarget {
  /** The execution whose status change this was. */
  executionName: string;
  outcome?: InvocationOutcome;
}

export interface DeployedHarnessOptions extends Pick<LocalEngineOptions, 'retryIntervalMs' | 'waitMs' | 'contentionRetryMs' | 'beforeTask' | 'afterTask'> {
  assemblyDir: string;
  historyDir: string;
  /** The Zendesk the functions talk to instead of the template's placeholder. */
  zendesk: { url: string; contentHosts: string };
  aws?: Omit<FakeAwsEnvironment, 'stackName'>;
  runtime?: LambdaRuntime;
  /** Execution environments per function (default 2). */
  maxEnvironments?: number;
  /** Start one initialized environment per function before returning (default true): no cold start inside a scenario. */
  warm?: boolean;
  onLog?: (line: string, fn: DeployedFunction) => void;
}

export interface DeployedHarness {
  stack: DeployedStack;
  stateMachine: DeployedStateMachine;
  engine: LocalEngine;
  calls: CallLog;
  callers: Caller[];
  serviceInvocations: ServiceInvocation[];
  deliveredEvents: DeliveredEvent[];
  s3: RecordingS3;
  /** The S3 emulator itself (not recorded, never faulted): the tests' view of the archive. */
  s3Direct: string;
  secrets: LocalSecrets;
  /** Base URL of the local HTTP API. */
  apiUrl: string;
  /** The local Step Functions endpoint (what AWS_ENDPOINT_URL_SFN points at). */
  sfnUrl: string;
  runtime: LambdaRuntime;
  /** The environment a function's processes get. */
  environmentOf(fn: DeployedFunction): Record<string, string>;
  /** Invokes a function directly (as its own Lambda service call would). */
  invoke(functionArn: string, event: unknown): Promise<InvocationOutcome>;
  close(): Promise<void>;
}

export const DEFAULT_FAKE_AWS = { account: '123456789012', region: 'eu-west-1', partition: 'aws' } as const;
const ADMIN = { accessKeyId: 'AKID-harness', secretAccessKey: 'harness' };

/** A function error as Step Functions sees it: the error name is errorType, the cause the JSON the function returned. */
export class LambdaFunctionError extends Error {
  constructor(readonly error: FunctionError) {
    super(JSON.stringify(error));
    this.name = error.errorType;
  }
}

export class HarnessConfigurationError extends Error {
  override readonly name = 'HarnessConfigurationError';
}

interface Services {
  fauxqs: { address: string; stop(): Promise<void> };
  dynamo: { url: string; close(): Promise<void> };
}

async function startServices(stack: DeployedStack, region: string): Promise<Services> {
  const fauxqs = await startFauxqs({ port: 0, logger: false });
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dynamoUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const s3 = new S3Client({ endpoint: fauxqs.address, region, forcePathStyle: true, credentials: ADMIN });
  for (const { logicalId } of stack.resourcesOfType('AWS::S3::Bucket')) await s3.send(new CreateBucketCommand({ Bucket: stack.resolver.ref(logicalId) }));
  s3.destroy();
  const ddb = new DynamoDBClient({ endpoint: dynamoUrl, region, credentials: ADMIN });
  for (const { logicalId, properties } of stack.resourcesOfType('AWS::DynamoDB::Table')) {
    const { KeySchema, AttributeDefinitions } = properties as Pick<CreateTableCommandInput, 'KeySchema' | 'AttributeDefinitions'>;
    await ddb.send(new CreateTableCommand({ TableName: stack.resolver.ref(logicalId), KeySchema, AttributeDefinitions, BillingMode: 'PAY_PER_REQUEST' }));
  }
  ddb.destroy();
  return { fauxqs, dynamo: { url: dynamoUrl, close: () => new Promise<void>((resolve) => server.close(() => resolve())) } };
}

function bucketEncryption(stack: DeployedStack): Record<string, BucketEncryption> {
  const out: Record<string, BucketEncryption> = {};
  for (const { logicalId, properties } of stack.resourcesOfType('AWS::S3::Bucket')) {
    type Rule = { BucketKeyEnabled?: boolean; ServerSideEncryptionByDefault?: { SSEAlgorithm?: string; KMSMasterKeyID?: string } };
    const rule = ((properties.BucketEncryption as { ServerSideEncryptionConfiguration?: Rule[] } | undefined)?.ServerSideEncryptionConfiguration ?? [])[0];
    const kms = rule?.ServerSideEncryptionByDefault?.SSEAlgorithm?.startsWith('aws:kms');
    out[stack.resolver.ref(logicalId)] = kms ? { kmsKeyArn: rule?.ServerSideEncryptionByDefault?.KMSMasterKeyID, bucketKeyEnabled: rule?.BucketKeyEnabled === true } : {};
  }
  return out;
}

function partitionKeys(stack: DeployedStack): (table: string) => string | undefined {
  const keys = new Map(
    stack.resourcesOfType('AWS::DynamoDB::Table').map(({ logicalId, properties }) => {
      const hash = (properties.KeySchema as Array<{ AttributeName: string; KeyType: string }>).find((k) => k.KeyType === 'HASH');
      return [stack.resolver.ref(logicalId), hash?.AttributeName] as const;
    }),
  );
  return (table) => keys.get(table);
}

/** The secrets as CloudFormation creates them: their SecretString, or a generated value. */
function initialSecrets(stack: DeployedStack): Record<string, string> {
  return Object.fromEntries(
    stack.resourcesOfType('AWS::SecretsManager::Secret').map(({ logicalId, properties }) => [
      stack.resolver.ref(logicalId),
      typeof properties.SecretString === 'string' ? properties.SecretString : randomBytes(16).toString('base64url'),
    ]),
  );
}

export interface Endpoints {
  s3: string;
  dynamodb: string;
  secretsManager: string;
  sfn: string;
}

/** The environment of a function's processes: the template's, plus what Lambda and the local endpoints add. */
export function functionEnvironment(fn: DeployedFunction, caller: Caller, endpoints: Endpoints, options: { zendesk: DeployedHarnessOptions['zendesk']; region: string }): Record<string, string> {
  const env: Record<string, string> = { ...fn.environment };
  if ('ZENDESK_URL' in env) env.ZENDESK_URL = options.zendesk.url;
  if ('ZENDESK_CONTENT_HOSTS' in env) env.ZENDESK_CONTENT_HOSTS = options.zendesk.contentHosts;
  return {
    ...env,
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_LOG_GROUP_NAME: fn.logGroupName,
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    LAMBDA_TASK_ROOT: fn.codeDir,
    LAMBDA_RUNTIME_DIR: fn.codeDir,
    _HANDLER: fn.handler,
    AWS_ACCESS_KEY_ID: caller.accessKeyId,
    AWS_SECRET_ACCESS_KEY: 'local-secret',
    AWS_SESSION_TOKEN: `session-${caller.logicalId}`,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secretsManager,
    AWS_ENDPOINT_URL_SFN: endpoints.sfn,
    S3_FORCE_PATH_STYLE: 'true',
  };
}

function singleStateMachine(stack: DeployedStack): DeployedStateMachine {
  if (stack.stateMachines.length !== 1) throw new HarnessConfigurationError(`the harness runs one state machine; the stack has ${stack.stateMachines.length}`);
  return stack.stateMachines[0]!;
}

function callersOf(stack: DeployedStack, sm: DeployedStateMachine): Caller[] {
  const of = (logicalId: string, roleLogicalId: string): Caller => ({ accessKeyId: `AKID-${logicalId}`, logicalId, roleLogicalId, roleArn: stack.resolver.getAtt(roleLogicalId, 'Arn') });
  return [...stack.functions.map((f) => of(f.logicalId, f.roleLogicalId)), of(sm.logicalId, sm.roleLogicalId)];
}

/** Starts everything (services, endpoints, engine, HTTP API); function processes start on their first invocation. */
export async function startDeployedStack(options: DeployedHarnessOptions): Promise<DeployedHarness> {
  const aws = options.aws ?? DEFAULT_FAKE_AWS;
  const stack = loadDeployedStack(options.assemblyDir, aws);
  const stateMachine = singleStateMachine(stack);
  const services = await startServices(stack, aws.region);
  const calls = new CallLog();
  const s3 = await RecordingS3.start({ target: services.fauxqs.address, log: calls, buckets: bucketEncryption(stack), region: aws.region, account: aws.account });
  const dynamodb = await startRecordingDynamoDb(services.dynamo.url, calls, partitionKeys(stack));
  const secrets = await startLocalSecrets(initialSecrets(stack), calls);
  const wiring = new Wiring(stack, stateMachine, calls, options, aws);
  const engine = await wiring.createEngine();
  const sfn = await startSfnEndpoint(engine, { onCall: (call) => wiring.recordSfn(call) });
  wiring.startProcesses({ s3: s3.url, dynamodb: dynamodb.url, secretsManager: secrets.url, sfn: sfn.url });
  if (options.warm !== false) await wiring.warm();
  const api = await wiring.startApi();
  return {
    stack,
    stateMachine,
    engine,
    calls,
    callers: wiring.callers,
    serviceInvocations: wiring.serviceInvocations,
    deliveredEvents: wiring.deliveredEvents,
    s3,
    s3Direct: services.fauxqs.address,
    secrets,
    apiUrl: api.url,
    sfnUrl: sfn.url,
    runtime: wiring.runtime,
    environmentOf: (fn) => wiring.environmentOf(fn),
    invoke: (arn, event) => wiring.invokeFunction(arn, event),
    close: async () => {
      await api.close();
      await wiring.close();
      await sfn.close();
      for (const endpoint of [secrets, dynamodb, s3]) await endpoint.close();
      await services.dynamo.close();
      await services.fauxqs.stop();
    },
  };
}

/** The parts that need each other: processes, engine, HTTP API and EventBridge delivery. */
class Wiring {
  readonly callers: Caller[];
  readonly serviceInvocations: ServiceInvocation[] = [];
  readonly deliveredEvents: DeliveredEvent[] = [];
  readonly runtime: LambdaRuntime;
  private readonly processes = new Map<string, FunctionProcesses>();
  private endpoints: Endpoints | undefined;

  constructor(
    private readonly stack: DeployedStack,
    private readonly stateMachine: DeployedStateMachine,
    private readonly calls: CallLog,
    private readonly options: DeployedHarnessOptions,
    private readonly aws: Omit<FakeAwsEnvironment, 'stackName'>,
  ) {
    this.callers = callersOf(stack, stateMachine);
    this.runtime = options.runtime ?? lambdaRuntime();
  }

  private caller(logicalId: string): Caller {
    return this.callers.find((c) => c.logicalId === logicalId)!;
  }

  environmentOf(fn: DeployedFunction): Record<string, string> {
    if (!this.endpoints) throw new HarnessConfigurationError('the endpoints are not started yet');
    return functionEnvironment(fn, this.caller(fn.logicalId), this.endpoints, { zendesk: this.options.zendesk, region: this.aws.region });
  }

  startProcesses(endpoints: Endpoints): void {
    this.endpoints = endpoints;
    for (const fn of this.stack.functions) {
      const processOptions = { fn, env: this.environmentOf(fn), runtime: this.runtime, ...(this.options.onLog ? { onLog: this.options.onLog } : {}) };
      this.processes.set(fn.arn, new FunctionProcesses({ ...processOptions, ...(this.options.maxEnvironments ? { maxEnvironments: this.options.maxEnvironments } : {}) }));
    }
  }

  async warm(): Promise<void> {
    await Promise.all([...this.processes.values()].map((p) => p.warm()));
  }

  /** Runs one event in the function (an unqualified ARN, or qualified with $LATEST). */
  async invokeFunction(functionArn: string, event: unknown): Promise<InvocationOutcome> {
    const processes = this.processes.get(functionArn.replace(/:\$LATEST$/, ''));
    if (!processes) return { ok: false, error: { errorType: 'Lambda.ResourceNotFoundException', errorMessage: `Function not found: ${functionArn}` } };
    return processes.invoke(JSON.stringify(event));
  }

  createEngine(): Promise<LocalEngine> {
    const { options, stateMachine } = this;
    const invoker = this.caller(stateMachine.logicalId);
    return LocalEngine.create({
      historyDir: options.historyDir,
      definition: stateMachine.definition,
      stateMachineArn: stateMachine.arn,
      invoke: async (resourceArn, input) => {
        this.calls.record({ accessKeyId: invoker.accessKeyId, service: 'lambda', operation: 'Invoke', status: 200, resourceArn });
        const outcome = await this.invokeFunction(resourceArn, input);
        if (!outcome.ok) throw new LambdaFunctionError(outcome.error);
        return JSON.parse(outcome.payload) as unknown;
      },
      onExecutionEnded: (record) => this.announce(record),
      // The Distributed Map's ItemReader and ResultWriter act as the state machine's role: their calls are checked too.
      mapRunS3: () => {
        if (!this.endpoints) throw new HarnessConfigurationError('the endpoints are not started yet');
        return new S3Client({ endpoint: this.endpoints.s3, region: this.aws.region, forcePathStyle: true, credentials: { accessKeyId: invoker.accessKeyId, secretAccessKey: 'local-secret', sessionToken: `session-${invoker.logicalId}` } });
      },
      ...(options.retryIntervalMs !== undefined ? { retryIntervalMs: options.retryIntervalMs } : {}),
      ...(options.contentionRetryMs !== undefined ? { contentionRetryMs: options.contentionRetryMs } : {}),
      ...(options.waitMs !== undefined ? { waitMs: options.waitMs } : {}),
      ...(options.beforeTask ? { beforeTask: options.beforeTask } : {}),
      ...(options.afterTask ? { afterTask: options.afterTask } : {}),
    });
  }

  recordSfn(call: { operation: string; body: Record<string, unknown>; headers: Parameters<typeof accessKeyOf>[0]; status: number }): void {
    const resourceArn = String(call.body.executionArn ?? call.body.stateMachineArn ?? '');
    this.calls.record({ accessKeyId: accessKeyOf(call.headers), service: 'states', operation: call.operation, status: call.status, resourceArn });
  }

  /** What EventBridge does with the execution's status change: every matching rule's Lambda targets get it. */
  private async announce(record: ExecutionRecord): Promise<void> {
    const event = statusChangeEvent(record, this.aws.account, this.aws.region);
    for (const target of targetsFor(this.stack, event)) {
      const delivered: DeliveredEvent = { ...target, executionName: record.executionName };
      this.deliveredEvents.push(delivered);
      if (!('event' in target.input)) continue;
      this.serviceInvocations.push({ principal: 'events.amazonaws.com', sourceArn: target.ruleArn, functionArn: target.targetArn });
      delivered.outcome = await this.invokeFunction(target.targetArn, target.input.event);
    }
  }

  /** The HTTP API of the template (one), its routes invoking their Lambda proxy integrations. */
  async startApi(): Promise<{ url: string; close(): Promise<void> }> {
    const apis = this.stack.resourcesOfType('AWS::ApiGatewayV2::Api');
    if (apis.length !== 1) throw new HarnessConfigurationError(`the harness serves one HTTP API; the stack has ${apis.length}`);
    const apiLogicalId = apis[0]!.logicalId;
    const apiId = this.stack.resolver.ref(apiLogicalId);
    const stage = String(this.stack.resourcesOfType('AWS::ApiGatewayV2::Stage')[0]?.properties.StageName ?? '$default');
    const integrations = new Map(this.stack.resourcesOfType('AWS::ApiGatewayV2::Integration').map((i) => [this.stack.resolver.ref(i.logicalId), i.properties]));
    const routes = this.stack.resourcesOfType('AWS::ApiGatewayV2::Route').map(({ properties }) => {
      const integration = integrations.get(String(properties.Target).replace(/^integrations\//, '')) ?? {};
      if (integration.IntegrationType !== 'AWS_PROXY' || integration.PayloadFormatVersion !== '2.0') throw new HarnessConfigurationError('only Lambda proxy integrations with payload 2.0 are served');
      const routeKey = String(properties.RouteKey);
      const functionArn = String(integration.IntegrationUri);
      const [method, path] = routeKey.split(' ');
      const sourceArn = `arn:${this.aws.partition}:execute-api:${this.aws.region}:${this.aws.account}:${apiId}/${stage}/${method}${path ?? ''}`;
      return {
        routeKey,
        invoke: (event: string) => {
          this.serviceInvocations.push({ principal: 'apigateway.amazonaws.com', sourceArn, functionArn });
          return this.invokeFunction(functionArn, JSON.parse(event));
        },
      };
    });
    return startHttpApi({ apiId, account: this.aws.account, region: this.aws.region, stage, routes });
  }

  async close(): Promise<void> {
    await Promise.all([...this.processes.values()].map((p) => p.close()));
  }
}

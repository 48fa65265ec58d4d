import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { startFauxqs } from 'fauxqs';
import path from 'node:path';
import { LocalEngine, type LocalEngineOptions } from '../runtime/engine.js';
import type { ExecutionRecord } from '../runtime/history.js';
import { START_EXECUTION_SYNC, startExecutionSync, StepFunctionsError } from '../runtime/nested-execution.js';
import { startSfnEndpoint } from '../runtime/sfn-endpoint.js';
import { httpApisOf, type DeployedAuthorizer } from './apis.js';
import { loadDeployedStack, type DeployedFunction, type DeployedStack, type DeployedStateMachine } from './assembly.js';
import { CallLog, accessKeyOf } from './calls.js';
import { HarnessConfigurationError } from './errors.js';
import { statusChangeEvent, targetsFor, type RuleTarget } from './events.js';
import { startHttpApi } from './http-api.js';
import type { PolicyDocument } from './iam/evaluate.js';
import { startLocalSecrets, startRecordingDynamoDb, type LocalSecrets } from './json-endpoints.js';
import { LocalJwtIssuer } from './jwt.js';
import { FunctionProcesses, lambdaRuntime, type LambdaRuntime } from './launcher.js';
import type { FunctionError, InvocationOutcome } from './runtime-api.js';
import { RecordingS3, type BucketEncryption } from './s3-proxy.js';
import { startLocalSts, type LocalSts, type RoleSession, type TemplateRole } from './sts.js';
import { createTables, tableShapes } from './tables.js';
import type { FakeAwsEnvironment } from './template.js';

export { HarnessConfigurationError } from './errors.js';

/**
 * The deployed harness: what `cdk synth` put in cdk.out, run on this machine with no AWS account.
 *
 * - Every AWS::Lambda::Function runs from its staged bundle, in its own processes (launcher.ts), with the
 *   template's environment. Overridden, and nothing else: ZENDESK_URL and ZENDESK_CONTENT_HOSTS (the sandbox stands for
 *   the Zendesk account), and what the Lambda service itself sets (AWS_LAMBDA_*, _HANDLER, LAMBDA_TASK_ROOT, region,
 *   credentials) plus the SDK's endpoint variables (AWS_ENDPOINT_URL_S3/_DYNAMODB/_SECRETS_MANAGER/_SFN/_STS) and
 *   S3_FORCE_PATH_STYLE, pointing at the local endpoints.
 * - Each function signs with its own fake access key, `AKID-<logicalId>`: the endpoints record who called (calls.ts).
 *   A role session from the local STS (sts.ts) signs with its own `ASIA…` key, which names the assumed role and the
 *   session policy.
 * - Each state machine's rendered definition runs in its own local engine; each Task invokes its function's process;
 *   the state machine's own invokes are recorded as its role's lambda:InvokeFunction calls. A Task
 *   `states:startExecution.sync:2` starts an execution in the engine of the state machine it names
 *   (nested-execution.ts) and is recorded as its role's states:StartExecution of that machine and
 *   states:DescribeExecution of the child (what the .sync integration calls). The Step Functions endpoint serves every
 *   machine, each call by the ARN it names.
 * - Every HTTP API is served on its own port (apis.ts, http-api.ts): its routes invoke their integrations with payload
 *   2.0 events, behind their JWT authorizers (jwt.ts: tokens of a local RS256 key, `harness.jwt`); an execution's end
 *   is matched against the EventBridge rules and delivered to their Lambda targets (events.ts).
 */

export interface Caller {
  accessKeyId: string;
  /** The function's or state machine's logical ID; `<role> session <name>` for a role session. */
  logicalId: string;
  roleLogicalId: string;
  roleArn: string;
  /** A role session handed out by the local STS: its name and session policy. */
  session?: { name: string; policy?: PolicyDocument };
}

/** One HTTP API of the stack, served locally. */
export interface ServedApi {
  logicalId: string;
  apiId: string;
  url: string;
  routeKeys: string[];
  authorizers: DeployedAuthorizer[];
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
  /** The state machine the functions start (the one their environment names): the per-ticket workflow. */
  stateMachine: DeployedStateMachine;
  engine: LocalEngine;
  /** Every state machine of the template, each with its engine (the first is `stateMachine`). */
  stateMachines: Array<{ stateMachine: DeployedStateMachine; engine: LocalEngine }>;
  /** The engine of the state machine with this ARN. */
  engineOf(stateMachineArn: string): LocalEngine;
  calls: CallLog;
  /** The functions, the state machines, and every role session handed out so far. */
  callers: Caller[];
  serviceInvocations: ServiceInvocation[];
  deliveredEvents: DeliveredEvent[];
  s3: RecordingS3;
  /** The S3 emulator itself (not recorded, never faulted): the tests' view of the archive. */
  s3Direct: string;
  secrets: LocalSecrets;
  sts: LocalSts;
  /** Every HTTP API of the stack, each on its own port. */
  apis: ServedApi[];
  /** The base URL of the API that has this route (`POST /webhooks/zendesk`). */
  apiUrlFor(routeKey: string): string;
  /** Signs tokens the APIs' JWT authorizers accept (for their issuer and audience). */
  jwt: LocalJwtIssuer;
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

interface Services {
  fauxqs: { address: string; stop(): Promise<void> };
  dynamo: { url: string; close(): Promise<void> };
}

/** Stops what was started, last first (a harness that fails to start leaves nothing running). */
class Closers {
  private readonly all: Array<() => Promise<void>> = [];

  add(close: () => Promise<void>): void {
    this.all.push(close);
  }

  async closeAll(): Promise<void> {
    for (const close of this.all.splice(0).reverse()) await close();
  }
}

async function startServices(stack: DeployedStack, region: string, closers: Closers): Promise<Services> {
  const fauxqs = await startFauxqs({ port: 0, logger: false });
  closers.add(() => fauxqs.stop());
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dynamo = { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  closers.add(dynamo.close);
  const s3 = new S3Client({ endpoint: fauxqs.address, region, forcePathStyle: true, credentials: ADMIN });
  for (const { logicalId } of stack.resourcesOfType('AWS::S3::Bucket')) await s3.send(new CreateBucketCommand({ Bucket: stack.resolver.ref(logicalId) }));
  s3.destroy();
  const ddb = new DynamoDBClient({ endpoint: dynamo.url, region, credentials: ADMIN });
  await createTables(stack, ddb).finally(() => ddb.destroy());
  return { fauxqs, dynamo };
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

/** The template's roles, as STS knows them (ARN, MaxSessionDuration, RoleId). */
function templateRoles(stack: DeployedStack): TemplateRole[] {
  return stack.resourcesOfType('AWS::IAM::Role').map(({ logicalId, properties }) => ({
    logicalId,
    arn: stack.resolver.getAtt(logicalId, 'Arn'),
    roleId: stack.resolver.getAtt(logicalId, 'RoleId'),
    maxSessionDuration: Number(properties.MaxSessionDuration ?? 3600),
  }));
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
  sts: string;
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
    AWS_ENDPOINT_URL_STS: endpoints.sts,
    S3_FORCE_PATH_STYLE: 'true',
  };
}

/**
 * The state machines, the one the functions start first: a stack of one machine, or the one machine some function's
 * environment names (the webhook's STATE_MACHINE_ARN); a machine only another machine or an operator starts (the
 * backfill) comes after.
 */
export function orderedStateMachines(stack: DeployedStack): DeployedStateMachine[] {
  const machines = stack.stateMachines;
  if (machines.length === 0) throw new HarnessConfigurationError('the stack has no state machine');
  if (machines.length === 1) return machines;
  const named = machines.filter((m) => stack.functions.some((f) => Object.values(f.environment).includes(m.arn)));
  if (named.length !== 1) throw new HarnessConfigurationError(`of ${machines.length} state machines, ${named.length} are named in a function's environment; the harness needs one`);
  return [named[0]!, ...machines.filter((m) => m !== named[0])];
}

function callersOf(stack: DeployedStack, machines: DeployedStateMachine[]): Caller[] {
  const of = (logicalId: string, roleLogicalId: string): Caller => ({ accessKeyId: `AKID-${logicalId}`, logicalId, roleLogicalId, roleArn: stack.resolver.getAtt(roleLogicalId, 'Arn') });
  return [...stack.functions.map((f) => of(f.logicalId, f.roleLogicalId)), ...machines.map((sm) => of(sm.logicalId, sm.roleLogicalId))];
}


/** Starts everything (services, endpoints, engine, HTTP APIs, one warm environment per function). */
export async function startDeployedStack(options: DeployedHarnessOptions): Promise<DeployedHarness> {
  const closers = new Closers();
  try {
    return await startAll(options, closers);
  } catch (error) {
    await closers.closeAll();
    throw error;
  }
}

async function startAll(options: DeployedHarnessOptions, closers: Closers): Promise<DeployedHarness> {
  const aws = options.aws ?? DEFAULT_FAKE_AWS;
  const stack = loadDeployedStack(options.assemblyDir, aws);
  const machines = orderedStateMachines(stack);
  const services = await startServices(stack, aws.region, closers);
  const calls = new CallLog();
  const started = async <T extends { close(): Promise<void> }>(endpoint: Promise<T>): Promise<T> => {
    const value = await endpoint;
    closers.add(() => value.close());
    return value;
  };
  const s3 = await started(RecordingS3.start({ target: services.fauxqs.address, log: calls, buckets: bucketEncryption(stack), region: aws.region, account: aws.account }));
  const dynamodb = await started(startRecordingDynamoDb(services.dynamo.url, calls, tableShapes(stack.resolver)));
  const secrets = await started(startLocalSecrets(initialSecrets(stack), calls));
  const wiring = new Wiring(stack, machines, calls, options, aws);
  const sts = await started(startLocalSts({ roles: templateRoles(stack), log: calls, onSession: (session) => wiring.addSession(session) }));
  const engines = await wiring.createEngines();
  const sfn = await started(startSfnEndpoint(engines, { onCall: (call) => wiring.recordSfn(call) }));
  closers.add(() => wiring.close());
  wiring.startProcesses({ s3: s3.url, dynamodb: dynamodb.url, secretsManager: secrets.url, sfn: sfn.url, sts: sts.url });
  if (options.warm !== false) await wiring.warm();
  const apis = await wiring.startApis(closers);
  return {
    stack,
    stateMachine: machines[0]!,
    engine: engines[0]!,
    stateMachines: machines.map((stateMachine, i) => ({ stateMachine, engine: engines[i]! })),
    engineOf: (arn) => wiring.engineOf(arn),
    calls,
    callers: wiring.callers,
    serviceInvocations: wiring.serviceInvocations,
    deliveredEvents: wiring.deliveredEvents,
    s3,
    s3Direct: services.fauxqs.address,
    secrets,
    sts,
    apis,
    apiUrlFor: (routeKey) => {
      const api = apis.find((a) => a.routeKeys.includes(routeKey));
      if (!api) throw new HarnessConfigurationError(`no HTTP API of the stack has the route ${routeKey}`);
      return api.url;
    },
    jwt: wiring.jwt,
    sfnUrl: sfn.url,
    runtime: wiring.runtime,
    environmentOf: (fn) => wiring.environmentOf(fn),
    invoke: (arn, event) => wiring.invokeFunction(arn, event),
    close: () => closers.closeAll(),
  };
}

/** The parts that need each other: processes, engine, HTTP API and EventBridge delivery. */
class Wiring {
  readonly callers: Caller[];
  readonly serviceInvocations: ServiceInvocation[] = [];
  readonly deliveredEvents: DeliveredEvent[] = [];
  readonly runtime: LambdaRuntime;
  readonly jwt = new LocalJwtIssuer();
  private readonly processes = new Map<string, FunctionProcesses>();
  private readonly engines = new Map<string, LocalEngine>();
  private endpoints: Endpoints | undefined;

  constructor(
    private readonly stack: DeployedStack,
    private readonly machines: DeployedStateMachine[],
    private readonly calls: CallLog,
    private readonly options: DeployedHarnessOptions,
    private readonly aws: Omit<FakeAwsEnvironment, 'stackName'>,
  ) {
    this.callers = callersOf(stack, machines);
    this.runtime = options.runtime ?? lambdaRuntime();
  }

  private caller(logicalId: string): Caller {
    return this.callers.find((c) => c.logicalId === logicalId)!;
  }

  /** A session the local STS handed out: its calls are the assumed role's, limited by its session policy. */
  addSession(session: RoleSession): void {
    this.callers.push({
      accessKeyId: session.accessKeyId,
      logicalId: `${session.roleLogicalId} session ${session.sessionName}`,
      roleLogicalId: session.roleLogicalId,
      roleArn: session.roleArn,
      session: { name: session.sessionName, ...(session.policy ? { policy: JSON.parse(session.policy) as PolicyDocument } : {}) },
    });
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

  engineOf(stateMachineArn: string): LocalEngine {
    const engine = this.engines.get(stateMachineArn);
    if (!engine) throw new HarnessConfigurationError(`no state machine of the stack has the ARN ${stateMachineArn}`);
    return engine;
  }

  /** One engine per state machine, in the harness's order; the first keeps its histories in historyDir, the others in a folder each. */
  async createEngines(): Promise<LocalEngine[]> {
    const engines: LocalEngine[] = [];
    for (const [i, machine] of this.machines.entries()) {
      const engine = await this.createEngine(machine, i === 0 ? this.options.historyDir : path.join(this.options.historyDir, machine.name));
      this.engines.set(machine.arn, engine);
      engines.push(engine);
    }
    return engines;
  }

  /**
   * `states:startExecution.sync:2` as the calling machine's role: StartExecution of the machine the Task names (in its
   * engine), then the child's end, which the .sync integration learns with DescribeExecution of the child.
   */
  private startExecutionSync(invoker: Caller): (input: unknown) => Promise<unknown> {
    return async (input) => {
      const { StateMachineArn, Name } = (input ?? {}) as { StateMachineArn?: unknown; Name?: unknown };
      const arn = String(StateMachineArn ?? '');
      const record = (operation: string, status: number, resourceArn: string) => this.calls.record({ accessKeyId: invoker.accessKeyId, service: 'states', operation, status, resourceArn });
      const target = this.engines.get(arn);
      if (!target) {
        record('StartExecution', 400, arn);
        throw new StepFunctionsError('StepFunctions.StateMachineDoesNotExistException', `State Machine Does Not Exist: '${arn}'`);
      }
      const childArn = `${arn.replace(':stateMachine:', ':execution:')}:${String(Name)}`;
      let started = false;
      try {
        const result = await startExecutionSync(target)(input);
        started = true;
        return result;
      } catch (error) {
        started = (error as Error).name === 'States.TaskFailed';
        throw error;
      } finally {
        record('StartExecution', started ? 200 : 400, arn);
        if (started) record('DescribeExecution', 200, childArn);
      }
    };
  }

  private createEngine(stateMachine: DeployedStateMachine, historyDir: string): Promise<LocalEngine> {
    const { options } = this;
    const invoker = this.caller(stateMachine.logicalId);
    return LocalEngine.create({
      historyDir,
      definition: stateMachine.definition,
      stateMachineArn: stateMachine.arn,
      invoke: async (resourceArn, input) => {
        this.calls.record({ accessKeyId: invoker.accessKeyId, service: 'lambda', operation: 'Invoke', status: 200, resourceArn });
        const outcome = await this.invokeFunction(resourceArn, input);
        if (!outcome.ok) throw new LambdaFunctionError(outcome.error);
        return JSON.parse(outcome.payload) as unknown;
      },
      integrations: { [START_EXECUTION_SYNC]: this.startExecutionSync(invoker) },
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

  /** Every HTTP API of the template on its own port, its routes invoking their Lambda proxy integrations. */
  async startApis(closers: Closers): Promise<ServedApi[]> {
    const served: ServedApi[] = [];
    for (const api of httpApisOf(this.stack, this.aws)) {
      const routes = api.routes.map((route) => ({
        routeKey: route.routeKey,
        ...(route.jwt ? { jwt: route.jwt } : {}),
        invoke: (event: string) => {
          this.serviceInvocations.push({ principal: 'apigateway.amazonaws.com', sourceArn: route.sourceArn, functionArn: route.functionArn });
          return this.invokeFunction(route.functionArn, JSON.parse(event));
        },
      }));
      const local = await startHttpApi({ apiId: api.apiId, account: this.aws.account, region: this.aws.region, stage: api.stage, routes, issuer: this.jwt });
      closers.add(() => local.close());
      served.push({ logicalId: api.logicalId, apiId: api.apiId, url: local.url, routeKeys: api.routes.map((r) => r.routeKey), authorizers: api.authorizers });
    }
    return served;
  }

  async close(): Promise<void> {
    await Promise.all([...this.processes.values()].map((p) => p.close()));
  }
}

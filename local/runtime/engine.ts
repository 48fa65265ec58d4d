import { randomUUID } from 'node:crypto';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { ExecutionInput } from '../../lambdas/shared/types.js';
import {
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  LOCAL_STATE_MACHINE_ARN,
  handlerFolderOf,
  localSubstitutions,
  placeholdersOf,
  readAsl,
  substitute,
  taskStates,
} from './definition.js';
import { ExecutionHistory, type ExecutionRecord, type HistoryEvent } from './history.js';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

export class ExecutionAlreadyExists extends Error {
  override readonly name = 'ExecutionAlreadyExists';
}

export interface LocalEngineOptions {
  /** Where execution histories are kept. */
  historyDir: string;
  /** Overrides every Retry interval (ms): tests use 0; undefined keeps the ASL's own backoff. */
  retryIntervalMs?: number;
  /** Overrides every Wait state (ms): tests use 0; undefined keeps the real wait. */
  waitMs?: number;
  /** Called with each Task's state name and input right before its handler runs (simulated time). */
  beforeTask?: (stateName: string, input: unknown) => void;
  /** Called for each history event as it happens (progress display). */
  onEvent?: (event: HistoryEvent, executionName: string) => void;
}

export interface StartedExecution {
  executionName: string;
  executionArn: string;
  done: Promise<ExecutionRecord>;
}

const EXECUTION_NAME = /^[0-9A-Za-z_-]{1,80}$/;

/**
 * Runs statemachine/attachment-vault.asl.json unchanged in aws-local-stepfunctions, each Task served by
 * its lambdas/<step>/handler.ts in this process. The environment must be set before create() is called:
 * handlers build their clients from it when imported.
 */
export class LocalEngine {
  private readonly running = new Map<string, StartedExecution & { input: string }>();

  private constructor(
    private readonly machine: StateMachine,
    private readonly handlers: Record<string, (input: unknown) => Promise<unknown>>,
    private readonly retryableStates: string[],
    private readonly waitStates: string[],
    readonly history: ExecutionHistory,
    private readonly options: LocalEngineOptions,
  ) {}

  static async create(options: LocalEngineOptions): Promise<LocalEngine> {
    const aslText = readAsl();
    const substitutions = localSubstitutions(aslText);
    const definition = JSON.parse(substitute(aslText, substitutions)) as StateMachineDefinition & { States: Record<string, never> };
    const byArn = new Map(placeholdersOf(aslText).map((p) => [substitutions[p] as string, handlerFolderOf(p)]));
    const lambdasDir = fileURLToPath(new URL('../../lambdas/', import.meta.url));
    const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    const retryable: string[] = [];
    for (const task of taskStates(definition)) {
      const folder = byArn.get(task.resource);
      if (!folder) throw new Error(`Task ${task.name} has a Resource the local runtime does not provide`);
      const module = (await import(pathToFileURL(`${lambdasDir}${folder}/handler.ts`).href)) as { handler: Handler };
      handlers[task.name] = (input: unknown) => {
        options.beforeTask?.(task.name, input);
        return module.handler(input, fakeLambdaContext(folder));
      };
      retryable.push(task.name);
    }
    const waits = Object.entries(definition.States as Record<string, { Type: string }>)
      .filter(([, s]) => s.Type === 'Wait')
      .map(([n]) => n);
    const machine = new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });
    return new LocalEngine(machine, handlers, retryable, waits, new ExecutionHistory(options.historyDir), options);
  }

  static arnOf(executionName: string): string {
    return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:attachment-vault-local:${executionName}`;
  }

  /**
   * StartExecution semantics: a name is used once. The same name with the same input while it runs
   * returns the running execution; anything else throws ExecutionAlreadyExists.
   */
  async start(input: ExecutionInput, executionName: string): Promise<StartedExecution> {
    if (!EXECUTION_NAME.test(executionName)) throw new Error(`Invalid execution name ${executionName}`);
    const inputText = JSON.stringify(input);
    const open = this.running.get(executionName);
    if (open) {
      if (open.input === inputText) return open;
      throw new ExecutionAlreadyExists(`Execution ${executionName} already exists`);
    }
    if (await this.history.get(executionName)) throw new ExecutionAlreadyExists(`Execution ${executionName} already exists`);
    const executionArn = LocalEngine.arnOf(executionName);
    const startDate = new Date().toISOString();
    const record: ExecutionRecord = { executionName, executionArn, stateMachineArn: LOCAL_STATE_MACHINE_ARN, status: 'RUNNING', input, startDate, events: [] };
    await this.history.save(record);
    const done = this.execute(record);
    const started = { executionName, executionArn, done, input: inputText };
    this.running.set(executionName, started);
    void done.finally(() => this.running.delete(executionName));
    return { executionName, executionArn, done };
  }

  /** The record of a finished execution, waiting for it if it is still running. */
  async wait(executionName: string): Promise<ExecutionRecord | undefined> {
    const open = this.running.get(executionName);
    if (open) return open.done;
    return this.history.get(executionName);
  }

  async run(input: ExecutionInput, executionName: string): Promise<ExecutionRecord> {
    return (await this.start(input, executionName)).done;
  }

  private async execute(record: ExecutionRecord): Promise<ExecutionRecord> {
    const overrides = {
      taskResourceLocalHandlers: this.handlers,
      ...(this.options.retryIntervalMs !== undefined
        ? { retryIntervalOverrides: Object.fromEntries(this.retryableStates.map((s) => [s, this.options.retryIntervalMs as number])) }
        : {}),
      ...(this.options.waitMs !== undefined
        ? { waitTimeOverrides: Object.fromEntries(this.waitStates.map((s) => [s, this.options.waitMs as number])) }
        : {}),
    };
    const execution = this.machine.run(record.input as never, {
      overrides: overrides as never,
      context: {
        Execution: { Id: record.executionArn, Name: record.executionName, Input: record.input, StartTime: record.startDate, RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/local` },
        StateMachine: { Id: LOCAL_STATE_MACHINE_ARN, Name: 'attachment-vault-local' },
      } as never,
    });
    const collecting = (async () => {
      for await (const event of execution.eventLogs) {
        const entry = toHistoryEvent(event as unknown as Record<string, unknown>);
        record.events.push(entry);
        this.options.onEvent?.(entry, record.executionName);
      }
    })();
    try {
      record.output = await execution.result;
      record.status = 'SUCCEEDED';
    } catch (error) {
      record.status = 'FAILED';
      const failure = error as { name?: string; cause?: { name?: string; message?: string }; message?: string };
      // aws-local-stepfunctions wraps the state's error: its `cause` carries the error name and message.
      record.error = failure.cause?.name ?? failure.name ?? 'Error';
      record.cause = failure.cause?.message ?? failure.message ?? '';
    }
    await collecting.catch(() => undefined);
    const failed = record.events.findLast((e) => e.type === 'ExecutionFailed');
    if (failed?.error) {
      record.error = failed.error;
      record.cause = failed.cause ?? record.cause;
    }
    record.stopDate = new Date().toISOString();
    await this.history.save(record);
    return record;
  }
}

function fakeLambdaContext(folder: string) {
  return {
    functionName: `attachment-vault-${folder}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:attachment-vault-${folder}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/attachment-vault-${folder}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 900_000,
  };
}

function causeText(cause: unknown): string | undefined {
  if (cause === undefined || cause === null) return undefined;
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return cause.message;
  return JSON.stringify(cause);
}

function toHistoryEvent(event: Record<string, unknown>): HistoryEvent {
  const state = event.state as { name?: string; input?: unknown; output?: unknown } | undefined;
  const parent = event.parentState as { name?: string } | undefined;
  const retry = event.retry as { attempt?: number } | undefined;
  const entry: HistoryEvent = { timestamp: new Date(Number(event.timestamp ?? Date.now())).toISOString(), type: String(event.type) };
  const name = state?.name ?? parent?.name;
  if (name) entry.state = name;
  if (typeof event.index === 'number') entry.index = event.index;
  if (typeof event.Error === 'string') entry.error = event.Error;
  const cause = causeText(event.Cause);
  if (cause !== undefined) entry.cause = cause;
  if (retry?.attempt !== undefined) entry.attempt = retry.attempt;
  if (event.type === 'StateEntered' && state?.input !== undefined) entry.input = state.input;
  if (event.type === 'StateExited' && state?.output !== undefined) entry.output = state.output;
  if (event.type === 'ExecutionStarted') entry.input = event.input;
  if (event.type === 'ExecutionSucceeded') entry.output = event.output;
  return entry;
}

import { randomUUID } from 'node:crypto';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { ExecutionInput } from '../../lambdas/shared/types.js';
import {
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  LOCAL_STATE_MACHINE_ARN,
  handlerFolderOf,
  localSubstitutions,
  functionPlaceholdersOf,
  readAsl,
  substitute,
  taskStates,
} from './definition.js';
import type { S3Client } from '@aws-sdk/client-s3';
import { archiveSettings } from '../../lambdas/shared/config.js';
import { createS3Client } from '../../lambdas/shared/s3.js';
import { asLocalTask, isDistributedMap, runDistributedMap, type ChildOutcome, type ChildRun, type MapState } from './distributed-map.js';
import { loadStepHandler } from './handlers.js';
import { HistoryLimitExceeded, LimitGuard } from './limits.js';
import { ExecutionHistory, type ExecutionRecord, type HistoryEvent } from './history.js';

type Definition = StateMachineDefinition & { StartAt: string; States: Record<string, never> };

interface MapStateDefinition {
  Type: 'Map';
  ItemProcessor?: { StartAt: string; States: Record<string, { Type: string; ResultPath?: unknown; OutputPath?: unknown; ResultSelector?: unknown }> };
}

/** Thrown by redrive() for an execution that cannot be redriven (not failed, or unknown). */
export class ExecutionNotRedrivable extends Error {
  override readonly name = 'ExecutionNotRedrivable';
}

export class ExecutionAlreadyExists extends Error {
  override readonly name = 'ExecutionAlreadyExists';
}

/**
 * The error of an execution whose local engine process ended while it ran (killed, crashed, the machine went down).
 * Step Functions never loses a running execution; the local engine keeps the history on disk, so the next engine that
 * opens it ends such an execution FAILED with this error (recoverInterrupted), and it can be redriven or re-run.
 */
export class ExecutionInterrupted extends Error {
  override readonly name = 'ExecutionInterrupted';
}

export interface LocalEngineOptions {
  /** Where execution histories are kept. */
  historyDir: string;
  /** Overrides every Retry interval (ms): tests use 0; undefined keeps the ASL's own backoff. */
  retryIntervalMs?: number;
  /**
   * With retryIntervalMs set: the interval (ms, default 50) of the retrier for IdempotencyAlreadyInProgressError.
   * That error means another execution is doing the same step right now; only real time lets it finish, so
   * compressing that wait to 0 would turn a harmless overlap into a failure that AWS's seconds-long backoff never sees.
   */
  contentionRetryMs?: number;
  /** Overrides every Wait state (ms): tests use 0; undefined keeps the real wait. */
  waitMs?: number;
  /** Called with each Task's state name and input right before its handler runs (simulated time). */
  beforeTask?: (stateName: string, input: unknown) => void | Promise<void>;
  /**
   * Called with each Task's state name, input and result after its handler returned. Throwing here makes the Task
   * fail after its work was done, as when a Lambda crashes or its answer is lost (tests: `Lambda.Unknown`).
   */
  afterTask?: (stateName: string, input: unknown, output: unknown) => void | Promise<void>;
  /** Lower history limit for tests (default Step Functions' 25,000). */
  historyLimit?: number;
  /**
   * The S3 client a Distributed Map's ItemReader and ResultWriter use (the state machine's role in AWS). Default: one
   * from the environment (AWS_ENDPOINT_URL_S3, S3_FORCE_PATH_STYLE), made when a Map Run first needs it.
   */
  mapRunS3?: () => S3Client;
  /** Called for each history event as it happens (progress display). */
  onEvent?: (event: HistoryEvent, executionName: string) => void;
  /**
   * Called once an execution has ended and its history is saved: the local stand-in for the EventBridge
   * "Execution Status Change" rule (the runtime uses it to tell the team about interrupted runs).
   */
  onExecutionEnded?: (record: ExecutionRecord) => Promise<void>;
  /**
   * Runs this definition text instead of statemachine/attachment-vault.asl.json, its Resources already substituted
   * (the deployed harness passes the rendered definition of the synthesized template). Use it with `invoke`.
   */
  definition?: string;
  /** Serves each Task by calling this with the Task's Resource ARN, instead of the in-process handlers (`integrations` still serve theirs). */
  invoke?: (resourceArn: string, input: unknown) => Promise<unknown>;
  /**
   * Service integrations the engine does not run itself, by Resource ARN (the backfill's
   * `arn:aws:states:::states:startExecution.sync:2`: nested-execution.ts). Lambda Tasks are served as usual.
   */
  integrations?: Record<string, (input: unknown) => Promise<unknown>>;
  /** The state machine ARN executions belong to (default the local one): their ARNs and `$$.StateMachine` follow it. */
  stateMachineArn?: string;
  /**
   * How often (ms, default 1000) a running execution's history is saved while it runs, so that an execution whose
   * process is killed can be redriven from the state it was in (redrive reads the saved events). 0: only at start and end.
   */
  checkpointMs?: number;
  /**
   * The Lambda timeout the handlers see (context.getRemainingTimeInMillis counts down from it; default 900 s).
   * Powertools idempotency keeps a step's in-progress record until that deadline, so after a killed process a retry
   * of the same step waits for it, as it waits for a crashed Lambda's timeout in AWS.
   */
  lambdaTimeoutMs?: number;
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
  private mapRunS3: S3Client | undefined;
  private readonly running = new Map<string, StartedExecution & { input: string }>();
  /** Names whose start is in progress (history checked and saved asynchronously). */
  private readonly starting = new Map<string, Promise<StartedExecution & { input: string }>>();
  /** The periodic save of each running execution's history (its child executions' events go into it too). */
  private readonly checkpoints = new Map<string, Checkpoint>();

  private constructor(
    private readonly definition: Definition,
    private readonly machine: StateMachine,
    private readonly handlers: Record<string, (input: unknown) => Promise<unknown>>,
    private readonly retryableStates: Array<{ name: string; errors: string[][] }>,
    private readonly waitStates: string[],
    /** State name -> type, Map iterations included (what the history counts by). */
    private readonly stateTypes: Map<string, string>,
    readonly history: ExecutionHistory,
    private readonly options: LocalEngineOptions,
    /** Each Distributed Map (swapped for a Task served by distributed-map.ts) with its ItemProcessor as a machine. */
    private readonly distributed: Map<string, { state: MapState; machine: StateMachine }> = new Map(),
  ) {}

  static async create(options: LocalEngineOptions): Promise<LocalEngine> {
    const aslText = options.definition ?? readAsl();
    const substitutions = localSubstitutions(aslText);
    const definition = JSON.parse(substitute(aslText, substitutions)) as Definition;
    clampTimeouts(definition.States as unknown as Record<string, TimedState>);
    const byArn = new Map(functionPlaceholdersOf(aslText).map((p) => [substitutions[p] as string, handlerFolderOf(p)]));
    const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    const retryable: Array<{ name: string; errors: string[][] }> = [];
    const retriers = retrierErrors(definition.States as unknown as Record<string, AnyState>);
    for (const task of taskStates(definition)) {
      retryable.push({ name: task.name, errors: retriers.get(task.name) ?? [] });
      // A service integration is the integration's, even when `invoke` serves every function.
      const integration = options.integrations?.[task.resource];
      if (integration) {
        handlers[task.name] = integration;
        continue;
      }
      const { invoke } = options;
      if (invoke) {
        handlers[task.name] = (input: unknown) => invoke(task.resource, input);
        continue;
      }
      const folder = byArn.get(task.resource);
      if (!folder) throw new Error(`Task ${task.name} has a Resource the local runtime does not provide`);
      const handler = await loadStepHandler(folder);
      handlers[task.name] = (input: unknown) => handler(input, fakeLambdaContext(folder, options.lambdaTimeoutMs ?? 900_000));
    }
    const waits = waitStates(definition.States as unknown as Record<string, AnyState>);
    const types = stateTypesOf(definition.States as unknown as Record<string, AnyState>);
    const distributed = swapDistributedMaps(definition);
    const machine = new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });
    return new LocalEngine(definition, machine, handlers, retryable, waits, types, new ExecutionHistory(options.historyDir), options, distributed);
  }

  /** The state machine this engine's executions belong to. */
  get stateMachineArn(): string {
    return this.options.stateMachineArn ?? LOCAL_STATE_MACHINE_ARN;
  }

  static arnOf(executionName: string): string {
    return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:attachment-vault-local:${executionName}`;
  }

  /**
   * StartExecution semantics: a name is used once. The same name with the same input while it runs
   * returns the running execution; anything else throws ExecutionAlreadyExists. Atomic per name: concurrent
   * calls (a webhook delivered several times at once) start one execution.
   */
  async start(input: ExecutionInput, executionName: string): Promise<StartedExecution> {
    if (!EXECUTION_NAME.test(executionName)) throw new Error(`Invalid execution name ${executionName}`);
    const inputText = JSON.stringify(input);
    const starting = this.starting.get(executionName);
    if (starting) return this.joinOpen(await starting, inputText);
    const open = this.running.get(executionName);
    if (open) return this.joinOpen(open, inputText);
    const begun = this.begin(input, executionName, inputText);
    this.starting.set(executionName, begun);
    try {
      const started = await begun;
      return { executionName, executionArn: started.executionArn, done: started.done };
    } finally {
      this.starting.delete(executionName);
    }
  }

  /** The open execution when the input is the same and it still runs; ExecutionAlreadyExists otherwise. */
  private joinOpen(open: StartedExecution & { input: string }, inputText: string): StartedExecution {
    if (open.input !== inputText || this.running.get(open.executionName) !== open) {
      throw new ExecutionAlreadyExists(`Execution ${open.executionName} already exists`);
    }
    return { executionName: open.executionName, executionArn: open.executionArn, done: open.done };
  }

  private async begin(input: ExecutionInput, executionName: string, inputText: string): Promise<StartedExecution & { input: string }> {
    if (await this.history.get(executionName)) throw new ExecutionAlreadyExists(`Execution ${executionName} already exists`);
    const stateMachineArn = this.options.stateMachineArn ?? LOCAL_STATE_MACHINE_ARN;
    const executionArn = this.options.stateMachineArn ? `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}` : LocalEngine.arnOf(executionName);
    const startDate = new Date().toISOString();
    const record: ExecutionRecord = { executionName, executionArn, stateMachineArn, status: 'RUNNING', input, startDate, pid: process.pid, events: [] };
    await this.history.save(record);
    const done = this.execute(record);
    const started = { executionName, executionArn, done, input: inputText };
    this.running.set(executionName, started);
    void done.finally(() => this.running.delete(executionName));
    return started;
  }

  /** Per state, per retrier: retryIntervalMs, except contentionRetryMs for IdempotencyAlreadyInProgressError. */
  private retryIntervalOverrides(intervalMs: number): Record<string, number[]> {
    const contention = Math.max(intervalMs, this.options.contentionRetryMs ?? 50);
    return Object.fromEntries(
      this.retryableStates.map(({ name, errors }) => [
        name,
        errors.map((names) => (names.includes('IdempotencyAlreadyInProgressError') ? contention : intervalMs)),
      ]),
    );
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

  /**
   * A local stand-in for RedriveExecution: the same execution (name, ARN, input) resumes at the top-level state that
   * was running when it failed, with that state's recorded input. When that state is a Map, iterations that succeeded
   * (caught ones included) are not run again: their recorded results stand in for the iteration's first Task, as
   * Step Functions keeps them; failed and aborted iterations run again. The history grows with an ExecutionRedriven
   * event and the new events. Unlike AWS: no 14-day window, and the definition is the current one.
   */
  async redrive(executionName: string): Promise<StartedExecution> {
    if (this.running.has(executionName) || this.starting.has(executionName)) {
      throw new ExecutionNotRedrivable(`Execution ${executionName} is still running`);
    }
    const record = await this.history.get(executionName);
    if (!record) throw new ExecutionNotRedrivable(`Execution ${executionName} does not exist`);
    if (record.status === 'SUCCEEDED' || record.status === 'RUNNING') {
      throw new ExecutionNotRedrivable(`Execution ${executionName} is ${record.status}; only a failed execution can be redriven`);
    }
    const resumeAt = failedTopLevelState(record.events);
    if (!resumeAt) throw new ExecutionNotRedrivable(`Execution ${executionName} has no state to resume at`);
    const definition = { ...this.definition, StartAt: resumeAt.state } as Definition;
    const machine = new StateMachine(definition, { validationOptions: { noValidate: true } });
    const handlers = { ...this.handlers };
    const scaled = this.distributed.get(resumeAt.state);
    const state = (scaled?.state ?? this.definition.States[resumeAt.state]) as unknown as MapStateDefinition;
    let keptChildren: Map<string, unknown> | undefined;
    if (scaled) {
      // A Map Run redrive: children that succeeded are not run again (their results stand), the others are.
      keptChildren = succeededIterations(record.events, resumeAt.at, scaled.state.ItemProcessor.StartAt);
    } else if (state.Type === 'Map' && state.ItemProcessor) {
      const first = state.ItemProcessor.StartAt;
      const firstState = state.ItemProcessor.States[first];
      const passesResultThrough = firstState?.Type === 'Task' && !firstState.ResultPath && !firstState.OutputPath && !firstState.ResultSelector;
      const kept = succeededIterations(record.events, resumeAt.at, first);
      if (kept.size > 0 && !passesResultThrough) {
        throw new ExecutionNotRedrivable(`Map ${resumeAt.state}: its first state must be a Task that returns its result unchanged`);
      }
      const original = handlers[first];
      if (original) {
        handlers[first] = async (input: unknown) => {
          const key = JSON.stringify(input);
          if (kept.has(key)) return kept.get(key);
          return original(input);
        };
      }
    }
    const redriveCount = record.events.filter((e) => e.type === 'ExecutionRedriven').length + 1;
    record.events.push({ timestamp: new Date().toISOString(), type: 'ExecutionRedriven', state: resumeAt.state, attempt: redriveCount });
    record.status = 'RUNNING';
    record.pid = process.pid;
    delete record.stopDate;
    await this.history.save(record);
    const done = this.execute(record, { machine, input: resumeAt.input, handlers, ...(keptChildren ? { keptChildren } : {}) });
    const started = { executionName, executionArn: record.executionArn, done, input: JSON.stringify(record.input) };
    this.running.set(executionName, started);
    void done.finally(() => this.running.delete(executionName));
    return { executionName, executionArn: record.executionArn, done };
  }

  /** The engine's overrides for one run: the Task handlers given, retry and wait times as configured. */
  private overridesFor(taskResourceLocalHandlers: Record<string, (input: unknown) => Promise<unknown>>): Record<string, unknown> {
    return {
      taskResourceLocalHandlers,
      ...(this.options.retryIntervalMs !== undefined ? { retryIntervalOverrides: this.retryIntervalOverrides(this.options.retryIntervalMs) } : {}),
      ...(this.options.waitMs !== undefined
        ? { waitTimeOverrides: Object.fromEntries(this.waitStates.map((s) => [s, this.options.waitMs as number])) }
        : {}),
    };
  }

  /**
   * The handlers of the Tasks that stand in for Distributed Maps: each runs a Map Run (distributed-map.ts) whose
   * children are child executions of the ItemProcessor (startChild), their events in this record under the Map's name.
   */
  private mapRunHandlers(record: ExecutionRecord, run: ExecutionRun, measured: ChildLimits): Record<string, (input: unknown) => Promise<unknown>> {
    if (this.distributed.size === 0) return {};
    const s3 = () => (this.mapRunS3 ??= this.options.mapRunS3?.() ?? createS3Client(archiveSettings(process.env)));
    return Object.fromEntries(
      [...this.distributed.entries()].map(([name, { state, machine }]) => [
        name,
        (event: unknown) =>
          runDistributedMap(name, state, event as { input: unknown; execution: { Id: string; Name: string } }, {
            s3: s3(),
            startChild: (input, index, childName) => this.startChild({ record, mapName: name, machine, run, measured }, input, index, childName),
          }),
      ]),
    );
  }

  /** One child execution of a Distributed Map: its own limit guard, its events indexed like a Map iteration's. */
  private startChild(child: ChildContext, input: unknown, index: number, childName: string): ChildRun {
    const { record, mapName, run, measured } = child;
    const push = (event: HistoryEvent) => {
      record.events.push(event);
      this.checkpoints.get(record.executionName)?.touch();
      this.options.onEvent?.(event, record.executionName);
    };
    push({ timestamp: new Date().toISOString(), type: 'MapIterationStarted', state: mapName, index });
    const kept = run.keptChildren?.get(JSON.stringify(input));
    if (kept !== undefined) {
      push({ timestamp: new Date().toISOString(), type: 'MapIterationSucceeded', state: mapName, index, output: kept });
      return { done: Promise.resolve({ status: 'SUCCEEDED', output: kept }), abort: () => undefined };
    }
    const guard = new LimitGuard(this.stateTypes, this.options.historyLimit);
    const execution = child.machine.run(input as never, {
      overrides: this.overridesFor(guardedHandlers(run.handlers, guard, this.options)) as never,
      context: {
        Execution: { Id: `${record.executionArn}/${mapName}:${childName}`, Name: childName, Input: input, StartTime: new Date().toISOString(), RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/local` },
        StateMachine: { Id: LOCAL_STATE_MACHINE_ARN, Name: 'attachment-vault-local' },
      } as never,
    });
    let aborted = false;
    const collecting = (async () => {
      for await (const event of execution.eventLogs) {
        const entry = toHistoryEvent(event as unknown as Record<string, unknown>);
        if (entry.type.startsWith('Execution')) continue;
        entry.index = index;
        push(entry);
        guard.observe(entry);
        if (guard.breach instanceof HistoryLimitExceeded) execution.abort();
      }
    })();
    const done = (async (): Promise<ChildOutcome> => {
      let outcome: ChildOutcome;
      try {
        const output = await execution.result;
        outcome = guard.breach ? { status: 'FAILED', error: guard.breach.name, cause: guard.breach.message } : { status: 'SUCCEEDED', output };
      } catch (error) {
        const failure = guard.breach ?? errorOf(error);
        outcome = { status: aborted ? 'ABORTED' : 'FAILED', error: failure.name, cause: failure.message };
      }
      await collecting.catch(() => undefined);
      measured.observe(guard);
      const type = outcome.status === 'SUCCEEDED' ? 'MapIterationSucceeded' : outcome.status === 'ABORTED' ? 'MapIterationAborted' : 'MapIterationFailed';
      push({ timestamp: new Date().toISOString(), type, state: mapName, index, ...('output' in outcome ? { output: outcome.output } : { error: outcome.error, cause: outcome.cause }) });
      return outcome;
    })();
    return {
      done,
      abort: () => {
        aborted = true;
        execution.abort();
      },
    };
  }

  private async execute(
    record: ExecutionRecord,
    run: ExecutionRun = {
      machine: this.machine,
      input: record.input,
      handlers: this.handlers,
    },
  ): Promise<ExecutionRecord> {
    const guard = new LimitGuard(this.stateTypes, this.options.historyLimit);
    const measured = new ChildLimits();
    const overrides = this.overridesFor({ ...guardedHandlers(run.handlers, guard, this.options), ...this.mapRunHandlers(record, run, measured) });
    const execution = run.machine.run(run.input as never, {
      overrides: overrides as never,
      context: {
        Execution: { Id: record.executionArn, Name: record.executionName, Input: record.input, StartTime: record.startDate, RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/local` },
        StateMachine: { Id: record.stateMachineArn, Name: record.stateMachineArn.split(':').pop() },
      } as never,
    });
    const checkpoint = new Checkpoint(() => this.history.save(record), this.options.checkpointMs ?? 1000);
    this.checkpoints.set(record.executionName, checkpoint);
    const collecting = (async () => {
      for await (const event of execution.eventLogs) {
        const entry = toHistoryEvent(event as unknown as Record<string, unknown>);
        record.events.push(entry);
        checkpoint.touch();
        guard.observe(entry);
        this.options.onEvent?.(entry, record.executionName);
        if (guard.breach instanceof HistoryLimitExceeded) execution.abort();
      }
    })();
    try {
      record.output = await execution.result;
      record.status = 'SUCCEEDED';
      delete record.error;
      delete record.cause;
    } catch (error) {
      record.status = 'FAILED';
      const failure = error as { name?: string; cause?: { name?: string; message?: string }; message?: string };
      // aws-local-stepfunctions wraps the state's error: its `cause` carries the error name and message.
      record.error = failure.cause?.name ?? failure.name ?? 'Error';
      record.cause = failure.cause?.message ?? failure.message ?? '';
    }
    await collecting.catch(() => undefined);
    const failed = record.status === 'FAILED' ? record.events.findLast((e) => e.type === 'ExecutionFailed') : undefined;
    if (failed?.error) {
      record.error = failed.error;
      record.cause = failed.cause ?? record.cause;
    }
    if (guard.breach) {
      // A limit crossed by a state that is not a Task (its output), or a full history: the execution fails, as in AWS.
      record.status = 'FAILED';
      record.error = guard.breach.name;
      record.cause = guard.breach.message;
      delete record.output;
    }
    record.limits = {
      historyEvents: guard.events,
      largestPayloadBytes: guard.largestPayload.bytes,
      largestPayloadAt: guard.largestPayload.where,
      ...(measured.children > 0 ? { childExecutions: measured.children, largestChildHistoryEvents: measured.events, largestChildPayloadBytes: measured.payload.bytes, largestChildPayloadAt: measured.payload.where } : {}),
    };
    record.stopDate = new Date().toISOString();
    delete record.pid;
    await checkpoint.stop();
    this.checkpoints.delete(record.executionName);
    await this.history.save(record);
    await this.options.onExecutionEnded?.(record).catch(() => undefined);
    return record;
  }

  /**
   * Ends every execution the history shows RUNNING whose engine process is gone (killed while it ran): FAILED with
   * ExecutionInterrupted, then announced like any other end (onExecutionEnded: the ticket's lock and tag are released,
   * the team is told). What an operator then does is what they do with any failed run: redrive it (it resumes at the
   * state its saved history was in) or re-run the ticket. Executions of live processes are left alone.
   */
  async recoverInterrupted(): Promise<ExecutionRecord[]> {
    const recovered: ExecutionRecord[] = [];
    for (const record of await this.history.list()) {
      const name = record.executionName;
      if (record.status !== 'RUNNING' || this.running.has(name) || this.starting.has(name)) continue;
      if (record.pid === process.pid || (record.pid !== undefined && processAlive(record.pid))) continue;
      const cause = `The local engine's process${record.pid !== undefined ? ` (pid ${record.pid})` : ''} ended while the execution ran; redrive it or re-run the ticket.`;
      record.status = 'FAILED';
      record.error = new ExecutionInterrupted().name;
      record.cause = cause;
      record.stopDate = new Date().toISOString();
      record.events.push({ timestamp: record.stopDate, type: 'ExecutionFailed', error: record.error, cause });
      delete record.pid;
      await this.history.save(record);
      await this.options.onExecutionEnded?.(record).catch(() => undefined);
      recovered.push(record);
    }
    return recovered;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

/**
 * Saves a running execution's history at most every `ms` while events come in (never two saves at once), so the
 * history on disk is at most that far behind: what a redrive after a killed process resumes from.
 */
class Checkpoint {
  private timer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly save: () => Promise<void>,
    private readonly ms: number,
  ) {}

  touch(): void {
    if (this.stopped || this.ms <= 0 || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.saving = this.saving.then(this.save).catch(() => undefined);
    }, this.ms);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.saving;
  }
}

/** What one run of the machine needs: the machine, its input, its Task handlers, and a redriven Map Run's kept children. */
interface ExecutionRun {
  machine: StateMachine;
  input: unknown;
  handlers: Record<string, (input: unknown) => Promise<unknown>>;
  /** Results of a Distributed Map's children that succeeded before a redrive, by child input. */
  keptChildren?: Map<string, unknown>;
}

interface ChildContext {
  record: ExecutionRecord;
  mapName: string;
  machine: StateMachine;
  run: ExecutionRun;
  measured: ChildLimits;
}

/** The largest history and payload among a Map Run's children (each child has its own 25,000 events and 256 KiB). */
class ChildLimits {
  children = 0;
  events = 0;
  payload = { bytes: 0, where: '' };

  observe(guard: LimitGuard): void {
    this.children += 1;
    this.events = Math.max(this.events, guard.events);
    if (guard.largestPayload.bytes > this.payload.bytes) this.payload = guard.largestPayload;
  }
}

function errorOf(error: unknown): { name: string; message: string } {
  const failure = error as { name?: string; cause?: { name?: string; message?: string }; message?: string };
  return { name: failure.cause?.name ?? failure.name ?? 'Error', message: failure.cause?.message ?? failure.message ?? '' };
}

/** Replaces each top-level Distributed Map with the Task that runs it locally; returns the Maps, with machines. */
/** The longest a Node.js timer waits (2^31 - 1 ms, about 24.8 days), in whole seconds. */
export const LONGEST_LOCAL_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

interface TimedState {
  TimeoutSeconds?: number;
  ItemProcessor?: { States: Record<string, TimedState> };
  Iterator?: { States: Record<string, TimedState> };
  Branches?: Array<{ States: Record<string, TimedState> }>;
}

/**
 * A Task's TimeoutSeconds past what a Node.js timer can wait is clamped to it: aws-local-stepfunctions times a Task
 * with setTimeout, which fires at once for a longer delay (the backfill's RunTicket waits up to 30 days, so every item
 * would end States.Timeout immediately). Step Functions itself takes up to 99,999,999 s.
 */
function clampTimeouts(states: Record<string, TimedState>): void {
  for (const state of Object.values(states)) {
    if (typeof state.TimeoutSeconds === 'number' && state.TimeoutSeconds > LONGEST_LOCAL_TIMEOUT_SECONDS) state.TimeoutSeconds = LONGEST_LOCAL_TIMEOUT_SECONDS;
    for (const nested of [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])]) if (nested) clampTimeouts(nested.States);
  }
}

function swapDistributedMaps(definition: Definition): Map<string, { state: MapState; machine: StateMachine }> {
  const swapped = new Map<string, { state: MapState; machine: StateMachine }>();
  const states = definition.States as unknown as Record<string, MapState>;
  for (const [name, state] of Object.entries(states)) {
    if (!isDistributedMap(state)) continue;
    const processor = { StartAt: state.ItemProcessor.StartAt, States: state.ItemProcessor.States } as unknown as StateMachineDefinition;
    swapped.set(name, { state, machine: new StateMachine(processor, { validationOptions: { checkArn: true, checkPaths: true } }) });
    (states as Record<string, unknown>)[name] = asLocalTask(name, state);
  }
  return swapped;
}

interface AnyState {
  Type: string;
  Retry?: Array<{ ErrorEquals: string[] }>;
  ItemProcessor?: { States: Record<string, AnyState> };
}

/** State name -> Type, Map iterations included. */
function stateTypesOf(states: Record<string, AnyState>, into = new Map<string, string>()): Map<string, string> {
  for (const [name, state] of Object.entries(states)) {
    into.set(name, state.Type);
    if (state.ItemProcessor) stateTypesOf(state.ItemProcessor.States, into);
  }
  return into;
}

/**
 * Each Task handler with the test hooks around it, behind the execution's limit guard: no limit was crossed before
 * it, and its input and its result must fit.
 */
function guardedHandlers(
  handlers: Record<string, (input: unknown) => Promise<unknown>>,
  guard: LimitGuard,
  hooks: Pick<LocalEngineOptions, 'beforeTask' | 'afterTask'>,
): Record<string, (input: unknown) => Promise<unknown>> {
  return Object.fromEntries(
    Object.entries(handlers).map(([name, handler]) => [
      name,
      async (input: unknown) => {
        await guard.beforeTask();
        await hooks.beforeTask?.(name, input);
        guard.payload(`${name} input`, input, name, true);
        const output = await handler(input);
        await hooks.afterTask?.(name, input, output);
        guard.payload(`${name} result`, output, name, true);
        return output;
      },
    ]),
  );
}

/** Every Wait state's name, Map iterations included. */
function waitStates(states: Record<string, AnyState>): string[] {
  return Object.entries(states).flatMap(([name, state]) => [
    ...(state.Type === 'Wait' ? [name] : []),
    ...(state.ItemProcessor ? waitStates(state.ItemProcessor.States) : []),
  ]);
}

/** The ErrorEquals of every retrier, per state name (Map iterations included). */
function retrierErrors(states: Record<string, AnyState>, into = new Map<string, string[][]>()): Map<string, string[][]> {
  for (const [name, state] of Object.entries(states)) {
    if (state.Retry) into.set(name, state.Retry.map((r) => r.ErrorEquals));
    if (state.ItemProcessor) retrierErrors(state.ItemProcessor.States, into);
  }
  return into;
}

/**
 * The top-level state that was running when the execution failed (entered, never exited since the last start or
 * redrive), with its recorded input and position.
 */
function failedTopLevelState(events: HistoryEvent[]): { state: string; input: unknown; at: number } | undefined {
  for (let at = events.length - 1; at >= 0; at--) {
    const event = events[at]!;
    if (event.type === 'ExecutionRedriven') return undefined;
    if (event.index !== undefined || !event.state) continue;
    if (event.type === 'StateExited') return undefined;
    if (event.type === 'StateEntered') return { state: event.state, input: event.input, at };
  }
  return undefined;
}

/**
 * Results of the Map iterations that succeeded since `from` (the Map's StateEntered), keyed by the input of the
 * iteration's first state: what a redrive keeps.
 */
function succeededIterations(events: HistoryEvent[], from: number, firstState: string): Map<string, unknown> {
  const inputs = new Map<number, unknown>();
  const kept = new Map<string, unknown>();
  for (const event of events.slice(from)) {
    if (event.index === undefined) continue;
    if (event.type === 'StateEntered' && event.state === firstState && !inputs.has(event.index)) inputs.set(event.index, event.input);
    if (event.type === 'MapIterationSucceeded' && inputs.has(event.index) && event.output !== undefined) {
      kept.set(JSON.stringify(inputs.get(event.index)), event.output);
    }
  }
  return kept;
}

function fakeLambdaContext(folder: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  return {
    functionName: `attachment-vault-${folder}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:attachment-vault-${folder}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/attachment-vault-${folder}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
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
  if (event.type === 'ExecutionSucceeded' || event.type === 'MapIterationSucceeded') entry.output = event.output;
  return entry;
}

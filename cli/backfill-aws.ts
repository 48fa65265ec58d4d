import { parseArgs } from 'node:util';
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  ListMapRunsCommand,
  RedriveExecutionCommand,
  StartExecutionCommand,
  UpdateMapRunCommand,
  type DescribeExecutionOutput,
  type DescribeMapRunOutput,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { RUN_ID } from '../lambdas/shared/backfill-files.js';
import { ConfigurationError } from '../lambdas/shared/errors.js';
import { BACKFILL_RUN_PREFIX } from '../lambdas/shared/traffic.js';
import { newRunId } from './backfill-local.js';
import { awsTarget, executionArnOf, ExecutionNotFound, nameOf, regionOfArn, type RedriveReport } from './executions.js';
import { formatDuration, formatTime } from './format.js';
import { UsageError } from './output.js';
import { DEFAULT_MAX_CONCURRENCY, parseMaxConcurrency, startOptionsOf, type StartOptions } from './backfill-options.js';

export { DEFAULT_MAX_CONCURRENCY, defaultMaxConcurrency, EARLIEST_SINCE, MAX_CONCURRENCY, parseMaxConcurrency, startOptionsOf, type StartOptions } from './backfill-options.js';

/**
 * `attachment-vault backfill start|status|throttle|redrive` against the deployed backfill state machine
 * (statemachine/backfill.asl.json) through the Step Functions API. A run is the execution `backfill-<runId>` (the same
 * name the local backfill gives it); its tickets are the Distributed Map's Map Run (ListMapRuns, DescribeMapRun,
 * UpdateMapRun), its Zendesk requests the request budget's cumulative counts (`budget#taken`).
 *
 * Settings are the stack's outputs as environment variables: BACKFILL_STATE_MACHINE_ARN (BackfillStateMachineArn; or
 * --state-machine-arn), BACKFILL_MAX_CONCURRENCY (BackfillMaxConcurrency: the default --max-concurrency, else 10),
 * ZENDESK_BUDGET_TABLE (ZendeskBudgetTableName: optional, for the requests used).
 */


export class MapRunNotFound extends Error {
  override readonly name = 'MapRunNotFound';
}

export class MapRunNotRunning extends Error {
  override readonly name = 'MapRunNotRunning';
}

/** Requests taken and refused per traffic class, ever (the budget's `budget#taken` item). */
export type BudgetCounts = Record<'live' | 'backfill' | 'liveRefused' | 'backfillRefused', number>;

/** The backfill machine, its client, and where the budget's counters are read (when ZENDESK_BUDGET_TABLE is set). */
export interface BackfillTarget {
  sfn: SFNClient;
  stateMachineArn: string;
  /** The request budget's cumulative counts (request-budget.ts budgetTaken). */
  budgetTaken?: () => Promise<BudgetCounts>;
}

export async function backfillTarget(options: { stateMachineArn?: string; sfn?: SFNClient }, env: NodeJS.ProcessEnv = process.env): Promise<BackfillTarget> {
  const stateMachineArn = options.stateMachineArn ?? (env.BACKFILL_STATE_MACHINE_ARN?.trim() || undefined);
  if (!stateMachineArn) throw new ConfigurationError("set BACKFILL_STATE_MACHINE_ARN (the stack's BackfillStateMachineArn output) or pass --state-machine-arn");
  // No STATE_MACHINE_ARN fallback here: that is the per-ticket machine.
  const target = awsTarget({ stateMachineArn, ...(options.sfn ? { sfn: options.sfn } : {}) }, {});
  const table = env.ZENDESK_BUDGET_TABLE?.trim();
  let budgetTaken: BackfillTarget['budgetTaken'];
  if (table) {
    budgetTaken = async () => {
      const [{ DynamoDBClient }, { DynamoDBDocumentClient }, { budgetTaken: read }] = await Promise.all([
        import('@aws-sdk/client-dynamodb'),
        import('@aws-sdk/lib-dynamodb'),
        import('../lambdas/shared/request-budget.js'),
      ]);
      const region = regionOfArn(stateMachineArn);
      const doc = DynamoDBDocumentClient.from(new DynamoDBClient(region ? { region } : {}));
      try {
        return await read(doc, table);
      } finally {
        doc.destroy();
      }
    };
  }
  return { sfn: target.sfn, stateMachineArn, ...(budgetTaken ? { budgetTaken } : {}) };
}

// ---- names ----

/** A run's ID from what the operator passed: the runId, the execution name backfill-<runId>, or its ARN. */
export function runIdOf(value: string | undefined): string {
  if (!value) throw new UsageError('give the run ID (what backfill start printed)');
  const name = value.startsWith('arn:') ? nameOf(value) : value;
  const runId = name.startsWith(BACKFILL_RUN_PREFIX) ? name.slice(BACKFILL_RUN_PREFIX.length) : name;
  if (!RUN_ID.test(runId)) throw new UsageError(`not a backfill run ID: ${JSON.stringify(value)}`);
  return runId;
}

export function backfillExecutionName(runId: string): string {
  return `${BACKFILL_RUN_PREFIX}${runId}`;
}

/** The execution in the Step Functions console (the stack's EXECUTION_CONSOLE_URL form). */
export function consoleUrlOf(executionArn: string): string {
  const region = regionOfArn(executionArn) ?? 'us-east-1';
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

// ---- start ----

export interface StartReport {
  runId: string;
  executionName: string;
  executionArn: string;
  consoleUrl: string;
  startDate: string;
  status: 'RUNNING';
  input: StartOptions & { runId: string; budgetTakenAtStart?: number };
}

/**
 * Starts the backfill execution `backfill-<runId>`. Its input is what the ASL's Begin requires, and the budget's
 * backfill counter at the start (budgetTakenAtStart, when the table is readable), from which status counts the run's
 * requests; Begin passes on only the fields it names.
 */
export async function startBackfill(target: BackfillTarget, options: StartOptions, now: Date = new Date()): Promise<StartReport> {
  const runId = newRunId(now);
  const executionName = backfillExecutionName(runId);
  const taken = await target.budgetTaken?.().catch(() => undefined);
  const input = { runId, ...options, ...(taken ? { budgetTakenAtStart: taken.backfill } : {}) };
  const result = await target.sfn.send(new StartExecutionCommand({ stateMachineArn: target.stateMachineArn, name: executionName, input: JSON.stringify(input) }));
  const executionArn = result.executionArn ?? executionArnOf(executionName, target.stateMachineArn);
  return { runId, executionName, executionArn, consoleUrl: consoleUrlOf(executionArn), startDate: (result.startDate ?? now).toISOString(), status: 'RUNNING', input };
}

// ---- status ----

export interface TicketCounts {
  total: number;
  done: number;
  failed: number;
  remaining: number;
  running: number;
}

export interface StatusReport {
  runId: string;
  executionArn: string;
  consoleUrl: string;
  status: string;
  /** selecting: SelectTickets is paging Export Search (no Map Run yet); tickets: the Map Run; ended: the execution ended. */
  phase: 'selecting' | 'tickets' | 'ended';
  startDate: string;
  stopDate?: string;
  since?: string;
  until?: string;
  maxConcurrency?: number;
  mapRunArn?: string;
  mapRunStatus?: string;
  /** From the Map Run's itemCounts: done = succeeded; failed = failed, timed out or aborted; remaining = the rest. */
  tickets: TicketCounts | null;
  /**
   * Zendesk requests: `used` is this run's (the budget's backfill count now minus at the start; other backfills
   * running at the same time count too), `refused` the backfill's refusals since the budget began counting, the
   * totals the budget's counts. Null without ZENDESK_BUDGET_TABLE.
   */
  requests: { used: number | null; backfillTotal: number; liveTotal: number; backfillRefused: number } | null;
  /** Remaining tickets at the rate so far (RUNNING, after the first finished ticket). */
  etaSeconds: number | null;
  eta: string | null;
  error?: string;
  cause?: string;
  redriveCount?: number;
}

function parsed(text: string | undefined): Record<string, unknown> | undefined {
  try {
    const value = text ? (JSON.parse(text) as unknown) : undefined;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

async function describeRun(sfn: SFNClient, executionArn: string): Promise<DescribeExecutionOutput> {
  try {
    return await sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (error) {
    if (error instanceof Error && error.name === 'ExecutionDoesNotExist') throw new ExecutionNotFound(`no backfill execution ${executionArn}`);
    throw error;
  }
}

/** The run's Map Run (the latest, should there be several), or undefined before BackfillTickets started. */
async function mapRunOf(sfn: SFNClient, executionArn: string): Promise<DescribeMapRunOutput | undefined> {
  let runs;
  try {
    runs = (await sfn.send(new ListMapRunsCommand({ executionArn }))).mapRuns ?? [];
  } catch (error) {
    if (error instanceof Error && error.name === 'ExecutionDoesNotExist') throw new ExecutionNotFound(`no backfill execution ${executionArn}`);
    throw error;
  }
  const latest = [...runs].sort((a, b) => (b.startDate?.getTime() ?? 0) - (a.startDate?.getTime() ?? 0))[0];
  if (!latest?.mapRunArn) return undefined;
  return sfn.send(new DescribeMapRunCommand({ mapRunArn: latest.mapRunArn }));
}

function ticketCounts(mapRun: DescribeMapRunOutput): TicketCounts {
  const c = mapRun.itemCounts;
  const total = c?.total ?? 0;
  const done = c?.succeeded ?? 0;
  const failed = (c?.failed ?? 0) + (c?.timedOut ?? 0) + (c?.aborted ?? 0);
  return { total, done, failed, remaining: Math.max(0, total - done - failed), running: c?.running ?? 0 };
}

export async function backfillStatus(target: BackfillTarget, runIdValue: string, now: Date = new Date()): Promise<StatusReport> {
  const runId = runIdOf(runIdValue);
  const executionArn = executionArnOf(backfillExecutionName(runId), target.stateMachineArn);
  const execution = await describeRun(target.sfn, executionArn);
  const mapRun = await mapRunOf(target.sfn, executionArn);
  const input = parsed(execution.input) ?? {};
  const output = parsed(execution.output);
  const status = execution.status ?? 'UNKNOWN';
  const tickets = mapRun ? ticketCounts(mapRun) : status === 'SUCCEEDED' && typeof output?.tickets === 'number' ? { total: output.tickets, done: Number(output.succeeded ?? 0), failed: Number(output.failed ?? 0), remaining: 0, running: 0 } : null;
  let requests: StatusReport['requests'] = null;
  const taken = await target.budgetTaken?.();
  if (taken) {
    const atStart = typeof input.budgetTakenAtStart === 'number' ? input.budgetTakenAtStart : undefined;
    requests = {
      used: atStart !== undefined ? Math.max(0, taken.backfill - atStart) : null,
      backfillTotal: taken.backfill,
      liveTotal: taken.live,
      backfillRefused: taken.backfillRefused,
    };
  }
  let etaSeconds: number | null = null;
  const started = mapRun?.startDate?.getTime();
  if (status === 'RUNNING' && tickets && started !== undefined && tickets.remaining > 0) {
    const finished = tickets.done + tickets.failed;
    const elapsed = (now.getTime() - started) / 1000;
    if (finished > 0 && elapsed > 0) etaSeconds = Math.round((tickets.remaining * elapsed) / finished);
  }
  const maxConcurrency = mapRun?.maxConcurrency ?? (typeof input.maxConcurrency === 'number' ? input.maxConcurrency : undefined);
  return {
    runId,
    executionArn,
    consoleUrl: consoleUrlOf(executionArn),
    status,
    phase: status !== 'RUNNING' ? 'ended' : mapRun ? 'tickets' : 'selecting',
    startDate: (execution.startDate ?? new Date(0)).toISOString(),
    ...(execution.stopDate ? { stopDate: execution.stopDate.toISOString() } : {}),
    ...(typeof input.since === 'string' ? { since: input.since } : {}),
    ...(typeof input.until === 'string' ? { until: input.until } : {}),
    ...(maxConcurrency !== undefined ? { maxConcurrency } : {}),
    ...(mapRun?.mapRunArn ? { mapRunArn: mapRun.mapRunArn, ...(mapRun.status ? { mapRunStatus: mapRun.status } : {}) } : {}),
    tickets,
    requests,
    etaSeconds,
    eta: etaSeconds === null ? null : new Date(now.getTime() + etaSeconds * 1000).toISOString(),
    ...(execution.error ? { error: execution.error } : {}),
    ...(execution.cause ? { cause: execution.cause } : {}),
    ...(execution.redriveCount ? { redriveCount: execution.redriveCount } : {}),
  };
}

/** `backfill 20261206T231500-a1b2: 120/1000 tickets done, 3 failed, 877 remaining, 5400 requests, ETA 1h 20m`. */
export function progressLine(report: StatusReport): string {
  const t = report.tickets;
  const parts: string[] = [];
  if (report.status !== 'RUNNING') parts.push(report.status);
  else if (report.phase === 'selecting') parts.push('selecting tickets');
  if (t) parts.push(`${t.done}/${t.total} tickets done, ${t.failed} failed, ${t.remaining} remaining`);
  if (report.requests?.used !== null && report.requests?.used !== undefined) parts.push(`${report.requests.used} requests`);
  if (report.etaSeconds !== null) parts.push(`ETA ${formatDuration(report.etaSeconds * 1000)}`);
  return `backfill ${report.runId}: ${parts.join(', ')}`;
}

export function formatStatus(report: StatusReport): string {
  const out: string[] = [];
  const field = (label: string, value: string | undefined) => {
    if (value) out.push(`${label.padEnd(13)}${value}`);
  };
  field('run', report.runId);
  field('execution', report.executionArn);
  field('console', report.consoleUrl);
  field('status', `${report.status}${report.status === 'RUNNING' ? ` (${report.phase === 'selecting' ? 'selecting tickets' : 'running tickets'})` : ''}`);
  field('dates', report.since && report.until ? `created ${report.since} to ${report.until} (exclusive)` : undefined);
  field('started', `${formatTime(report.startDate)}${report.stopDate ? `, stopped ${formatTime(report.stopDate)}` : ''}`);
  field('concurrency', report.maxConcurrency !== undefined ? String(report.maxConcurrency) : undefined);
  const t = report.tickets;
  field('tickets', t ? `${t.done} done, ${t.failed} failed, ${t.remaining} remaining (${t.running} running) of ${t.total}` : 'not selected yet');
  if (report.requests) {
    const r = report.requests;
    field('requests', `${r.used ?? 'unknown'} used by this run (budget counts: backfill ${r.backfillTotal} taken, ${r.backfillRefused} refused; live ${r.liveTotal} taken)`);
  } else field('requests', 'unknown (set ZENDESK_BUDGET_TABLE)');
  field('eta', report.etaSeconds !== null ? `${formatDuration(report.etaSeconds * 1000)} (${formatTime(report.eta ?? undefined)})` : undefined);
  field('redrives', report.redriveCount ? String(report.redriveCount) : undefined);
  field('error', report.error);
  field('cause', report.cause);
  return out.join('\n');
}

export interface WatchOptions {
  intervalMs: number;
  /** Called with each report (the CLI draws its progress line). */
  onReport?: (report: StatusReport) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => Date;
}

/** Status until the run is no longer RUNNING; the last report. */
export async function watchBackfill(target: BackfillTarget, runId: string, options: WatchOptions): Promise<StatusReport> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (;;) {
    const report = await backfillStatus(target, runId, options.now?.() ?? new Date());
    options.onReport?.(report);
    if (report.status !== 'RUNNING') return report;
    await sleep(options.intervalMs);
  }
}

// ---- throttle ----

export interface ThrottleReport {
  runId: string;
  mapRunArn: string;
  maxConcurrency: number;
  previousMaxConcurrency?: number;
}

/** UpdateMapRun: the Map Run's concurrency from now on (running children go on; new ones start up to the new limit). */
export async function throttleBackfill(target: BackfillTarget, runIdValue: string, maxConcurrency: number): Promise<ThrottleReport> {
  const runId = runIdOf(runIdValue);
  const executionArn = executionArnOf(backfillExecutionName(runId), target.stateMachineArn);
  const mapRun = await mapRunOf(target.sfn, executionArn);
  if (!mapRun?.mapRunArn) throw new MapRunNotFound(`backfill ${runId} has no Map Run yet (it is still selecting tickets, or ended before): throttle once its tickets run (backfill status ${runId})`);
  if (mapRun.status !== 'RUNNING') throw new MapRunNotRunning(`backfill ${runId}'s Map Run is ${mapRun.status ?? 'not running'}: there is nothing to throttle`);
  await target.sfn.send(new UpdateMapRunCommand({ mapRunArn: mapRun.mapRunArn, maxConcurrency }));
  return { runId, mapRunArn: mapRun.mapRunArn, maxConcurrency, ...(mapRun.maxConcurrency !== undefined ? { previousMaxConcurrency: mapRun.maxConcurrency } : {}) };
}

// ---- redrive ----

/** What redriving the backfill does to its tickets (README: Backfill). */
export const MAP_RUN_REDRIVE =
  'RedriveExecution resumes the backfill at BackfillTickets and redrives its Map Run: tickets that succeeded are kept; every failed, timed-out or aborted item runs again. ' +
  "An item whose ticket execution bf-<runId>-<ticketId> never started (Step Functions throttled, the item's own retries ran out) starts it now. " +
  'An item whose ticket execution exists already finds the name taken and reads how that execution ended (LookUpTicketRun): a ticket whose execution failed fails again and is reported again. ' +
  'To process failed tickets again, start new executions for them: attachment-vault rerun --failed (or redrive each failed bf- execution first, then the backfill).';

/** `executions redrive`'s report for the backfill's execution, with its run and what its Map Run's redrive does. */
export interface BackfillRedriveReport extends Omit<RedriveReport, 'ticketId'> {
  runId: string;
  mapRun: string;
}

function refusalHint(execution: DescribeExecutionOutput): string {
  if (execution.status === 'SUCCEEDED') return 'it succeeded: every selected ticket was archived and redacted';
  if (execution.status === 'RUNNING') return 'it is still running: wait for it to end (backfill status --watch), then redrive it if it fails';
  return 'Step Functions will not redrive it (redrive works within 14 days of a FAILED, ABORTED or TIMED_OUT end): start the failed tickets again with attachment-vault rerun --failed, or a new backfill start';
}

export async function redriveBackfill(target: BackfillTarget, runIdValue: string): Promise<BackfillRedriveReport> {
  const runId = runIdOf(runIdValue);
  const executionArn = executionArnOf(backfillExecutionName(runId), target.stateMachineArn);
  try {
    const result = await target.sfn.send(new RedriveExecutionCommand({ executionArn }));
    return { runId, executionArn, redriven: true, redriveDate: (result.redriveDate ?? new Date()).toISOString(), mapRun: MAP_RUN_REDRIVE };
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    if (name === 'ExecutionDoesNotExist') throw new ExecutionNotFound(`no backfill execution ${executionArn}`);
    let execution: DescribeExecutionOutput;
    try {
      execution = await target.sfn.send(new DescribeExecutionCommand({ executionArn }));
    } catch {
      throw error;
    }
    return {
      runId,
      executionArn,
      redriven: false,
      error: name,
      message: error instanceof Error ? error.message : String(error),
      ...(execution.status ? { status: execution.status } : {}),
      ...(execution.redriveStatus ? { redriveStatus: execution.redriveStatus } : {}),
      ...(execution.redriveStatusReason ? { redriveStatusReason: execution.redriveStatusReason } : {}),
      hint: refusalHint(execution),
      mapRun: MAP_RUN_REDRIVE,
    };
  }
}

// ---- the command ----

export interface BackfillIo {
  printJson(document: unknown): void;
  printLine(text: string): void;
  /** stderr: a line for the operator. */
  log(line: string): void;
  /** stderr when it is a terminal: the progress line (rewritten in place); undefined otherwise. */
  progress?: (line: string, end?: boolean) => void;
  env: NodeJS.ProcessEnv;
  sfn?: SFNClient;
  sleep?: (ms: number) => Promise<void>;
}

export const WATCH_INTERVAL_MS = 15_000;
export const BACKFILL_AWS_COMMANDS = new Set(['start', 'status', 'throttle', 'redrive']);

/** `backfill start|status|throttle|redrive …`: prints its document; the exit code (0 ok, 1 failed; usage errors throw). */
export async function backfillAwsCommand(sub: string, args: string[], io: BackfillIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      since: { type: 'string' },
      until: { type: 'string' },
      query: { type: 'string' },
      'max-concurrency': { type: 'string' },
      'state-machine-arn': { type: 'string' },
      json: { type: 'boolean', default: false },
      watch: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  const only = (allowed: string[]) => {
    const given = (['since', 'until', 'query', 'max-concurrency', 'watch'] as const).filter((k) => values[k] !== undefined && values[k] !== false);
    const extra = given.filter((k) => !allowed.includes(k));
    if (extra.length) throw new UsageError(`backfill ${sub} does not take --${extra.join(', --')}`);
  };
  const one = (): string => {
    if (positionals.length !== 1) throw new UsageError(`backfill ${sub} needs one run ID`);
    return positionals[0]!;
  };
  const target = () => backfillTarget({ ...(values['state-machine-arn'] ? { stateMachineArn: values['state-machine-arn'] } : {}), ...(io.sfn ? { sfn: io.sfn } : {}) }, io.env);
  switch (sub) {
    case 'start': {
      only(['since', 'until', 'query', 'max-concurrency']);
      if (positionals.length) throw new UsageError('backfill start takes no arguments');
      const options = startOptionsOf(values, io.env);
      const report = await startBackfill(await target(), options);
      io.printJson(report);
      io.log(`started backfill ${report.runId}: attachment-vault backfill status ${report.runId}`);
      return 0;
    }
    case 'status': {
      only(['watch']);
      const runId = one();
      const t = await target();
      if (!values.watch) {
        const report = await backfillStatus(t, runId);
        if (values.json) io.printJson(report);
        else io.printLine(formatStatus(report));
        return 0;
      }
      const report = await watchBackfill(t, runId, { intervalMs: WATCH_INTERVAL_MS, ...(io.sleep ? { sleep: io.sleep } : {}), onReport: (r) => io.progress?.(progressLine(r), r.status !== 'RUNNING') });
      if (values.json) io.printJson(report);
      else io.printLine(formatStatus(report));
      return report.status === 'SUCCEEDED' ? 0 : 1;
    }
    case 'throttle': {
      only(['max-concurrency']);
      const runId = one();
      if (values['max-concurrency'] === undefined) throw new UsageError('backfill throttle needs --max-concurrency N');
      const maxConcurrency = parseMaxConcurrency(values['max-concurrency'], DEFAULT_MAX_CONCURRENCY);
      try {
        const report = await throttleBackfill(await target(), runId, maxConcurrency);
        io.printJson(report);
        io.log(`backfill ${report.runId} now runs at most ${report.maxConcurrency} tickets at once${report.previousMaxConcurrency !== undefined ? ` (was ${report.previousMaxConcurrency})` : ''}`);
        return 0;
      } catch (error) {
        if (!(error instanceof MapRunNotFound || error instanceof MapRunNotRunning)) throw error;
        io.printJson({ runId: runIdOf(runId), throttled: false, error: error.name, message: error.message });
        io.log(error.message);
        return 1;
      }
    }
    case 'redrive': {
      only([]);
      const report = await redriveBackfill(await target(), one());
      io.printJson(report);
      io.log(report.redriven ? `redriven at ${formatTime(report.redriveDate)}: ${report.executionArn}\n${report.mapRun}` : `redrive refused (${report.error}): ${report.message}\n${report.hint ?? ''}`);
      return report.redriven ? 0 : 1;
    }
    default:
      throw new UsageError(`Unknown command "backfill ${sub}"`);
  }
}

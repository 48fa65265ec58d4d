import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  RedriveExecutionCommand,
  StartExecutionCommand,
  type DescribeExecutionOutput,
  type ExecutionStatus as SfnStatus,
  type HistoryEvent as SfnEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { ConfigurationError } from '../lambdas/shared/errors.js';
import type { ExecutionInput } from '../lambdas/shared/types.js';
import { historyEventsFromAws } from './aws-history.js';
import {
  detailsOf,
  executionArnOf,
  ExecutionNotFound,
  nameOf,
  rerunHint,
  ticketIdOfInput,
  ticketIdOfName,
  type AnyRecord,
  type AwsTarget,
  type ExecutionDetails,
  type ExecutionRow,
  type ListQuery,
  type RedriveReport,
  type RerunReport,
} from './executions.js';
import { runExecutionName, runFileReader } from './run.js';
import { withRunFiles } from '../local/runtime/summary.js';

/** `executions list|show|redrive` and `rerun` against the deployed state machine, through the Step Functions API. */

function requireStateMachine(target: AwsTarget, why: string): string {
  if (!target.stateMachineArn) throw new ConfigurationError(`set STATE_MACHINE_ARN or pass --state-machine-arn ${why} (the stack's StateMachineArn output)`);
  return target.stateMachineArn;
}

export async function listAwsExecutions(target: AwsTarget, query: ListQuery): Promise<ExecutionRow[]> {
  const { status, since, limit } = query;
  const stateMachineArn = requireStateMachine(target, 'to list executions');
  const rows: ExecutionRow[] = [];
  let nextToken: string | undefined;
  // ListExecutions returns the newest first: the first execution older than --since ends the listing.
  do {
    const page = await target.sfn.send(
      new ListExecutionsCommand({
        stateMachineArn,
        ...(status ? { statusFilter: status as SfnStatus } : {}),
        maxResults: Math.min(100, Math.max(1, limit - rows.length)),
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    for (const item of page.executions ?? []) {
      const start = item.startDate?.getTime() ?? 0;
      if (since !== undefined && start < since) return rows;
      const ticketId = item.name ? ticketIdOfName(item.name) : undefined;
      rows.push({
        name: item.name ?? '',
        executionArn: item.executionArn ?? '',
        status: item.status ?? 'UNKNOWN',
        startDate: new Date(start).toISOString(),
        ...(item.stopDate ? { stopDate: item.stopDate.toISOString() } : {}),
        ...(ticketId ? { ticketId } : {}),
        ...(item.redriveCount ? { redriveCount: item.redriveCount } : {}),
      });
      if (rows.length >= limit) return rows;
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return rows;
}

async function fullHistory(sfn: SFNClient, executionArn: string): Promise<SfnEvent[]> {
  const events: SfnEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, includeExecutionData: true, maxResults: 1000, ...(nextToken ? { nextToken } : {}) }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

function parsedInput(text: string | undefined): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

async function describe(sfn: SFNClient, executionArn: string): Promise<DescribeExecutionOutput> {
  try {
    return await sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (error) {
    if (error instanceof Error && error.name === 'ExecutionDoesNotExist') throw new ExecutionNotFound(`no execution ${executionArn}`);
    throw error;
  }
}

export async function showAwsExecution(target: AwsTarget, nameOrArn: string): Promise<ExecutionDetails> {
  const executionArn = executionArnOf(nameOrArn, target.stateMachineArn);
  const execution = await describe(target.sfn, executionArn);
  const events = historyEventsFromAws(await fullHistory(target.sfn, executionArn));
  const record: AnyRecord = {
    executionName: execution.name ?? nameOf(executionArn),
    executionArn,
    stateMachineArn: execution.stateMachineArn ?? '',
    status: execution.status ?? 'UNKNOWN',
    input: parsedInput(execution.input),
    ...(execution.error ? { error: execution.error } : {}),
    ...(execution.cause ? { cause: execution.cause } : {}),
    startDate: (execution.startDate ?? new Date(0)).toISOString(),
    ...(execution.stopDate ? { stopDate: execution.stopDate.toISOString() } : {}),
    events,
  };
  // A large ticket keeps its lists in the run's files: read them with the operator's credentials (as the CLI's S3 reads).
  const whole = await withRunFiles(record, runFileReader(process.env));
  return detailsOf('aws', whole, {
    ...(execution.redriveCount ? { redriveCount: execution.redriveCount } : {}),
    ...(execution.redriveStatus ? { redriveStatus: execution.redriveStatus } : {}),
    ...(execution.redriveStatusReason ? { redriveStatusReason: execution.redriveStatusReason } : {}),
  });
}

/** What to do about a refused redrive, from DescribeExecution's status and redriveStatus. */
function refusalHint(execution: DescribeExecutionOutput, ticketId: string | undefined): string {
  if (execution.status === 'SUCCEEDED') return `it succeeded, so there is nothing to redrive; to process the ticket again, ${rerunHint(ticketId)}`;
  if (execution.status === 'RUNNING') return 'it is still running: wait for it to end, then redrive it if it fails';
  if (execution.redriveStatus === 'REDRIVABLE_BY_MAP_RUN') return 'only its Map Run can be redriven (Distributed Map)';
  if (execution.redriveStatus === 'REDRIVABLE') return 'Step Functions reports it as redrivable: check the error above and try again';
  return `Step Functions will not redrive it (redrive works within 14 days of a FAILED, ABORTED or TIMED_OUT end, under 25,000 events); ${rerunHint(ticketId)}`;
}

/** A refused RedriveExecution: the API error, explained by DescribeExecution (whose own failure rethrows the first). */
async function refusedRedrive(sfn: SFNClient, executionArn: string, error: unknown): Promise<RedriveReport> {
  const name = error instanceof Error ? error.name : 'Error';
  if (name === 'ExecutionDoesNotExist') throw new ExecutionNotFound(`no execution ${executionArn}`);
  const message = error instanceof Error ? error.message : String(error);
  let execution: DescribeExecutionOutput;
  try {
    execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch {
    throw error;
  }
  const ticketId = ticketIdOfInput(parsedInput(execution.input)) ?? ticketIdOfName(execution.name ?? '');
  return {
    executionArn,
    redriven: false,
    error: name,
    message,
    ...(execution.status ? { status: execution.status } : {}),
    ...(execution.redriveStatus ? { redriveStatus: execution.redriveStatus } : {}),
    ...(execution.redriveStatusReason ? { redriveStatusReason: execution.redriveStatusReason } : {}),
    hint: refusalHint(execution, ticketId),
    ...(ticketId ? { ticketId } : {}),
  };
}

export async function redriveAwsExecution(target: AwsTarget, nameOrArn: string): Promise<RedriveReport> {
  const executionArn = executionArnOf(nameOrArn, target.stateMachineArn);
  try {
    const result = await target.sfn.send(new RedriveExecutionCommand({ executionArn }));
    return { executionArn, redriven: true, redriveDate: (result.redriveDate ?? new Date()).toISOString() };
  } catch (error) {
    return refusedRedrive(target.sfn, executionArn, error);
  }
}

/** A new execution for the ticket on AWS (the local rerun is runTicket(runtime, id, 'rerun')). */
export async function rerunOnAws(target: AwsTarget, ticketId: string, now: Date = new Date()): Promise<RerunReport> {
  const stateMachineArn = requireStateMachine(target, 'to start an execution');
  const executionName = runExecutionName(ticketId, 'rerun', now);
  const input: ExecutionInput = { ticketId, source: 'rerun' };
  const result = await target.sfn.send(new StartExecutionCommand({ stateMachineArn, name: executionName, input: JSON.stringify(input) }));
  return {
    executionName,
    executionArn: result.executionArn ?? executionArnOf(executionName, stateMachineArn),
    startDate: (result.startDate ?? now).toISOString(),
    status: 'RUNNING',
    input,
  };
}

import { resolve } from 'node:path';
import { SFNClient } from '@aws-sdk/client-sfn';
import { causeMessage, ConfigurationError } from '../lambdas/shared/errors.js';
import type { ExecutionInput } from '../lambdas/shared/types.js';
import type { ExecutionRecord } from '../local/runtime/history.js';
import { describePath } from '../local/runtime/path.js';
import { summaryOf } from '../local/runtime/summary.js';
import { listAwsExecutions, redriveAwsExecution, showAwsExecution } from './executions-aws.js';
import { listLocalExecutions, showLocalExecution } from './executions-local.js';
import { formatBytes, formatDuration, formatTime, table } from './format.js';
import { UsageError } from './output.js';
import { fileReport, type FileReport } from './run.js';

/**
 * `attachment-vault executions list|show|redrive` and `rerun`: the deployed state machine through the Step Functions
 * API (executions-aws.ts), or (--local) the local engine's saved histories under
 * <ATTACHMENT_VAULT_DATA_DIR or .local>/executions (executions-local.ts).
 * Each function returns a plain document; main.ts prints it (JSON, or the text formatters below).
 */

export { rerunOnAws } from './executions-aws.js';

export const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT', 'PENDING_REDRIVE'] as const;
export type Status = (typeof STATUSES)[number];

/** Where the executions live: the deployed state machine, or the local history directory. */
export type AwsTarget = { kind: 'aws'; sfn: SFNClient; stateMachineArn?: string };
export type LocalTarget = { kind: 'local'; historyDir: string };
export type Target = AwsTarget | LocalTarget;

/** An execution as show reads it: a local record, or an AWS one (whose status may also be PENDING_REDRIVE). */
export type AnyRecord = Omit<ExecutionRecord, 'status'> & { status: string };

export class ExecutionNotFound extends Error {
  override readonly name = 'ExecutionDoesNotExist';
}

const STATE_MACHINE_ARN = /^arn:([\w-]+):states:([\w-]*):(\d*):stateMachine:([^:\s]+)$/;
const EXECUTION_ARN = /^arn:([\w-]+):states:([\w-]*):(\d*):execution:([^:\s]+):([^:\s]+)$/;
const EXECUTION_NAME = /^[^\s:/]{1,80}$/;
/** zd-<ticket>-… (webhook), run-<ticket>-… (CLI), rerun-<ticket>-… (operator), bf-<runId>-<ticket> (backfill). */
const TICKET_IN_NAME = /^(?:zd|run|rerun)-([1-9]\d{0,19})-/;
const TICKET_IN_BACKFILL_NAME = /^bf-[0-9A-Za-z_-]+-([1-9]\d{0,19})$/;

export function historyDirOf(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.ATTACHMENT_VAULT_DATA_DIR ?? '.local', 'executions');
}

export function regionOfArn(arn: string | undefined): string | undefined {
  const region = arn?.split(':')[3];
  return region ? region : undefined;
}

/** The Step Functions target: --state-machine-arn, else STATE_MACHINE_ARN; the client's region follows the ARN. */
export function awsTarget(options: { stateMachineArn?: string; executionArn?: string; sfn?: SFNClient }, env: NodeJS.ProcessEnv = process.env): AwsTarget {
  const stateMachineArn = options.stateMachineArn ?? (env.STATE_MACHINE_ARN?.trim() || undefined);
  if (stateMachineArn && !STATE_MACHINE_ARN.test(stateMachineArn)) {
    throw new UsageError(`not a state machine ARN: ${stateMachineArn} (arn:aws:states:<region>:<account>:stateMachine:<name>)`);
  }
  const region = regionOfArn(options.executionArn) ?? regionOfArn(stateMachineArn);
  const sfn = options.sfn ?? new SFNClient(region ? { region } : {});
  return { kind: 'aws', sfn, ...(stateMachineArn ? { stateMachineArn } : {}) };
}

/** An execution name resolves against the state machine: arn:…:stateMachine:<sm> -> arn:…:execution:<sm>:<name>. */
export function executionArnOf(nameOrArn: string, stateMachineArn: string | undefined): string {
  if (nameOrArn.startsWith('arn:')) {
    if (!EXECUTION_ARN.test(nameOrArn)) throw new UsageError(`not an execution ARN: ${nameOrArn}`);
    return nameOrArn;
  }
  if (!EXECUTION_NAME.test(nameOrArn)) throw new UsageError(`not an execution name: ${JSON.stringify(nameOrArn)}`);
  if (!stateMachineArn) throw new ConfigurationError('set STATE_MACHINE_ARN or pass --state-machine-arn to find an execution by name, or pass its ARN');
  const match = STATE_MACHINE_ARN.exec(stateMachineArn);
  if (!match) throw new UsageError(`not a state machine ARN: ${stateMachineArn}`);
  const [, partition, region, account, machine] = match;
  return `arn:${partition}:states:${region}:${account}:execution:${machine}:${nameOrArn}`;
}

/** The execution name in a name or an execution ARN. */
export function nameOf(nameOrArn: string): string {
  if (nameOrArn.startsWith('arn:')) {
    const match = EXECUTION_ARN.exec(nameOrArn);
    if (!match) throw new UsageError(`not an execution ARN: ${nameOrArn}`);
    return match[5]!;
  }
  if (!EXECUTION_NAME.test(nameOrArn)) throw new UsageError(`not an execution name: ${JSON.stringify(nameOrArn)}`);
  return nameOrArn;
}

export function ticketIdOfName(name: string): string | undefined {
  return TICKET_IN_NAME.exec(name)?.[1] ?? TICKET_IN_BACKFILL_NAME.exec(name)?.[1];
}

export function ticketIdOfInput(input: unknown): string | undefined {
  const id = (input as { ticketId?: unknown } | undefined)?.ticketId;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

export function parseStatus(value: string | undefined): Status | undefined {
  if (value === undefined) return undefined;
  const status = value.toUpperCase();
  if (!(STATUSES as readonly string[]).includes(status)) throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`);
  return status as Status;
}

/** `7d`, `12h`, `30m`, `45s`, or an ISO date: the oldest start time to list. */
export function parseSince(value: string | undefined, now: Date = new Date()): Date | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d{1,6})([dhms])$/.exec(value.trim());
  if (match) {
    const unit = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 }[match[2] as 'd' | 'h' | 'm' | 's'];
    return new Date(now.getTime() - Number(match[1]) * unit);
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new UsageError('--since must be a duration such as 7d, 12h or 30m, or an ISO date');
}

// ---- list ----

export interface ExecutionRow {
  name: string;
  executionArn: string;
  status: string;
  startDate: string;
  stopDate?: string;
  ticketId?: string;
  redriveCount?: number;
}

export interface ListOptions {
  status?: Status;
  since?: Date;
  /** At most this many rows (default 100). */
  limit?: number;
}

export const DEFAULT_LIST_LIMIT = 100;

/** What list asks either half: the status filter, the oldest start time (epoch ms) and the row limit. */
export interface ListQuery {
  status?: Status;
  since?: number;
  limit: number;
}

export async function listExecutions(target: Target, options: ListOptions = {}): Promise<ExecutionRow[]> {
  const query: ListQuery = {
    ...(options.status ? { status: options.status } : {}),
    ...(options.since ? { since: options.since.getTime() } : {}),
    limit: options.limit ?? DEFAULT_LIST_LIMIT,
  };
  return target.kind === 'local' ? listLocalExecutions(target.historyDir, query) : listAwsExecutions(target, query);
}

export function formatExecutionTable(rows: ExecutionRow[], now: Date = new Date()): string {
  if (rows.length === 0) return 'no executions';
  return table(
    ['NAME', 'STATUS', 'TICKET', 'STARTED', 'DURATION', 'REDRIVES'],
    rows.map((r) => [
      r.name,
      r.status,
      r.ticketId ?? '',
      formatTime(r.startDate),
      formatDuration((r.stopDate ? Date.parse(r.stopDate) : now.getTime()) - Date.parse(r.startDate)) + (r.stopDate ? '' : ' so far'),
      r.redriveCount ? String(r.redriveCount) : '',
    ]),
  );
}

// ---- show ----

export interface ExecutionDetails {
  source: 'aws' | 'local';
  executionName: string;
  executionArn: string;
  status: string;
  startDate: string;
  stopDate?: string;
  ticketId?: string;
  redriveCount?: number;
  redriveStatus?: string;
  redriveStatusReason?: string;
  error?: string;
  cause?: string;
  /** The path through the states (describePath). */
  path: string[];
  /** Per-file outcomes: FinishTicket's summary, or what the Map's iterations got done (IDs as strings). */
  attachments: Array<FileReport & { size?: number }>;
}

export function detailsOf(source: 'aws' | 'local', record: AnyRecord, extra: Partial<ExecutionDetails> = {}): ExecutionDetails {
  const ticketId = ticketIdOfInput(record.input) ?? ticketIdOfName(record.executionName);
  return {
    source,
    executionName: record.executionName,
    executionArn: record.executionArn,
    status: record.status,
    startDate: record.startDate,
    ...(record.stopDate ? { stopDate: record.stopDate } : {}),
    ...(ticketId ? { ticketId } : {}),
    ...extra,
    ...(record.error ? { error: record.error } : {}),
    ...(record.cause ? { cause: record.cause } : {}),
    path: describePath(record),
    attachments: summaryOf(record).attachments.map((a) => ({ ...fileReport(a), ...(a.size !== undefined ? { size: a.size } : {}) })),
  };
}

export async function showExecution(target: Target, nameOrArn: string): Promise<ExecutionDetails> {
  return target.kind === 'local' ? showLocalExecution(target.historyDir, nameOrArn) : showAwsExecution(target, nameOrArn);
}

export function formatExecutionDetails(d: ExecutionDetails): string {
  const out: string[] = [];
  const field = (label: string, value: string | undefined) => {
    if (value) out.push(`${label.padEnd(10)}${value}`);
  };
  field('execution', d.executionName);
  field('arn', d.executionArn);
  field('status', d.status + (d.redriveStatus ? ` (${d.redriveStatus.toLowerCase().replace(/_/g, ' ')})` : ''));
  field('ticket', d.ticketId);
  field(
    'started',
    `${formatTime(d.startDate)}${d.stopDate ? `, stopped ${formatTime(d.stopDate)} (${formatDuration(Date.parse(d.stopDate) - Date.parse(d.startDate))})` : ''}`,
  );
  if (d.redriveCount) field('redrives', String(d.redriveCount));
  field('error', d.error);
  field('cause', d.cause ? causeMessage(d.cause) : undefined);
  if (d.redriveStatusReason && d.status !== 'SUCCEEDED') field('redrive', d.redriveStatusReason);
  out.push('', 'path');
  for (const line of d.path) out.push(`  ${line}`);
  out.push('', 'files');
  if (d.attachments.length === 0) out.push('  none listed');
  else {
    const rows = d.attachments.map((a) => [
      a.attachmentId,
      a.commentId,
      a.size !== undefined ? formatBytes(a.size) : '',
      a.outcome,
      a.redacted ? 'yes' : 'no',
      a.s3Key ?? a.reason ?? '',
    ]);
    out.push(...table(['ATTACHMENT', 'COMMENT', 'SIZE', 'OUTCOME', 'REDACTED', 'S3 KEY / REASON'], rows).split('\n').map((l) => `  ${l}`));
  }
  return out.join('\n');
}

// ---- redrive ----

export interface RedriveReport {
  executionArn: string;
  redriven: boolean;
  redriveDate?: string;
  /** Refused: the API error, and DescribeExecution's explanation. */
  error?: string;
  message?: string;
  status?: string;
  redriveStatus?: string;
  redriveStatusReason?: string;
  /** What to do instead. */
  hint?: string;
  ticketId?: string;
}

export function rerunHint(ticketId: string | undefined, local = false): string {
  return `start a new execution for the ticket instead: attachment-vault rerun --ticket ${ticketId ?? '<ticket id>'}${local ? ' --local' : ''}`;
}

/** RedriveExecution on AWS (`redrive --local` is the local engine's stand-in, run by main.ts). */
export async function redriveExecution(target: AwsTarget, nameOrArn: string): Promise<RedriveReport> {
  return redriveAwsExecution(target, nameOrArn);
}

export function explainRedrive(report: RedriveReport): string {
  if (report.redriven) return `redriven at ${formatTime(report.redriveDate)}: ${report.executionArn}`;
  const lines = [`redrive refused (${report.error}): ${report.message}`];
  if (report.status) lines.push(`status: ${report.status}`);
  if (report.redriveStatus) lines.push(`redriveStatus: ${report.redriveStatus}${report.redriveStatusReason ? ` (${report.redriveStatusReason})` : ''}`);
  if (report.hint) lines.push(report.hint);
  return lines.join('\n');
}

// ---- rerun ----

export interface RerunReport {
  executionName: string;
  executionArn: string;
  startDate: string;
  status: 'RUNNING';
  input: ExecutionInput;
}

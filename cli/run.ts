import { randomBytes } from 'node:crypto';
import type { LocalRuntime } from '../local/runtime/local.js';
import type { ExecutionRecord } from '../local/runtime/history.js';
import type { SummaryAttachment } from '../lambdas/shared/types.js';
import { summaryOf, withRunFiles, type RunFileReader } from '../local/runtime/summary.js';

/**
 * One file as every command prints it. IDs are strings in all output: Zendesk IDs are 64-bit, beyond what a JSON
 * number keeps exactly in many readers.
 */
export interface FileReport {
  attachmentId: string;
  commentId: string;
  outcome: SummaryAttachment['outcome'];
  s3Key?: string;
  redacted: boolean;
  reason?: string;
}

export interface RunDocument {
  executionName: string;
  status: 'SUCCEEDED' | 'FAILED';
  error?: string;
  cause?: string;
  /** `already_running`: another execution of the ticket held it; this one changed nothing (runningExecution names it). */
  outcome?: 'already_running';
  runningExecution?: string;
  summary: { ticketId: string; attachments: FileReport[] };
}

/** A summary line of state data (numeric IDs) as printed (string IDs). */
export function fileReport(a: Pick<SummaryAttachment, 'attachmentId' | 'commentId' | 'outcome' | 's3Key' | 'redacted' | 'reason'>): FileReport {
  return {
    attachmentId: String(a.attachmentId),
    commentId: String(a.commentId),
    outcome: a.outcome,
    ...(a.s3Key ? { s3Key: a.s3Key } : {}),
    redacted: a.redacted,
    ...(a.reason ? { reason: a.reason } : {}),
  };
}

/** `run-<ticket>-<UTC yyyymmddThhmmss>-<4 hex>`: unique, and only characters Step Functions allows. */
export function runExecutionName(ticketId: string, prefix = 'run', now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '');
  return `${prefix}-${ticketId}-${stamp}-${randomBytes(2).toString('hex')}`;
}

function alreadyRunning(output: unknown): Pick<RunDocument, 'outcome' | 'runningExecution'> {
  const o = output as { outcome?: unknown; runningExecution?: unknown } | undefined;
  return o?.outcome === 'already_running' && typeof o.runningExecution === 'string' ? { outcome: 'already_running', runningExecution: o.runningExecution } : {};
}

export function documentOf(record: ExecutionRecord): RunDocument {
  const summary = summaryOf(record);
  return {
    executionName: record.executionName,
    status: record.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED',
    ...(record.status !== 'SUCCEEDED' ? { error: record.error ?? 'Error', cause: record.cause ?? '' } : {}),
    ...alreadyRunning(record.output),
    summary: { ticketId: summary.ticketId, attachments: summary.attachments.map(fileReport) },
  };
}

/** Reads the run's files (a large ticket's lists) from the S3 the environment points at (AWS_ENDPOINT_URL_S3 locally). */
export function runFileReader(env: NodeJS.ProcessEnv): RunFileReader {
  // Imported when first used: the step modules configure their logger from the environment when they load.
  const reader = (async () => {
    const [{ runFiles }, { createS3Client }] = await Promise.all([import('../lambdas/shared/run-files.js'), import('../lambdas/shared/s3.js')]);
    const s3 = createS3Client({ region: env.AWS_REGION?.trim() || 'us-east-1', endpoint: env.AWS_ENDPOINT_URL_S3?.trim() || undefined, forcePathStyle: env.S3_FORCE_PATH_STYLE === 'true' });
    return (ref: { bucket: string; key: string }) => runFiles(s3, ref.bucket).read(ref);
  })();
  return async (ref) => (await reader)(ref);
}

/** The run's document with every file, also of a ticket whose lists are in the run's files. */
export async function loadDocument(record: ExecutionRecord, env: NodeJS.ProcessEnv): Promise<RunDocument> {
  return documentOf(await withRunFiles(record, runFileReader(env)));
}

export async function runTicket(runtime: LocalRuntime, ticketId: string, source: 'cli' | 'rerun' = 'cli'): Promise<RunDocument> {
  const name = runExecutionName(ticketId, source === 'rerun' ? 'rerun' : 'run');
  const record = await runtime.engine.run({ ticketId, source }, name);
  return loadDocument(record, runtime.env);
}

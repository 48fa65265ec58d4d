import { randomBytes } from 'node:crypto';
import type { LocalRuntime } from '../runtime/local.js';
import type { ExecutionRecord } from '../runtime/history.js';
import { summaryOf, type RunSummary } from '../runtime/summary.js';

export interface RunDocument {
  executionName: string;
  status: 'SUCCEEDED' | 'FAILED';
  error?: string;
  cause?: string;
  summary: RunSummary;
}

/** `run-<ticket>-<UTC yyyymmddThhmmss>-<4 hex>`: unique, and only characters Step Functions allows. */
export function runExecutionName(ticketId: string, prefix = 'run', now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '');
  return `${prefix}-${ticketId}-${stamp}-${randomBytes(2).toString('hex')}`;
}

export function documentOf(record: ExecutionRecord): RunDocument {
  const summary = summaryOf(record);
  return {
    executionName: record.executionName,
    status: record.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED',
    ...(record.status !== 'SUCCEEDED' ? { error: record.error ?? 'Error', cause: record.cause ?? '' } : {}),
    summary: {
      ticketId: summary.ticketId,
      attachments: summary.attachments.map((a) => ({
        attachmentId: a.attachmentId,
        commentId: a.commentId,
        outcome: a.outcome,
        ...(a.s3Key ? { s3Key: a.s3Key } : {}),
        redacted: a.redacted,
        ...(a.reason ? { reason: a.reason } : {}),
      })),
    },
  };
}

export async function runTicket(runtime: LocalRuntime, ticketId: string, source: 'cli' | 'rerun' = 'cli'): Promise<RunDocument> {
  const name = runExecutionName(ticketId, source === 'rerun' ? 'rerun' : 'run');
  const record = await runtime.engine.run({ ticketId, source }, name);
  return documentOf(record);
}

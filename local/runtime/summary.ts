import type { AttachmentRef, CopyResult, FinishResult, ListResult, SummaryAttachment } from '../../lambdas/shared/types.js';
import type { ExecutionRecord } from './history.js';

export interface RunSummary {
  ticketId: string;
  attachments: SummaryAttachment[];
}

/** What the summary reads: a local ExecutionRecord, or an AWS execution mapped onto the same events. */
export type SummarySource = Pick<ExecutionRecord, 'input' | 'events' | 'error'>;

function outputOf(record: SummarySource, state: string): Record<string, unknown> | undefined {
  const event = record.events.findLast((e) => e.type === 'StateExited' && e.state === state && e.index === undefined);
  return event?.output as Record<string, unknown> | undefined;
}

/**
 * The per-file summary of an execution, read from its history: FinishTicket's when the run got that far;
 * otherwise every listed attachment, with the outcome of the iterations that finished, and `failed`
 * (never redacted) for the rest, so a FAILED run still accounts for every file.
 */
export function summaryOf(record: SummarySource): RunSummary {
  const ticketId = String((record.input as { ticketId?: unknown })?.ticketId ?? '');
  // A Task's result may be a wait request (waitSeconds) rather than its answer: only the answer counts.
  const finished = outputOf(record, 'FinishTicket')?.finish as FinishResult | undefined;
  if (finished?.summary) return { ticketId, attachments: finished.summary.attachments };

  const listing = outputOf(record, 'ListAttachments')?.listing as ListResult | undefined;
  if (!Array.isArray(listing?.attachments)) return { ticketId, attachments: [] };
  const done = new Map<number, CopyResult>();
  for (const event of record.events) {
    if (event.type !== 'StateExited' || event.index === undefined) continue;
    if (event.state !== 'CopyAttachment' && event.state !== 'RecordCopyFailure') continue;
    const result = event.output as CopyResult | undefined;
    if (result && typeof result.attachmentId === 'number') done.set(result.attachmentId, result);
  }
  const reason = record.error ?? 'not_processed';
  return {
    ticketId,
    attachments: listing.attachments.map((a: AttachmentRef): SummaryAttachment => {
      const copy = done.get(a.attachmentId);
      if (!copy) return { attachmentId: a.attachmentId, commentId: a.commentId, outcome: 'failed', redacted: false, reason, size: a.size };
      return {
        attachmentId: copy.attachmentId,
        commentId: copy.commentId,
        outcome: copy.outcome,
        ...(copy.s3Key ? { s3Key: copy.s3Key } : {}),
        redacted: false,
        ...(copy.reason ? { reason: copy.reason } : copy.outcome === 'skipped' ? {} : { reason: `not_redacted: ${reason}` }),
        size: copy.size,
      };
    }),
  };
}

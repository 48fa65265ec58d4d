import type { AttachmentRef, CopyResult, FinishResult, ListResult, Summary, SummaryAttachment } from '../../lambdas/shared/types.js';
import type { ExecutionRecord } from './history.js';

export interface RunSummary {
  ticketId: string;
  attachments: SummaryAttachment[];
}

/** What the summary reads: a local ExecutionRecord, or an AWS execution mapped onto the same events. */
export type SummarySource = Pick<ExecutionRecord, 'input' | 'events' | 'error'>;

/** Reads one of the run's files (lambdas/shared/run-files.ts) from S3. */
export type RunFileReader = (ref: { bucket: string; key: string }) => Promise<unknown>;

/** The copy iterations of either Map: their Task and their failure recorder. */
const COPY_STATES = new Set(['CopyAttachment', 'RecordCopyFailure', 'CopyAttachmentAtScale', 'RecordCopyAtScaleFailure']);

function isRef(value: unknown): value is { bucket: string; key: string } {
  return typeof value === 'object' && value !== null && typeof (value as { bucket?: unknown }).bucket === 'string' && typeof (value as { key?: unknown }).key === 'string';
}

/**
 * The record with the run's files read in where its state data points at them, so summaryOf sees every file of a
 * large ticket: the whole summary (summary.json) for FinishTicket's truncated one, the listing (attachments.json),
 * and every copy outcome (copies.json, which a parent's history does not hold when the copies ran in child executions).
 * Files that cannot be read are left as they are (the summary is then what the state holds).
 */
export async function withRunFiles<T extends SummarySource>(record: T, read: RunFileReader): Promise<T> {
  const copy = structuredClone(record);
  const load = async (ref: unknown): Promise<unknown> => (isRef(ref) ? read(ref).catch(() => undefined) : undefined);
  for (const event of copy.events) {
    if (event.type !== 'StateExited' || event.index !== undefined || typeof event.output !== 'object' || event.output === null) continue;
    const output = event.output as { finish?: { summary?: Summary }; listing?: ListResult; copies?: { file?: unknown; results?: unknown } };
    const summary = output.finish?.summary;
    if (event.state === 'FinishTicket' && summary?.truncated) {
      const whole = (await load(summary.file)) as Summary | undefined;
      if (Array.isArray(whole?.attachments)) output.finish!.summary = { ...summary, attachments: whole.attachments, truncated: false };
    }
    if (event.state === 'ListAttachments' && output.listing?.manifest && !output.listing.attachments) {
      const listed = await load(output.listing.manifest);
      if (Array.isArray(listed)) output.listing.attachments = listed as AttachmentRef[];
    }
    if (event.state === 'CollectCopies' && output.copies?.file) {
      const results = await load(output.copies.file);
      if (Array.isArray(results)) output.copies.results = results;
    }
  }
  return copy;
}

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
  const collected = (outputOf(record, 'CollectCopies')?.copies as { results?: unknown } | undefined)?.results;
  const finishedCopies = Array.isArray(collected) ? (collected as CopyResult[]) : [];
  for (const event of record.events) {
    if (event.type !== 'StateExited' || event.index === undefined || !event.state || !COPY_STATES.has(event.state)) continue;
    const result = event.output as CopyResult | undefined;
    if (result && typeof result.attachmentId === 'number') done.set(result.attachmentId, result);
  }
  for (const result of finishedCopies) if (typeof result?.attachmentId === 'number') done.set(result.attachmentId, result);
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

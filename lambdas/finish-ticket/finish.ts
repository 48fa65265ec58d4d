import { TicketClosed } from '../shared/errors.js';
import type { TagConfig } from '../shared/config.js';
import type {
  CopyResult,
  FinishResult,
  MarkResult,
  Outcome,
  RedactResult,
  Summary,
  SummaryAttachment,
} from '../shared/types.js';
import type { RunFileRef } from '../shared/run-files.js';
import type { TicketLocks } from '../shared/ticket-lock.js';
import type { ZendeskApi } from '../shared/zendesk/types.js';

export interface FinishInput {
  ticketId: string;
  mark: MarkResult;
  copies: CopyResult[];
  /** Every file's redaction record, and how the redaction went (absent for a run that never reached it). */
  redaction: Pick<RedactResult, 'records'> & Partial<Pick<RedactResult, 'passes' | 'maxPasses' | 'commentsLeft' | 'projectedSeconds'>>;
}

/** A truncated summary in the state lists at most this many of the files not archived and redacted. */
export const SUMMARY_PROBLEMS_LISTED = 50;

/** The error name the execution fails with when a file is not safely archived and redacted. */
export const INCOMPLETE_ERROR = 'AttachmentsNotArchived';
const CAUSE_LIST_LIMIT = 50;

/** Joins copy outcomes with redaction records into the per-file summary. Pure. */
export function summarize(ticketId: string, copies: CopyResult[], redaction: FinishInput['redaction'], tagged: boolean): Summary {
  const records = new Map(redaction.records.map((r) => [r.attachmentId, r]));
  const attachments: SummaryAttachment[] = copies.map((copy) => {
    const record = records.get(copy.attachmentId);
    const redacted = record?.redacted === true;
    const archived = copy.outcome === 'archived' || copy.outcome === 'already_archived';
    const why = record?.check ? `${record.reason}: ${record.check}` : record?.reason;
    const reason = copy.reason ?? (archived && !redacted ? (why ?? 'not_redacted') : undefined);
    return {
      attachmentId: copy.attachmentId,
      commentId: copy.commentId,
      outcome: copy.outcome,
      ...(copy.s3Key ? { s3Key: copy.s3Key } : {}),
      redacted,
      ...(reason ? { reason } : {}),
      size: copy.size,
      ...(copy.contentType ? { contentType: copy.contentType } : {}),
    };
  });
  const counts: Record<Outcome | 'redacted', number> = { archived: 0, already_archived: 0, skipped: 0, failed: 0, redacted: 0 };
  for (const a of attachments) {
    counts[a.outcome] += 1;
    if (a.redacted) counts.redacted += 1;
  }
  const incomplete = attachments.some(isProblem);
  const { passes, maxPasses, commentsLeft, projectedSeconds } = redaction;
  const progress = passes !== undefined && maxPasses !== undefined ? { redaction: { passes, maxPasses, commentsLeft: commentsLeft ?? 0, projectedSeconds: projectedSeconds ?? 0 } } : {};
  return { ticketId, status: incomplete ? 'FAILED' : 'SUCCEEDED', tagged, attachments, counts, total: attachments.length, ...progress };
}

/** A file that is not safely archived and redacted. */
function isProblem(a: SummaryAttachment): boolean {
  return a.outcome === 'failed' || ((a.outcome === 'archived' || a.outcome === 'already_archived') && !a.redacted);
}

/**
 * The summary as the state carries it: whole up to `inlineMaxFiles` files (COPY_INLINE_MAX_FILES, what fits the
 * state); beyond, the first problems only, `truncated`, and where the whole one is (the run's summary.json). Counts
 * are always of every file.
 */
export function stateSummary(summary: Summary, file: RunFileRef | undefined, inlineMaxFiles = 200): Summary {
  const withFile = file ? { ...summary, file } : summary;
  if (summary.attachments.length <= inlineMaxFiles) return withFile;
  return { ...withFile, attachments: summary.attachments.filter(isProblem).slice(0, SUMMARY_PROBLEMS_LISTED), truncated: true };
}

/** The execution's error cause: the attachment IDs and why, so the history explains itself without logs. */
export function describeIncomplete(summary: Summary): string {
  const problems = summary.attachments.filter(isProblem);
  const listed = problems.slice(0, CAUSE_LIST_LIMIT).map((a) => `${a.attachmentId} (${a.outcome === 'failed' ? `failed: ${a.reason}` : `archived, not redacted: ${a.reason}`})`);
  const more = problems.length > CAUSE_LIST_LIMIT ? `, and ${problems.length - CAUSE_LIST_LIMIT} more` : '';
  return `Ticket ${summary.ticketId}: ${problems.length} of ${summary.attachments.length} attachments not archived and redacted: ${listed.join(', ')}${more}. They remain in Zendesk; re-run the ticket to process only what remains.`;
}

export interface FinishDeps {
  zendesk: ZendeskApi;
  tags: TagConfig;
  locks: TicketLocks;
  /** Keeps the whole summary (the run's summary.json), while this execution still holds the ticket lock. */
  save?: (summary: Summary) => Promise<RunFileRef>;
  /** COPY_INLINE_MAX_FILES: a summary of more files is truncated in the state (default 200). */
  inlineMaxFiles?: number;
  /** This execution, which gives the ticket lock back once the ticket is tagged. */
  executionName: string;
}

/**
 * Step 5a: the summary, one conflict-safe tag write (`archived` or `failed`, never both, `processing` removed), and
 * the ticket lock given back. The request tag is not touched: MarkTicket consumed the one that started this run, so a
 * request tag here is a new request an agent made while the run was going; it stays, and this very update fires the
 * trigger (request tag, no processing tag) for another run. A closed ticket cannot be tagged: recorded, not a failure.
 */
export async function finishTicket(input: FinishInput, deps: FinishDeps): Promise<FinishResult> {
  const draft = summarize(input.ticketId, input.copies, input.redaction, false);
  const finalTag = draft.status === 'SUCCEEDED' ? deps.tags.archived : deps.tags.failed;
  const otherTag = draft.status === 'SUCCEEDED' ? deps.tags.failed : deps.tags.archived;
  let tagged = false;
  if (input.mark.tagged) {
    try {
      await deps.zendesk.updateTags(input.ticketId, { add: [finalTag], remove: [deps.tags.processing, otherTag] });
      tagged = true;
    } catch (error) {
      if (!(error instanceof TicketClosed)) throw error;
    }
  }
  const summary: Summary = { ...draft, tagged };
  const file = await deps.save?.(summary);
  await deps.locks.release(input.ticketId, deps.executionName);
  return {
    summary: stateSummary(summary, file, deps.inlineMaxFiles),
    finalTag,
    tagged,
    ...(summary.status === 'FAILED' ? { error: INCOMPLETE_ERROR, cause: describeIncomplete(summary) } : {}),
  };
}

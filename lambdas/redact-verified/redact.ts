import { AttachmentGone, ZendeskRateLimited } from '../shared/errors.js';
import type { CopyResult, RedactInput, RedactionRecord, RedactResult } from '../shared/types.js';
import type { ZendeskApi } from '../shared/zendesk/types.js';
import { isRedactionPlaceholder } from '../list-attachments/list.js';

/** A record that is settled: confirmed redacted, or never to be redacted in this run. */
const FINAL_REASONS = new Set(['not_verified', 'redaction_not_confirmed', 'rate_limited']);
const REQUESTED = 'requested';

export interface CommentRedaction {
  ticketId: string;
  commentId: number;
  /** Sorted attachment IDs: with the ticket and comment, the idempotency key. */
  attachmentIds: number[];
}

export interface RedactDeps {
  zendesk: ZendeskApi;
  /** Re-verifies the stored object right before redaction (HeadObject: size, SHA-256, checksum). */
  verify: (copy: CopyResult) => Promise<{ verified: boolean; reason?: string }>;
  /**
   * Redacts one comment's attachments (wrapped in Powertools idempotency by the handler, which stores and replays
   * what it returns: a CommentRedactionResult, or anything older, read defensively).
   */
  redactComment: (request: CommentRedaction) => Promise<unknown>;
  /**
   * Forgets a redaction request whose effect the confirm pass did not see (deletes its idempotency record), so a
   * later pass or a re-run sends it again instead of replaying "done". Without it, a 200 that redacted nothing
   * would block every re-run of the ticket for the record's lifetime.
   */
  forgetRedaction?: (request: CommentRedaction) => Promise<void>;
  /** After this many passes deferred by Zendesk's per-ticket limit, the rest is reported instead. */
  maxPasses: number;
  /** Upper bound of one Wait, whatever Retry-After says. */
  maxWaitSeconds: number;
  /** Clock (epoch ms) against which a reported budget's reset time is read. Default Date.now. */
  now?: () => number;
}

/** Zendesk's per-ticket update budget as a redaction call reported it, with an absolute reset time. */
export interface ObservedTicketBudget {
  /** Updates left in the window after the call. */
  remaining: number;
  /** Epoch ms at which the window resets. Absolute, so a replayed (idempotent) result is read against the clock. */
  resetsAt: number;
}

/** What redactCommentNow returns, and what the idempotency record stores and replays. */
export interface CommentRedactionResult {
  requested: number[];
  ticketBudget?: ObservedTicketBudget;
}

/** Archived or already archived, with a key: the only copies that may ever lead to a redaction. */
export function isRedactionCandidate(copy: CopyResult): boolean {
  return (copy.outcome === 'archived' || copy.outcome === 'already_archived') && typeof copy.s3Key === 'string';
}

/**
 * Fetches the live attachments (fresh content_url) of one comment and redacts the ones still present.
 * An attachment Zendesk no longer has is not redacted again: the confirm pass decides what it counts as.
 */
export async function redactCommentNow(
  zendesk: ZendeskApi,
  request: CommentRedaction,
  now: () => number = Date.now,
): Promise<CommentRedactionResult> {
  const live: Array<{ id: number; content_url: string }> = [];
  for (const id of request.attachmentIds) {
    try {
      const attachment = await zendesk.getAttachment(id);
      if (!attachment.deleted && !isRedactionPlaceholder(attachment)) live.push({ id, content_url: attachment.content_url });
    } catch (error) {
      if (!(error instanceof AttachmentGone)) throw error;
    }
  }
  const requested = live.map((a) => a.id);
  if (live.length === 0) return { requested };
  const { ticketBudget } = await zendesk.redactCommentAttachments(request.ticketId, request.commentId, live);
  if (!ticketBudget) return { requested };
  return { requested, ticketBudget: { remaining: ticketBudget.remaining, resetsAt: now() + ticketBudget.resetsSeconds * 1000 } };
}

/**
 * Seconds until the per-ticket budget a redaction result reported resets, when that budget is spent and its window
 * has not reset yet: the next update would be refused. Undefined when the result reports no budget (older records,
 * no header), budget left, or a window already over (a replay of an old result).
 */
export function spentBudgetWaitSeconds(result: unknown, now: number): number | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const budget = (result as { ticketBudget?: unknown }).ticketBudget;
  if (typeof budget !== 'object' || budget === null) return undefined;
  const { remaining, resetsAt } = budget as Partial<ObservedTicketBudget>;
  if (typeof remaining !== 'number' || typeof resetsAt !== 'number' || !Number.isFinite(resetsAt)) return undefined;
  if (remaining > 0 || resetsAt <= now) return undefined;
  return (resetsAt - now) / 1000;
}

/**
 * The error's message prefixed with the comment and its attachment IDs (unless it names them already): it becomes
 * the Cause in the execution history when the step fails, which must say which files without logs. The class, hence
 * the name the ASL matches, is unchanged.
 */
function naming(error: unknown, request: CommentRedaction): unknown {
  const ids = `attachments ${request.attachmentIds.join(', ')}`;
  if (error instanceof Error && !error.message.includes(ids)) {
    error.message = `redacting ${ids} (comment ${request.commentId}): ${error.message}`;
  }
  return error;
}

/**
 * Step 4: redact from Zendesk only what is verified in S3, then confirm by re-listing the comments.
 * The hard rule lives here: no verification, no redaction call. Each pass is resumable: records carry
 * what earlier passes did, so a pass deferred by the per-ticket limit picks up where it stopped.
 */
export async function redactVerified(input: RedactInput, deps: RedactDeps): Promise<RedactResult> {
  const previous = input.redaction;
  const passes = (previous?.passes ?? 0) + 1;
  const records = new Map<number, RedactionRecord>((previous?.records ?? []).map((r) => [r.attachmentId, r]));
  const candidates = input.copies.filter(isRedactionCandidate);
  const pending = candidates.filter((c) => !records.has(c.attachmentId));

  // 1. Verify every pending copy before any redaction call.
  const verified: CopyResult[] = [];
  for (const copy of pending) {
    const check = await deps.verify(copy);
    if (check.verified) verified.push(copy);
    else records.set(copy.attachmentId, { attachmentId: copy.attachmentId, commentId: copy.commentId, redacted: false, reason: 'not_verified' });
  }

  // 2. One redaction call per comment, for its verified attachments only.
  const byComment = new Map<number, number[]>();
  for (const copy of verified) byComment.set(copy.commentId, [...(byComment.get(copy.commentId) ?? []), copy.attachmentId]);
  // Zendesk's per-ticket update budget, as the last call reported it: when it is spent, the next call would be
  // refused, so the pass stops before it (no refused call, no wasted attachment reads). The 429 stays the fallback
  // for a budget nobody reported (no header, an update by someone else, a replayed result).
  const now = deps.now ?? Date.now;
  const requests: CommentRedaction[] = [];
  let budgetWait: number | undefined;
  for (const [commentId, ids] of [...byComment.entries()].sort(([a], [b]) => a - b)) {
    const request = { ticketId: input.ticketId, commentId, attachmentIds: [...ids].sort((a, b) => a - b) };
    let waitSeconds = budgetWait;
    if (waitSeconds === undefined) {
      try {
        budgetWait = spentBudgetWaitSeconds(await deps.redactComment(request), now());
        requests.push(request);
        for (const id of ids) records.set(id, { attachmentId: id, commentId, redacted: false, reason: REQUESTED });
        continue;
      } catch (error) {
        if (!(error instanceof ZendeskRateLimited)) throw naming(error, request);
        waitSeconds = error.retryAfterSeconds;
      }
    }
    if (passes >= deps.maxPasses) {
      for (const [rest, restIds] of byComment) {
        for (const id of restIds) if (!records.has(id)) records.set(id, { attachmentId: id, commentId: rest, redacted: false, reason: 'rate_limited' });
      }
      break;
    }
    return {
      ticketId: input.ticketId,
      done: false,
      retryAfterSeconds: Math.min(Math.max(1, Math.ceil(waitSeconds)), deps.maxWaitSeconds),
      passes,
      maxPasses: deps.maxPasses,
      records: [...records.values()],
    };
  }

  // 3. Confirm: an attachment counts as redacted only when no real file with its ID is left in the ticket.
  const toConfirm = [...records.values()].filter((r) => r.reason === REQUESTED || (!r.redacted && !FINAL_REASONS.has(r.reason ?? '')));
  if (toConfirm.length > 0) {
    const { comments } = await deps.zendesk.listComments(input.ticketId);
    const present = new Set<number>();
    for (const comment of comments) {
      for (const attachment of comment.attachments ?? []) if (!isRedactionPlaceholder(attachment)) present.add(attachment.id);
    }
    for (const record of toConfirm) {
      const redacted = !present.has(record.attachmentId);
      records.set(record.attachmentId, redacted
        ? { attachmentId: record.attachmentId, commentId: record.commentId, redacted: true }
        : { attachmentId: record.attachmentId, commentId: record.commentId, redacted: false, reason: 'redaction_not_confirmed' });
    }
    for (const request of requests) {
      if (deps.forgetRedaction && request.attachmentIds.some((id) => present.has(id))) await deps.forgetRedaction(request);
    }
  }

  return { ticketId: input.ticketId, done: true, retryAfterSeconds: 0, passes, maxPasses: deps.maxPasses, records: [...records.values()] };
}

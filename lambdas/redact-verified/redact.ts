import { ZendeskRateLimited } from '../shared/errors.js';
import { BudgetExhausted } from '../shared/request-budget.js';
import type { CopyResult, RedactInput, RedactionRecord, RedactResult } from '../shared/types.js';
import type { ZendeskApi, ZendeskAttachment, ZendeskComment } from '../shared/zendesk/types.js';
import { isRedactionPlaceholder } from '../list-attachments/list.js';
import type { RedactionCheck } from './check.js';
import type { ArchiveIndexWriter } from '../shared/archive-index.js';

/** A record that is settled: confirmed redacted, or never to be redacted in this run. */
const FINAL_REASONS = new Set(['redaction_not_confirmed', 'rate_limited']);
const REQUESTED = 'requested';

export interface CommentRedaction {
  ticketId: string;
  commentId: number;
  /** Sorted attachment IDs: with the ticket and comment, the idempotency key. */
  attachmentIds: number[];
  /** Their content_urls as Zendesk listed them this pass (same order). Never part of the key, never stored. */
  contentUrls: string[];
}

/** One attachment as Zendesk lists it now. */
export interface LiveAttachment {
  commentId: number;
  attachment: ZendeskAttachment;
}

export interface RedactDeps {
  zendesk: ZendeskApi;
  /** The redaction step's own check of a copy (check.ts): from S3 and Zendesk only, never from what it is handed. */
  check: (copy: CopyResult, live: LiveAttachment | undefined) => Promise<RedactionCheck>;
  /**
   * Redacts one comment's attachments (wrapped in Powertools idempotency by the handler, which stores and replays
   * what it returns: a CommentRedactionResult, or anything older, read defensively).
   */
  redactComment: (request: CommentRedaction) => Promise<unknown>;
  /**
   * Forgets a redaction request whose effect the confirmation did not see (deletes its idempotency record), so a later
   * pass or a re-run sends it again instead of replaying "done". Without it, a 200 that redacted nothing would block
   * every re-run of the ticket for the record's lifetime.
   */
  forgetRedaction?: (request: CommentRedaction) => Promise<void>;
  /**
   * REDACTION_MAX_PASSES: the bound on passes, whatever the work. An execution's own limit is planned from the work at
   * its first pass (plannedPasses) and never above this; past it the deferred files are reported rate_limited.
   */
  maxPasses: number;
  /** Length of Zendesk's per-ticket window (s), for the projected time only. Default 600. */
  ticketWindowSeconds?: number;
  /** Upper bound of one Wait, whatever Retry-After says. */
  maxWaitSeconds: number;
  /** Clock (epoch ms) against which a reported budget's reset time is read. Default Date.now. */
  now?: () => number;
  /** The archive index (ARCHIVE_INDEX_TABLE): told when a redaction is confirmed. Unset: no index. */
  index?: Pick<ArchiveIndexWriter, 'recordRedacted'>;
}

/** Zendesk's per-ticket update budget as a redaction call reported it, with an absolute reset time. */
export interface ObservedTicketBudget {
  /** Updates left in the window after the call. */
  remaining: number;
  /** Epoch ms at which the window resets. Absolute, so a replayed (idempotent) result is read against the clock. */
  resetsAt: number;
  /** Updates per window, when Zendesk reported it. */
  total?: number;
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

/** Redacts one comment's attachments with the content_urls just listed. Does not decide anything: callers confirm. */
export async function redactCommentNow(zendesk: ZendeskApi, request: CommentRedaction, now: () => number = Date.now): Promise<CommentRedactionResult> {
  const attachments = request.attachmentIds.map((id, i) => ({ id, content_url: request.contentUrls[i] ?? '' }));
  if (attachments.length === 0) return { requested: [] };
  const outcome = await zendesk.redactCommentAttachments(request.ticketId, request.commentId, attachments);
  const reported = outcome.ticketBudget;
  const budget = reported
    ? { ticketBudget: { remaining: reported.remaining, resetsAt: now() + reported.resetsSeconds * 1000, ...(reported.total ? { total: reported.total } : {}) } }
    : {};
  return { requested: request.attachmentIds, ...budget };
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

/** Every real file of the ticket as Zendesk lists it now, by attachment ID. */
export function liveAttachments(comments: ZendeskComment[]): Map<number, LiveAttachment> {
  const live = new Map<number, LiveAttachment>();
  for (const comment of comments) {
    for (const attachment of comment.attachments ?? []) {
      if (!isRedactionPlaceholder(attachment) && !attachment.deleted) live.set(attachment.id, { commentId: comment.id, attachment });
    }
  }
  return live;
}

/** One pass's working state. */
interface Pass {
  input: RedactInput;
  deps: RedactDeps;
  passes: number;
  /** The most passes this execution may make: from the work (plannedPasses), bounded by deps.maxPasses. */
  limit: number;
  records: Map<number, RedactionRecord>;
  /** Whether this pass sent (or replayed) a request: then only a listing taken afterwards can confirm it. */
  sent: boolean;
  /** Comments with files left to redact after this pass (deferred by the budget). */
  commentsLeft: number;
  /** The per-ticket budget's size, as Zendesk reported it (`total`), else Zendesk's documented 30. */
  perWindow: number;
  /** The wait Zendesk asked for when the budget stopped the pass. */
  waitSeconds?: number;
  /** The pass stopped for the shared request budget (not Zendesk's per-ticket limit): it does not count. */
  budgetWait?: boolean;
}

function record(pass: Pass, copy: Pick<CopyResult, 'attachmentId' | 'commentId'>, redacted: boolean, reason?: string, check?: string): void {
  pass.records.set(copy.attachmentId, { attachmentId: copy.attachmentId, commentId: copy.commentId, redacted, ...(reason ? { reason } : {}), ...(check ? { check } : {}) });
}

/** The pending copies by the comment Zendesk lists them under now; copies Zendesk no longer holds are checked here. */
async function groupPending(pass: Pass, pending: CopyResult[], live: Map<number, LiveAttachment>): Promise<Array<[number, CopyResult[]]>> {
  const byComment = new Map<number, CopyResult[]>();
  for (const copy of pending) {
    const found = live.get(copy.attachmentId);
    if (found) {
      byComment.set(found.commentId, [...(byComment.get(found.commentId) ?? []), copy]);
      continue;
    }
    // Verified in S3, and Zendesk no longer holds it: nothing to redact.
    const check = await pass.deps.check(copy, undefined);
    if (check.verified) record(pass, copy, true);
    else record(pass, copy, false, 'not_verified', check.reason);
  }
  return [...byComment.entries()].sort(([a], [b]) => a - b);
}

/**
 * The comment's redaction request, of the copies that pass the redaction step's own check right now (check.ts):
 * the others are recorded not_verified and never sent. Undefined when none passes.
 */
async function checkedRequest(pass: Pass, commentId: number, copies: CopyResult[], live: Map<number, LiveAttachment>): Promise<CommentRedaction | undefined> {
  const files: Array<{ id: number; url: string }> = [];
  for (const copy of copies) {
    const found = live.get(copy.attachmentId);
    const check = await pass.deps.check(copy, found);
    if (!check.verified) record(pass, copy, false, 'not_verified', check.reason);
    else if (found) files.push({ id: copy.attachmentId, url: found.attachment.content_url });
  }
  if (files.length === 0) return undefined;
  const sorted = files.sort((a, b) => a.id - b.id);
  return { ticketId: pass.input.ticketId, commentId, attachmentIds: sorted.map((f) => f.id), contentUrls: sorted.map((f) => f.url) };
}

/** What happens to the comments a spent budget left: wait for the next pass, or, past the limit, rate_limited. */
function defer(pass: Pass, rest: Array<[number, CopyResult[]]>, waitSeconds: number): number | undefined {
  pass.commentsLeft = rest.length;
  pass.waitSeconds = waitSeconds;
  // The shared request budget's wait is not Zendesk's per-ticket limit: it costs no pass.
  if (pass.passes < pass.limit || pass.budgetWait) return waitSeconds;
  for (const [commentId, copies] of rest) {
    for (const copy of copies) record(pass, { attachmentId: copy.attachmentId, commentId }, false, 'rate_limited');
  }
  return undefined;
}

/**
 * 1-2. One call per comment, each comment's copies checked right before its call; stops before a call Zendesk's
 * per-ticket budget would refuse. Returns seconds to wait, if any.
 */
async function sendRequests(pass: Pass, groups: Array<[number, CopyResult[]]>, live: Map<number, LiveAttachment>): Promise<number | undefined> {
  const now = pass.deps.now ?? Date.now;
  for (const [index, [commentId, copies]] of groups.entries()) {
    const request = await checkedRequest(pass, commentId, copies, live);
    if (!request) continue;
    let waitSeconds: number;
    try {
      const result = await pass.deps.redactComment(request);
      pass.sent = true;
      for (const id of request.attachmentIds) record(pass, { attachmentId: id, commentId }, false, REQUESTED);
      pass.perWindow = budgetTotal(result) ?? pass.perWindow;
      const spent = spentBudgetWaitSeconds(result, now());
      if (spent === undefined) continue;
      waitSeconds = spent;
      if (index + 1 === groups.length) return undefined;
      return defer(pass, groups.slice(index + 1), waitSeconds);
    } catch (error) {
      if (!(error instanceof ZendeskRateLimited)) throw naming(error, request);
      waitSeconds = error.retryAfterSeconds;
      if (error instanceof BudgetExhausted) pass.budgetWait = true;
    }
    return defer(pass, groups.slice(index), waitSeconds);
  }
  return undefined;
}
/**
 * 3. Confirms by listing: an attachment counts as redacted only when Zendesk lists no real file with its ID any more.
 * Zendesk's answer to the redaction is not proof (a 200 may have changed nothing), so the listing is taken after every
 * open request: the one from the start of this pass serves for requests of earlier passes, a new one follows this
 * pass's requests. Every request found unconfirmed is forgotten (its idempotency record deleted), whichever pass sent
 * it, so that a later pass or a re-run sends it again.
 */
async function confirm(pass: Pass, listedAfter: Map<number, LiveAttachment> | undefined): Promise<void> {
  const open = [...pass.records.values()].filter((r) => r.reason === REQUESTED);
  if (open.length === 0) return;
  const listing = pass.sent || !listedAfter ? liveAttachments((await pass.deps.zendesk.listComments(pass.input.ticketId)).comments) : listedAfter;
  const unconfirmed = new Set<number>();
  for (const r of open) {
    const present = listing.has(r.attachmentId);
    record(pass, r, !present, present ? 'redaction_not_confirmed' : undefined);
    if (present) unconfirmed.add(r.commentId);
  }
  if (!pass.deps.forgetRedaction) return;
  for (const commentId of unconfirmed) {
    const ids = open.filter((r) => r.commentId === commentId).map((r) => r.attachmentId).sort((a, b) => a - b);
    await pass.deps.forgetRedaction({ ticketId: pass.input.ticketId, commentId, attachmentIds: ids, contentUrls: [] });
  }
}

/** Zendesk's documented per-ticket budget: 30 updates per 10 minutes (docs/zendesk.md#rate-limits-and-their-headers). */
export const TICKET_UPDATES_PER_WINDOW = 30;

/**
 * Passes the work needs: one per budget window of comments, twice over (other updates of the ticket share the
 * budget, and a pass can end early on the account limit), plus three.
 */
export function plannedPasses(comments: number, perWindow = TICKET_UPDATES_PER_WINDOW): number {
  return 2 * Math.ceil(comments / Math.max(1, perWindow)) + 3;
}

function budgetTotal(result: unknown): number | undefined {
  const total = (result as { ticketBudget?: { total?: unknown } } | null)?.ticketBudget?.total;
  return typeof total === 'number' && Number.isSafeInteger(total) && total > 0 ? total : undefined;
}

/**
 * The pass's result. `commentsLeft` and `projectedSeconds`: what is still to send and when the last of it can go at
 * the per-ticket budget (the current wait, then one window per budget of comments). With done=true they describe
 * comments left rate_limited past the limit: what a re-run has to do.
 */
function result(pass: Pass, done: boolean, retryAfterSeconds = 0): RedactResult {
  const windows = Math.ceil(pass.commentsLeft / pass.perWindow);
  const windowSeconds = pass.deps.ticketWindowSeconds ?? 600;
  const firstWait = Math.ceil(pass.waitSeconds ?? retryAfterSeconds);
  return {
    ticketId: pass.input.ticketId,
    done,
    retryAfterSeconds,
    passes: pass.budgetWait ? pass.passes - 1 : pass.passes,
    maxPasses: pass.limit,
    commentsLeft: pass.commentsLeft,
    projectedSeconds: pass.commentsLeft === 0 ? 0 : firstWait + Math.max(0, windows - 1) * windowSeconds,
    records: [...pass.records.values()],
  };
}

/** The pass's limit: planned from the work at the first pass (and kept), never above the configured bound. */
function limitOf(previous: RedactInput['redaction'], comments: number, deps: RedactDeps): number {
  const planned = previous?.maxPasses ?? plannedPasses(comments);
  return Math.max(1, Math.min(deps.maxPasses, planned));
}

/**
 * Step 4: redact from Zendesk only what is verified in S3, then confirm. The hard rule lives here: no check of its
 * own that the copy holds this very file, no redaction call. Each pass is resumable: records carry what earlier passes
 * did, so a pass deferred by the per-ticket limit picks up where it stopped. The passes an execution may make follow
 * from the work (plannedPasses: the comments left at the first pass), bounded by REDACTION_MAX_PASSES.
 */
export async function redactVerified(input: RedactInput, deps: RedactDeps): Promise<RedactResult> {
  const previous = input.redaction;
  const records = new Map((previous?.records ?? []).map((r) => [r.attachmentId, r]));
  const pending = input.copies.filter((c) => isRedactionCandidate(c) && !records.has(c.attachmentId));
  const pass: Pass = { input, deps, passes: (previous?.passes ?? 0) + 1, limit: previous?.maxPasses ?? deps.maxPasses, records, sent: false, commentsLeft: new Set(pending.map((c) => c.commentId)).size, perWindow: TICKET_UPDATES_PER_WINDOW };
  const hasOpen = [...pass.records.values()].some((r) => r.reason === REQUESTED || (!r.redacted && !FINAL_REASONS.has(r.reason ?? '') && r.reason !== 'not_verified'));
  let listed: Map<number, LiveAttachment> | undefined;
  try {
    listed = pending.length > 0 || hasOpen ? liveAttachments((await deps.zendesk.listComments(input.ticketId)).comments) : undefined;
  } catch (error) {
    // The account's rate limit on the listing: this pass waits like a pass deferred by the per-ticket budget.
    pass.limit = limitOf(previous, pass.commentsLeft, deps);
    if (error instanceof BudgetExhausted) pass.budgetWait = true;
    if (error instanceof ZendeskRateLimited && (pass.passes < pass.limit || pass.budgetWait)) return result(pass, false, Math.min(Math.max(1, Math.ceil(error.retryAfterSeconds)), deps.maxWaitSeconds));
    throw error;
  }
  const groups = listed ? await groupPending(pass, pending, listed) : [];
  pass.limit = limitOf(previous, groups.length, deps);
  pass.commentsLeft = 0;
  const waitSeconds = listed ? await sendRequests(pass, groups, listed) : undefined;
  if (waitSeconds !== undefined) return result(pass, false, Math.min(Math.max(1, Math.ceil(waitSeconds)), deps.maxWaitSeconds));
  try {
    await confirm(pass, listed);
  } catch (error) {
    // The shared budget refused the confirming listing: the requests are sent and recorded (REQUESTED), so the next
    // pass lists and confirms them. A budget wait spends no pass.
    if (!(error instanceof BudgetExhausted)) throw error;
    pass.budgetWait = true;
    return result(pass, false, Math.min(Math.max(1, Math.ceil(error.retryAfterSeconds)), deps.maxWaitSeconds));
  }
  const redacted = [...pass.records.values()].filter((r) => r.redacted).map((r) => String(r.attachmentId));
  if (deps.index && redacted.length > 0) await deps.index.recordRedacted(redacted, new Date((deps.now ?? Date.now)()).toISOString());
  return result(pass, true);
}

/**
 * Seconds from each copy's verification (CopyResult.verifiedAt) to its redaction confirmed by this pass: one value per
 * file redacted now, none for files an earlier pass confirmed or copies without a verification time.
 */
export function redactionLags(copies: readonly CopyResult[], previous: readonly RedactionRecord[] | undefined, records: readonly RedactionRecord[], now: number): number[] {
  const before = new Set((previous ?? []).filter((r) => r.redacted).map((r) => r.attachmentId));
  const verifiedAt = new Map(copies.filter((c) => c.verifiedAt).map((c) => [c.attachmentId, Date.parse(c.verifiedAt!)]));
  const lags: number[] = [];
  for (const r of records) {
    const at = verifiedAt.get(r.attachmentId);
    if (r.redacted && !before.has(r.attachmentId) && at !== undefined && Number.isFinite(at)) lags.push(Math.max(0, (now - at) / 1000));
  }
  return lags;
}

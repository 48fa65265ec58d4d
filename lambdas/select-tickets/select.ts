import { randomBytes } from 'node:crypto';
import { backfillManifestKey } from '../shared/backfill-files.js';
import type { ZendeskWaitSettings } from '../shared/config.js';
import { SearchCursorExpired, ZendeskRateLimited } from '../shared/errors.js';
import { logger } from '../shared/logger.js';
import type { RunFileRef } from '../shared/run-files.js';
import type { ExportSearchPage, ZendeskApi } from '../shared/zendesk/types.js';
import type { SelectionFiles } from './files.js';
import type { SelectInput, SelectProgress, SessionProgress } from './input.js';
import { compareKeys, epochSeconds, sortedUnique, type TicketKey } from './order.js';
import { canCut, cutWindow, firstWindow, nextWindow, windowQuery, type CutReason } from './windows.js';

/**
 * SelectTickets: which tickets a backfill archives. It pages Export Search Results one date window at a time
 * (windows.ts), keeps the tickets created inside the window, writes them in sorted parts to the archive bucket, and
 * finally joins the parts into `backfill/{runId}/tickets.jsonl`: one `{"ticketId","createdAt"}` per line, in created
 * order, each ticket once (merge.ts). Memory stays flat: at most `flushAt` tickets are held before a part is written.
 *
 * It answers one of:
 *   {done: true, manifest: {bucket, key}, tickets, windows}     the manifest is complete
 *   {done: false, progress}                                     time is running out: call again with the progress
 *   {done: false, waitSeconds, progress}                        Zendesk asked for a wait: Wait, then call again
 * A rate limit of at most `shortWaitSeconds` (the shared budget refilling) is slept here instead; after
 * ZENDESK_MAX_WAITS waits in a row without a page, ZendeskRateLimited is thrown after all (the retrier takes over).
 */

export interface SelectLimits {
  /** page[size]: Zendesk recommends 100 (large pages of archived tickets can time out). */
  pageSize: number;
  /** Results one export may read before it is cut. */
  maxSessionResults: number;
  /** Age of a cursor past which the export is cut instead of continued (the cursor lives an hour). */
  maxSessionAgeMs: number;
  /** Tickets held in memory before a part is written. */
  flushAt: number;
  /** Remaining Lambda time below which the step hands back its progress. */
  reserveMs: number;
  /** Remaining time the join needs to start in this invocation. */
  joinReserveMs: number;
  /** A Retry-After up to this is slept in the Lambda; a longer one is a Wait state. */
  shortWaitSeconds: number;
}

export const DEFAULT_LIMITS: SelectLimits = {
  pageSize: 100,
  maxSessionResults: 20_000,
  maxSessionAgeMs: 30 * 60_000,
  flushAt: 5_000,
  reserveMs: 90_000,
  joinReserveMs: 180_000,
  shortWaitSeconds: 3,
};

export interface SelectDeps {
  zendesk: Pick<ZendeskApi, 'exportSearchTickets'>;
  files: SelectionFiles;
  /** The Lambda's remaining time (context.getRemainingTimeInMillis); Infinity locally. */
  remainingMs: () => number;
  waits: ZendeskWaitSettings;
  limits?: Partial<SelectLimits>;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export type SelectResult =
  | { done: true; manifest: RunFileRef; tickets: number; windows: number }
  | { done: false; progress: SelectProgress }
  | { done: false; waitSeconds: number; progress: SelectProgress };

/** One invocation's working state: the progress it will hand back and the tickets not yet in a part. */
interface Run {
  input: SelectInput;
  deps: SelectDeps;
  limits: SelectLimits;
  p: SelectProgress;
  buffer: TicketKey[];
  now: () => number;
}

async function flush(run: Run): Promise<void> {
  if (run.buffer.length === 0) return;
  const keys = sortedUnique(run.buffer);
  await run.deps.files.writePart(run.input.runId, run.p.selection, run.p.parts, keys);
  run.p.parts += 1;
  run.buffer = [];
}

/** A new selection: a fresh name for its parts, and no part of an earlier selection of this run left behind. */
async function start(input: SelectInput, deps: SelectDeps): Promise<SelectProgress> {
  await deps.files.clearParts(input.runId);
  const selection = randomBytes(8).toString('hex');
  logger.info('selection started', { runId: input.runId, selection, windowDays: input.windowDays });
  return { v: 1, selection, phase: 'select', ...firstWindow(input), parts: 0, windows: 0, found: 0, waits: 0 };
}

export async function selectTickets(input: SelectInput, deps: SelectDeps): Promise<SelectResult> {
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  const p = structuredClone(input.progress) ?? (await start(input, deps));
  const run: Run = { input, deps, limits, p, buffer: [], now: deps.now ?? Date.now };
  if (p.phase === 'select') {
    const paused = await selectWindows(run);
    if (paused) return paused;
    p.phase = 'join';
    delete p.session;
    if (deps.remainingMs() < limits.joinReserveMs) return { done: false, progress: p };
  }
  return join(run);
}

/** The manifest from the parts, once: a repeat after the manifest was written only finishes the clean-up. */
async function join(run: Run): Promise<SelectResult> {
  const { input, deps, p } = run;
  const manifest = { bucket: deps.files.bucket, key: backfillManifestKey(input.runId) };
  const marker = await deps.files.readMarker(input.runId);
  let tickets: number;
  if (marker?.selection === p.selection) {
    tickets = marker.tickets;
  } else {
    tickets = await deps.files.joinParts(input.runId, p.selection);
    await deps.files.writeMarker(input.runId, { selection: p.selection, tickets, windows: p.windows });
  }
  await deps.files.deleteParts(input.runId, p.selection);
  logger.info('selection written', { runId: input.runId, tickets, windows: p.windows, parts: p.parts, found: p.found });
  return { done: true, manifest, tickets, windows: p.windows };
}

/** Pages every window; undefined when the range is done, else the answer that pauses the selection. */
async function selectWindows(run: Run): Promise<SelectResult | undefined> {
  const { p, limits, deps, input } = run;
  while (p.from < input.until) {
    if (deps.remainingMs() < limits.reserveMs) return pause(run, { done: false, progress: p });
    if (p.session && run.now() - p.session.startedAt > limits.maxSessionAgeMs) {
      cut(run, 'age');
      continue;
    }
    const askedAt = run.now();
    const page = await fetchPage(run);
    if (page === 'retry') continue;
    if ('done' in page) return page;
    p.waits = 0;
    const session = keep(run, page, askedAt);
    if (run.buffer.length >= limits.flushAt) await flush(run);
    if (!page.hasMore) {
      p.windows += 1;
      nextWindow(p, input, session.results, limits.maxSessionResults);
    } else {
      p.session = { ...session, cursor: page.afterCursor! };
      if (session.results >= limits.maxSessionResults && canCut(p)) cut(run, 'size');
    }
  }
  await flush(run);
  return undefined;
}

/** Writes what is held, then answers (the progress never points past a part that is not written). */
async function pause(run: Run, answer: SelectResult): Promise<SelectResult> {
  await flush(run);
  logger.info('selection paused', { runId: run.input.runId, from: run.p.from, to: run.p.to, parts: run.p.parts, found: run.p.found, ...('waitSeconds' in answer ? { waitSeconds: answer.waitSeconds } : {}) });
  return answer;
}

function cut(run: Run, reason: CutReason): void {
  const { from, to } = run.p;
  const outcome = cutWindow(run.p, reason);
  logger.info('export window cut', { runId: run.input.runId, reason, outcome, from, to, nextFrom: run.p.from, nextTo: run.p.to });
}

/** One page of the current window; 'retry' after a short wait or a cut; a pausing answer for a long wait. */
async function fetchPage(run: Run): Promise<ExportSearchPage | 'retry' | SelectResult> {
  const { p, input, limits, deps } = run;
  const cursor = p.session?.cursor;
  try {
    return await deps.zendesk.exportSearchTickets(windowQuery(input.query, p.from, p.to), { pageSize: limits.pageSize, ...(cursor ? { cursor } : {}) });
  } catch (error) {
    if (error instanceof SearchCursorExpired) {
      cut(run, 'stale');
      return 'retry';
    }
    if (!(error instanceof ZendeskRateLimited)) throw error;
    const seconds = Math.max(1, Math.ceil(error.retryAfterSeconds));
    if (seconds <= limits.shortWaitSeconds && deps.remainingMs() - seconds * 1000 > limits.reserveMs) {
      await (deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))))(seconds * 1000);
      return 'retry';
    }
    await flush(run);
    if (p.waits >= deps.waits.maxWaits) throw error;
    p.waits += 1;
    return pause(run, { done: false, waitSeconds: Math.min(seconds, deps.waits.maxWaitSeconds), progress: p });
  }
}

/** Keeps the page's tickets created inside the window; the session's counts and order after them. */
function keep(run: Run, page: ExportSearchPage, askedAt: number): SessionProgress {
  const { p } = run;
  const session: SessionProgress = p.session ? { ...p.session } : { cursor: '', startedAt: askedAt, results: 0, ascending: true };
  let outside = 0;
  for (const ticket of page.tickets) {
    const at = epochSeconds(ticket.createdAt);
    if (at < p.from || at >= p.to) {
      outside += 1;
      continue;
    }
    const key: TicketKey = [at, ticket.id];
    if (session.last && compareKeys(key, session.last) < 0) session.ascending = false;
    if (!session.last || compareKeys(key, session.last) > 0) session.last = [at, ticket.id];
    run.buffer.push(key);
    session.results += 1;
    p.found += 1;
  }
  if (outside > 0) logger.warn('Export Search returned tickets outside the window; left out', { runId: run.input.runId, outside, from: p.from, to: p.to });
  return session;
}

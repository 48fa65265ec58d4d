import { requestBudgetSettings, zendeskWaitSettings } from '../lambdas/shared/config.js';
import { ZendeskRateLimited } from '../lambdas/shared/errors.js';
import { withTraffic } from '../lambdas/shared/traffic.js';
import { ticketRequests, type TicketShape } from '../lambdas/shared/zendesk/cost.js';
import { zendeskFromEnv } from '../lambdas/shared/zendesk/from-env.js';
import { parseSelectInput } from '../lambdas/select-tickets/input.js';
import { memorySelectionFiles } from '../lambdas/select-tickets/memory-files.js';
import { DEFAULT_LIMITS, selectTickets, type SelectResult } from '../lambdas/select-tickets/select.js';
import type { LocalRuntime } from '../local/runtime/local.js';
import type { BackfillOptions } from './backfill-local.js';

/**
 * `backfill --dry-run`: the selection as the backfill would make it (SelectTickets' core, called here as the state
 * machine calls the step, its waits included), kept in memory: no archive object is written. Then a projection of the
 * requests and the time at the configured budget. Nothing is written to Zendesk: a sample of the selected tickets (at
 * most SAMPLE, evenly spread) has its comments read to learn their shape. All of it counts as backfill traffic.
 */
export const SAMPLE = 50;

export interface BackfillPlan {
  dryRun: true;
  tickets: number;
  projectedRequests: number;
  projectedMinutes: number;
  /** How the projection was made: the tickets sampled, and the budget it assumes for the backfill. */
  sampledTickets: number;
  requestsPerMinute: number;
  backfillShare: number;
  /** The date windows the selection read (one export each). */
  windows: number;
}

/** The selected ticket IDs, in created order, and the windows read. */
async function select(runId: string, options: BackfillOptions): Promise<{ ids: string[]; windows: number }> {
  const files = memorySelectionFiles();
  const deps = { zendesk: await zendeskFromEnv(), files, waits: zendeskWaitSettings(), remainingMs: () => Number.POSITIVE_INFINITY };
  let progress: unknown = {};
  for (;;) {
    const input = parseSelectInput({ runId, since: options.since, until: options.until, query: options.query, progress, traffic: 'backfill' });
    const out: SelectResult = await selectTickets(input, deps);
    if (out.done) return { ids: files.manifest(runId).map((line) => line.ticketId), windows: out.windows };
    if ('waitSeconds' in out) await new Promise((resolve) => setTimeout(resolve, out.waitSeconds * 1000));
    progress = out.progress;
  }
}

/**
 * Runs a read, waiting out rate limits: the request budget refuses the backfill once its share is spent, and Zendesk
 * may answer 429. This is a command, not a Lambda, so it sleeps; after ZENDESK_MAX_WAITS waits in a row it gives up.
 */
async function patiently<T>(read: () => Promise<T>): Promise<T> {
  const { maxWaits, maxWaitSeconds } = zendeskWaitSettings();
  for (let waits = 0; ; waits++) {
    try {
      return await read();
    } catch (error) {
      if (!(error instanceof ZendeskRateLimited) || waits >= maxWaits) throw error;
      const seconds = Math.min(Math.max(1, Math.ceil(error.retryAfterSeconds)), maxWaitSeconds);
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    }
  }
}

async function shapeOf(ticketId: string): Promise<TicketShape> {
  const zendesk = await zendeskFromEnv();
  const { comments } = await patiently(() => zendesk.listComments(ticketId));
  const files = comments.map((c) => (c.attachments ?? []).filter((a) => !(a.file_name === 'redacted.txt' && a.size === 0) && !a.deleted).length);
  return { comments: comments.length, files: files.reduce((a, b) => a + b, 0), commentsWithFiles: files.filter((n) => n > 0).length };
}

export async function planBackfill(runtime: LocalRuntime, runId: string, options: BackfillOptions): Promise<BackfillPlan> {
  return withTraffic('backfill', async () => {
    const { ids, windows } = await select(runId, options);
    const step = Math.max(1, ids.length / SAMPLE);
    const sample = Array.from({ length: Math.min(SAMPLE, ids.length) }, (_, i) => ids[Math.floor(i * step)]!);
    const costs = [];
    for (const id of sample) costs.push(ticketRequests(await shapeOf(id)));
    const perTicket = costs.length ? costs.reduce((a, b) => a + b, 0) / costs.length : 0;
    const budget = requestBudgetSettings(runtime.env as NodeJS.ProcessEnv);
    const requestsPerMinute = budget.requestsPerMinute ?? 200;
    // The tickets' requests, and the selection's own export pages (one per page of results, at least one per window).
    const projectedRequests = Math.round(perTicket * ids.length + Math.ceil(ids.length / DEFAULT_LIMITS.pageSize) + windows);
    return {
      dryRun: true as const,
      tickets: ids.length,
      projectedRequests,
      projectedMinutes: Math.round((projectedRequests / (requestsPerMinute * budget.backfillShare)) * 10) / 10,
      sampledTickets: sample.length,
      requestsPerMinute,
      backfillShare: budget.backfillShare,
      windows,
    };
  });
}

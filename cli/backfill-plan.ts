import { GetObjectCommand } from '@aws-sdk/client-s3';
import { archiveSettings, requestBudgetSettings } from '../lambdas/shared/config.js';
import { createS3Client } from '../lambdas/shared/s3.js';
import { ticketRequests, type TicketShape } from '../lambdas/shared/zendesk/cost.js';
import { zendeskFromEnv } from '../lambdas/shared/zendesk/from-env.js';
import { loadStepHandler } from '../local/runtime/handlers.js';
import type { LocalRuntime } from '../local/runtime/local.js';
import type { BackfillOptions } from './backfill-local.js';

/**
 * `backfill --dry-run`: the selection as the backfill would make it (SelectTickets, run here as the state machine
 * would call it, into backfill/dry-<runId>/tickets.jsonl: not an archived object), then a projection of the
 * requests and the time at the configured budget. Nothing is written to Zendesk: a sample of the selected tickets
 * (at most SAMPLE, evenly spread) has its comments read to learn their shape.
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
  manifest: { bucket: string; key: string } | null;
}

interface Selected {
  tickets: number;
  manifest?: { bucket: string; key: string };
}

async function select(runId: string, options: BackfillOptions): Promise<Selected> {
  const handler = await loadStepHandler('select-tickets');
  let progress: unknown = {};
  let zendeskWaits: unknown = { count: 0 };
  for (;;) {
    const out = (await handler({ runId, since: options.since, until: options.until, query: options.query, progress, zendeskWaits, traffic: 'backfill' }, undefined)) as Record<string, unknown>;
    if (typeof out.waitSeconds === 'number') await new Promise((r) => setTimeout(r, Number(out.waitSeconds) * 1000));
    progress = out.progress ?? progress;
    zendeskWaits = out.zendeskWaits ?? zendeskWaits;
    if (out.done !== false && typeof out.waitSeconds !== 'number') return out as unknown as Selected;
  }
}

async function ticketIdsOf(env: NodeJS.ProcessEnv, manifest: { bucket: string; key: string }): Promise<string[]> {
  const s3 = createS3Client(archiveSettings(env));
  const object = await s3.send(new GetObjectCommand({ Bucket: manifest.bucket, Key: manifest.key }));
  const text = (await object.Body?.transformToString('utf8')) ?? '';
  return text.split('\n').filter((l) => l.trim()).map((l) => String((JSON.parse(l) as { ticketId: string }).ticketId));
}

async function shapeOf(ticketId: string): Promise<TicketShape> {
  const { comments } = await (await zendeskFromEnv()).listComments(ticketId);
  const files = comments.map((c) => (c.attachments ?? []).filter((a) => !(a.file_name === 'redacted.txt' && a.size === 0) && !a.deleted).length);
  return { comments: comments.length, files: files.reduce((a, b) => a + b, 0), commentsWithFiles: files.filter((n) => n > 0).length };
}

export async function planBackfill(runtime: LocalRuntime, runId: string, options: BackfillOptions): Promise<BackfillPlan> {
  const selected = await select(`dry-${runId}`, options);
  const ids = selected.manifest && selected.tickets > 0 ? await ticketIdsOf(runtime.env as NodeJS.ProcessEnv, selected.manifest) : [];
  const step = Math.max(1, ids.length / SAMPLE);
  const sample = Array.from({ length: Math.min(SAMPLE, ids.length) }, (_, i) => ids[Math.floor(i * step)]!);
  const costs = [];
  for (const id of sample) costs.push(ticketRequests(await shapeOf(id)));
  const perTicket = costs.length ? costs.reduce((a, b) => a + b, 0) / costs.length : 0;
  const budget = requestBudgetSettings(runtime.env as NodeJS.ProcessEnv);
  const requestsPerMinute = budget.requestsPerMinute ?? 200;
  const projectedRequests = Math.round(perTicket * ids.length + Math.ceil(ids.length / 1000) + 1);
  return {
    dryRun: true,
    tickets: ids.length,
    projectedRequests,
    projectedMinutes: Math.round((projectedRequests / (requestsPerMinute * budget.backfillShare)) * 10) / 10,
    sampledTickets: sample.length,
    requestsPerMinute,
    backfillShare: budget.backfillShare,
    manifest: selected.manifest ?? null,
  };
}

import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ExecutionRecord, HistoryEvent } from '../local/runtime/history.js';
import type { LocalRuntime } from '../local/runtime/local.js';
import { startOptionsOf } from './backfill-options.js';
import type { BackfillReport } from '../lambdas/summarize-backfill/summarize.js';
import { printJson } from './output.js';

/**
 * `attachment-vault backfill` without a subcommand: the whole backfill in the local engine (statemachine/backfill.asl.json
 * unchanged, its Distributed Map through the local Map Run adapter, each ticket a local execution of the per-ticket
 * machine named bf-<runId>-<ticketId>), against ZENDESK_URL (or the embedded sandbox), or with --dry-run the
 * selection and a projection only (backfill-plan.ts).
 */
export interface BackfillOptions {
  since: string;
  until: string;
  query: string;
  maxConcurrency: number;
  dryRun: boolean;
}

/**
 * `backfill [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--query "<terms>"] [--dry-run] [--max-concurrency N]`
 * (backfill-options.ts; locally the concurrency defaults to 10, not to the stack's BACKFILL_MAX_CONCURRENCY).
 */
export function parseBackfillArgs(args: string[], now: Date = new Date()): BackfillOptions {
  const { values } = parseArgs({
    args,
    options: {
      since: { type: 'string' },
      until: { type: 'string' },
      query: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'max-concurrency': { type: 'string' },
    },
    strict: true,
  });
  return { ...startOptionsOf(values, {}, now), dryRun: values['dry-run'] ?? false };
}

/** The document `backfill` prints (the issue's contract): SummarizeBackfill's report, or what stopped the run before it. */
export interface BackfillDocument extends Pick<BackfillReport, 'runId' | 'status' | 'tickets' | 'succeeded' | 'failed' | 'failedTickets'> {
  report: BackfillReport['report'] | null;
  error?: string;
  cause?: string;
}

/** `20261206T231500-a1b2`: the run's ID, sortable, unique enough for one operator. */
export function newRunId(now: Date = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, '')}-${randomBytes(2).toString('hex')}`;
}

/** The backfill's document from its execution: SummarizeBackfill's report, or what stopped it before. */
export function backfillDocument(record: ExecutionRecord, runId: string): BackfillDocument {
  const summarized = record.events.findLast((e) => e.type === 'StateExited' && e.state === 'SummarizeBackfill' && e.index === undefined);
  const report = (summarized?.output as { report?: Partial<BackfillDocument> } | undefined)?.report;
  if (report && typeof report.tickets === 'number') {
    return {
      runId,
      status: report.status === 'SUCCEEDED' && record.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED',
      tickets: report.tickets,
      succeeded: report.succeeded ?? 0,
      failed: report.failed ?? 0,
      failedTickets: (report.failedTickets ?? []).slice(0, 100),
      report: report.report ?? null,
    };
  }
  return { runId, status: 'FAILED', tickets: 0, succeeded: 0, failed: 0, failedTickets: [], report: null, error: record.error ?? 'Error', cause: record.cause ?? '' };
}

/** `backfill: 120/1000 tickets (3 failed)` on a terminal, from the backfill's Map Run events. */
export function backfillProgress(stream: { write(text: string): unknown; isTTY?: boolean }): ((event: HistoryEvent) => void) | undefined {
  if (!stream.isTTY) return undefined;
  let total = 0;
  let done = 0;
  let failed = 0;
  return (event) => {
    if (event.type === 'StateExited' && event.state === 'SelectTickets' && event.index === undefined) {
      total = Number((event.output as { selection?: { tickets?: number } } | undefined)?.selection?.tickets ?? total);
    }
    if (event.state !== 'BackfillTickets' || event.index === undefined) return;
    if (event.type !== 'MapIterationSucceeded' && event.type !== 'MapIterationFailed') return;
    done += 1;
    if (event.type === 'MapIterationFailed') failed += 1;
    stream.write(`\r\x1b[2Kbackfill: ${done}/${total} tickets${failed ? ` (${failed} failed)` : ''}${done === total ? '\n' : ''}`);
  };
}

async function runWhole(runtime: LocalRuntime, runId: string, options: BackfillOptions): Promise<number> {
  const { openBackfillEngine } = await import('../local/runtime/backfill.js');
  const onEvent = backfillProgress(process.stderr);
  const engine = await openBackfillEngine(runtime.engine, { historyDir: resolve(runtime.dataDir, 'executions'), ...(onEvent ? { onEvent } : {}) });
  const input = { runId, since: options.since, until: options.until, query: options.query, maxConcurrency: options.maxConcurrency };
  const record = await engine.run(input as never, `backfill-${runId}`);
  const document = backfillDocument(record, runId);
  printJson(document);
  return document.status === 'SUCCEEDED' ? 0 : 1;
}

export async function runBackfillLocally(options: BackfillOptions): Promise<number> {
  const { openLocal } = await import('../local/runtime/local.js');
  const runtime = await openLocal({ seedDemo: !process.env.ZENDESK_URL });
  const runId = newRunId();
  try {
    if (options.dryRun) {
      const { planBackfill } = await import('./backfill-plan.js');
      printJson(await planBackfill(runtime, runId, options));
      return 0;
    }
    return await runWhole(runtime, runId, options);
  } finally {
    await runtime.close();
  }
}

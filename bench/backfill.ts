/**
 * The backfill side of the bench: many tickets through statemachine/backfill.asl.json in the local engine against
 * the sandbox with its account limit ENFORCED (429 with Retry-After past it), every Zendesk request through the
 * shared budget, Wait states in real time (the budget counts real 10 s windows). It measures:
 * - utilisation: requests the backfill sent that the account's limit counts (not downloads) / what its share of the
 *   budget allowed over the run;
 * - refused: 429s of the account limit (the budget exists so that there are none);
 * - liveLatencyRatio: a live ticket's time while the backfill runs / the same ticket shape on an idle account;
 * - per shape, the API requests one backfilled ticket costs against the floor 4 + 2P + 2N + C.
 */
import { ticketRequests, requestFloor } from '../lambdas/shared/zendesk/cost.js';
import type { SandboxZendesk } from '../local/sandbox/zendesk.js';
import { median, round } from './stats.js';
import { openBenchRuntime, seedTicket, type BenchRuntime, type TicketShape } from './workflow.js';

export interface BackfillBenchOptions {
  tickets: number;
  /** The account's enforced limit, requests per minute (the budget's ZENDESK_REQUESTS_PER_MINUTE too). */
  requestsPerMinute: number;
  backfillShare: number;
  maxConcurrency: number;
  log: (line: string) => void;
}

/** The mix of backfilled tickets: small, typical, comment-heavy, and none (selected by the query only with files). */
export const BACKFILL_SHAPES: TicketShape[] = [
  { attachments: 1, comments: 1, bytes: 4096 },
  { attachments: 3, comments: 2, bytes: 4096 },
  { attachments: 2, comments: 8, bytes: 4096 },
];

export interface ShapeCost {
  shape: TicketShape;
  apiRequests: number;
  apiFloor: number;
  /** What lambdas/shared/zendesk/cost.ts projects for it (the dry run's model). */
  projected: number;
}

export interface BackfillBenchResult {
  tickets: number;
  status: string;
  seconds: number;
  requestsPerMinute: number;
  backfillShare: number;
  maxConcurrency: number;
  apiRequests: number;
  allowedRequests: number;
  utilisation: number;
  refused: number;
  liveIdleSeconds: number;
  liveDuringSeconds: number[];
  liveLatencyRatio: number;
  shapes: ShapeCost[];
}

/** Requests to the API host (the floor counts these: downloads' credentialed GETs too). */
const API = (sandbox: SandboxZendesk) => sandbox.requests.filter((r) => r.role === 'api').length;
/** Requests the account's per-minute limit counts (and the budget takes for): not downloads, not OAuth. */
const LIMITED = (sandbox: SandboxZendesk) => sandbox.requests.filter((r) => r.role === 'api' && r.kind !== 'download' && r.kind !== 'oauth').length;

function shapeOf(shape: TicketShape) {
  const commentsWithFiles = Math.min(shape.comments, shape.attachments);
  return { comments: shape.comments, files: shape.attachments, commentsWithFiles };
}

/** A live ticket's whole run, in seconds. */
async function liveTicket(bench: BenchRuntime, shape: TicketShape): Promise<number> {
  const ticketId = seedTicket(bench.sandbox, shape);
  const started = performance.now();
  const record = await bench.runtime.engine.run({ ticketId, source: 'cli' } as never, `live-${ticketId}-${Date.now()}`);
  if (record.status !== 'SUCCEEDED') throw new Error(`live ticket ${ticketId} ended ${record.status}: ${record.error ?? ''} ${record.cause ?? ''}`);
  return (performance.now() - started) / 1000;
}

/** One backfilled ticket of each shape on its own: the API requests it cost against the floor. */
async function shapeCosts(bench: BenchRuntime): Promise<ShapeCost[]> {
  const costs: ShapeCost[] = [];
  for (const shape of BACKFILL_SHAPES) {
    const ticketId = seedTicket(bench.sandbox, shape);
    bench.sandbox.resetCounts();
    const record = await bench.runtime.engine.run({ ticketId, source: 'cli' } as never, `bf-shape-${ticketId}`);
    if (record.status !== 'SUCCEEDED') throw new Error(`ticket ${ticketId} ended ${record.status}`);
    costs.push({ shape, apiRequests: API(bench.sandbox), apiFloor: requestFloor(shapeOf(shape)), projected: ticketRequests(shapeOf(shape)) });
  }
  return costs;
}

export async function backfillBench(options: BackfillBenchOptions): Promise<BackfillBenchResult> {
  const { log } = options;
  const bench = await openBenchRuntime({
    realWaits: true,
    env: { ZENDESK_REQUESTS_PER_MINUTE: String(options.requestsPerMinute), BACKFILL_SHARE: String(options.backfillShare) },
  });
  try {
    bench.sandbox.setAccountRateLimit(options.requestsPerMinute, { enforce: true });
    const shapes = await shapeCosts(bench);
    for (const s of shapes) log(`  backfilled ${s.shape.attachments} files / ${s.shape.comments} comments: ${s.apiRequests} API requests (floor ${s.apiFloor})`);
    const live: TicketShape = { attachments: 2, comments: 2, bytes: 4096 };
    const idle = median([await liveTicket(bench, live), await liveTicket(bench, live), await liveTicket(bench, live)]);
    log(`  live ticket on an idle account: ${idle.toFixed(2)} s`);

    // Yesterday's tickets, so that the live tickets created meanwhile are outside the window.
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    const yesterday = new Date(`${day(-1)}T12:00:00Z`);
    for (let i = 0; i < options.tickets; i++) seedTicket(bench.sandbox, BACKFILL_SHAPES[i % BACKFILL_SHAPES.length]!, yesterday);
    bench.sandbox.resetCounts();
    const refusedBefore = bench.sandbox.rateLimitRefusals().account;
    const { openBackfillEngine } = await import('../local/runtime/backfill.js');
    const engine = await openBackfillEngine(bench.runtime.engine, { historyDir: bench.historyDir, retryIntervalMs: 0 });
    const started = performance.now();
    const runId = `bench${Date.now()}`;
    let liveRequests = 0;
    const during: number[] = [];
    const backfill = engine.run({ runId, since: day(-1), until: day(0), query: 'has_attachment:true', maxConcurrency: options.maxConcurrency } as never, `backfill-${runId}`);
    let finished = false;
    void backfill.finally(() => (finished = true));
    // Live tickets while the backfill runs: one every 10 s until it ends (their requests are not the backfill's).
    while (!finished) {
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      if (finished) break;
      const before = LIMITED(bench.sandbox);
      during.push(await liveTicket(bench, live));
      liveRequests += LIMITED(bench.sandbox) - before;
    }
    const record = await backfill;
    const seconds = (performance.now() - started) / 1000;
    const apiRequests = LIMITED(bench.sandbox) - liveRequests;
    const allowedRequests = (options.requestsPerMinute * options.backfillShare * seconds) / 60;
    const report = (record.output ?? {}) as { tickets?: number; succeeded?: number; failed?: number; failedTickets?: string[] };
    log(`  backfill of ${report.tickets ?? '?'} tickets: ${record.status} in ${seconds.toFixed(1)} s, ${apiRequests} API requests of ${Math.round(allowedRequests)} allowed`);
    if (record.status !== 'SUCCEEDED') {
      log(`  backfill ended ${record.status}: ${record.error ?? ''} ${(record.cause ?? '').slice(0, 600)}`);
      for (const e of record.events.filter((e) => e.type.includes('Failed') || e.type === 'TaskRetried').slice(0, 12)) log(`    ${e.type} ${e.state ?? ''}[${e.index ?? ''}] ${JSON.stringify(e.error ?? '').slice(0, 200)} ${String(e.cause ?? '').slice(0, 300)}`);
      for (const ticketId of /(\d+(?:, \d+)*)\. Re-run/.exec(record.cause ?? '')?.[1]?.split(', ').slice(0, 5) ?? []) {
        const child = await bench.runtime.engine.wait(`bf-${runId}-${ticketId}`);
        const failed = child?.events.filter((e) => e.type.endsWith('Failed') || e.type === 'TaskRetried').slice(-3).map((e) => `${e.type} ${e.state ?? ''} ${JSON.stringify(e.error ?? e.output ?? '').slice(0, 200)}`);
        log(`    ticket ${ticketId}: ${child?.status} ${child?.error ?? ''} ${(child?.cause ?? '').slice(0, 300)} | ${failed?.join(' | ')}`);
      }
    }
    const duringMedian = during.length ? median(during) : idle;
    return {
      tickets: report.tickets ?? 0,
      status: record.status,
      seconds: round(seconds, 1),
      requestsPerMinute: options.requestsPerMinute,
      backfillShare: options.backfillShare,
      maxConcurrency: options.maxConcurrency,
      apiRequests,
      allowedRequests: Math.round(allowedRequests),
      utilisation: round(apiRequests / allowedRequests, 3),
      refused: bench.sandbox.rateLimitRefusals().account - refusedBefore,
      liveIdleSeconds: round(idle, 3),
      liveDuringSeconds: during.map((s) => round(s, 3)),
      liveLatencyRatio: round(duringMedian / idle, 2),
      shapes,
    };
  } finally {
    await bench.close();
  }
}

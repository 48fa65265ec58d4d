/**
 * `npm run bench` (GitHub issue 6): copy throughput and memory against a raw baseline, a part-size x queue-size
 * grid, Zendesk requests per ticket against the design minimum, state transitions and whole-ticket time in the
 * local engine. Prints ONE JSON document on stdout; progress and a readable table on stderr.
 *
 *   npm run -s bench                  full run (1 MiB, 64 MiB, 1 GiB; grid; workflow), ~3 minutes
 *   npm run -s bench -- --quick       no 1 GiB, fewer runs, smaller grid, ~25 s
 *   options: --reps N (runs per copy size), --no-grid, --no-workflow, --no-copy, --no-backfill,
 *            --backfill-tickets N (default 200; 60 with --quick)
 * (-s keeps npm's own banner off stdout, which then holds the JSON alone.)
 *
 * See docs/benchmarks.md for what each number means and the results on the reference machine.
 */
import os from 'node:os';
import { archiveSettings, mapMaxConcurrency } from '../lambdas/shared/config.js';
import { measureGrid, measurePair, startServers, type CopySettings, type GridPoint, type PairResult } from './copy-bench.js';
import { HISTORY_LIMIT_EVENTS, PAYLOAD_LIMIT_BYTES } from '../local/runtime/limits.js';
import { backfillBench } from './backfill.js';
import { hashRates } from './hashes.js';
import { MiB } from './protocol.js';
import { formatBytes, median, round, table } from './stats.js';
import {
  COMMENT_PAGE_SIZE,
  countedRun,
  openBenchRuntime,
  USD_PER_TRANSITION,
  type CountedRun,
  type TicketShape,
} from './workflow.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string): string | undefined => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
};
const quick = flag('quick');
const repsOverride = option('reps') ? Number(option('reps')) : undefined;
if (repsOverride !== undefined && !(Number.isInteger(repsOverride) && repsOverride >= 1)) throw new Error('--reps must be a positive integer');

const log = (line: string) => process.stderr.write(`${line}\n`);
const started = performance.now();
const elapsed = () => round((performance.now() - started) / 1000, 1);

/** The copy settings in effect: the defaults unless COPY_PART_SIZE_MB / COPY_QUEUE_SIZE / MAP_MAX_CONCURRENCY are set. */
const defaults = archiveSettings({ ...process.env, ARCHIVE_BUCKET: 'bench' });
const defaultSettings: CopySettings = { partSizeBytes: defaults.partSizeBytes, queueSize: defaults.queueSize };
const defaultMapConcurrency = mapMaxConcurrency(process.env);

const SIZES = [
  { label: '1 MiB', bytes: MiB, reps: 7 },
  { label: '64 MiB', bytes: 64 * MiB, reps: 5 },
  ...(quick ? [] : [{ label: '1 GiB', bytes: 1024 * MiB, reps: 3 }]),
].map((size) => ({ ...size, reps: repsOverride ?? (quick ? Math.min(size.reps, 3) : size.reps) }));

const GRID: CopySettings[] = (quick ? [[5, 1], [5, 2], [8, 2]] : [5, 8, 16, 32].flatMap((part) => [1, 2, 4].map((queue) => [part, queue]))).map(
  ([part, queue]) => ({ partSizeBytes: part! * MiB, queueSize: queue! }),
);
const GRID_BYTES = 64 * MiB;
const GRID_REPS = quick ? 2 : 3;

const REQUEST_SHAPES: TicketShape[] = [
  { attachments: 1, comments: 1 },
  { attachments: 10, comments: 10 },
  { attachments: 100, comments: 50 },
];
const SMALL_FILES: TicketShape = { attachments: 10, comments: 10, bytes: 64 * 1024 };
/**
 * Shapes measured against Step Functions' limits (256 KiB per state, 25,000 history events): the request shapes, the
 * largest ticket the inline Map takes (COPY_INLINE_MAX_FILES, 200) and the smallest one past it, and the two large
 * tickets of test/e2e/large-tickets.test.ts and many-comments.test.ts.
 */
const LIMIT_SHAPES: TicketShape[] = [
  { attachments: 200, comments: 40, bytes: 256 },
  { attachments: 201, comments: 41, bytes: 256 },
  ...(quick ? [] : [{ attachments: 3000, comments: 600, bytes: 256 }, { attachments: 1200, comments: 1200, bytes: 256 }]),
];
const MAP_CONCURRENCY = [...new Set([...(quick ? [1, 10] : [1, 2, 4, 8, 10]), defaultMapConcurrency])].sort((a, b) => a - b);
const TICKET_REPS = quick ? 3 : 5;

interface Goal {
  id: string;
  target: string;
  met: boolean | null;
  detail: string;
}

async function copySection() {
  log(`\n== copy throughput and memory (part ${defaultSettings.partSizeBytes / MiB} MiB, queue ${defaultSettings.queueSize}) ==`);
  const servers = await startServers();
  try {
    const warmup = await servers.seed(MiB);
    const sizes: PairResult[] = [];
    for (const size of SIZES) {
      const attachment = await servers.seed(size.bytes);
      sizes.push(await measurePair(servers, size.label, attachment, warmup, defaultSettings, size.reps, log));
    }
    let grid: GridPoint[] = [];
    if (!flag('no-grid')) {
      log(`\n== part size x queue size grid (${formatBytes(GRID_BYTES)}, copy step, ${GRID_REPS} runs each) ==`);
      const attachment = await servers.seed(GRID_BYTES);
      grid = await measureGrid(servers, attachment, warmup, GRID, GRID_REPS, log);
    }
    return { sizes, grid, servers: await servers.memory() };
  } finally {
    await servers.close();
  }
}

async function workflowSection() {
  log('\n== workflow in the local engine (requests, transitions, whole-ticket time) ==');
  const bench = await openBenchRuntime();
  try {
    const requests: Array<CountedRun & { shape: TicketShape }> = [];
    for (const shape of REQUEST_SHAPES) {
      const run = await countedRun(bench.runtime, bench.sandbox, shape);
      requests.push({ shape, ...run });
      log(`  ${shape.attachments} files / ${shape.comments} comments: ${run.status}, ${Object.values(run.counts).reduce((a, b) => a + (b ?? 0), 0)} requests, ${run.transitions} transitions, ${run.seconds.toFixed(2)} s`);
    }
    const times = new Map<number, number[]>(MAP_CONCURRENCY.map((c) => [c, []]));
    const configured = process.env.MAP_MAX_CONCURRENCY;
    for (let rep = 0; rep < TICKET_REPS; rep++) {
      for (const concurrency of MAP_CONCURRENCY) {
        process.env.MAP_MAX_CONCURRENCY = String(concurrency);
        const run = await countedRun(bench.runtime, bench.sandbox, SMALL_FILES);
        if (run.status !== 'SUCCEEDED') throw new Error(`ticket ${run.ticketId} ended ${run.status}`);
        times.get(concurrency)!.push(run.seconds);
      }
    }
    if (configured === undefined) delete process.env.MAP_MAX_CONCURRENCY;
    else process.env.MAP_MAX_CONCURRENCY = configured;
    const limits: Array<CountedRun & { shape: TicketShape }> = [...requests];
    for (const shape of LIMIT_SHAPES) {
      process.env.MAP_MAX_CONCURRENCY = '16';
      const run = await countedRun(bench.runtime, bench.sandbox, shape);
      limits.push({ shape, ...run });
      log(`  ${shape.attachments} files / ${shape.comments} comments: ${run.status}, largest payload ${run.limits?.largestPayloadBytes} B, ${run.limits?.historyEvents} history events, ${run.seconds.toFixed(1)} s`);
    }
    if (configured === undefined) delete process.env.MAP_MAX_CONCURRENCY;
    else process.env.MAP_MAX_CONCURRENCY = configured;
    const byMapConcurrency = MAP_CONCURRENCY.map((maxConcurrency) => ({
      maxConcurrency,
      medianSeconds: round(median(times.get(maxConcurrency)!), 3),
      secondsPerRun: times.get(maxConcurrency)!.map((s) => round(s, 3)),
    }));
    for (const row of byMapConcurrency) log(`  10 small files, MaxConcurrency ${row.maxConcurrency}: median ${row.medianSeconds} s`);
    return { requests, byMapConcurrency, limits };
  } finally {
    await bench.close();
  }
}

async function backfillSection() {
  log('\n== backfill in the local engine (shared budget, enforced account limit, real waits) ==');
  const tickets = option('backfill-tickets') ? Number(option('backfill-tickets')) : quick ? 60 : 200;
  if (!(Number.isInteger(tickets) && tickets >= 1)) throw new Error('--backfill-tickets must be a positive integer');
  return backfillBench({ tickets, requestsPerMinute: 1200, backfillShare: 0.5, maxConcurrency: 10, log });
}

function requestGoals(run: CountedRun & { shape: TicketShape }) {
  const pages = Math.max(1, Math.ceil(run.shape.comments / COMMENT_PAGE_SIZE));
  const list = run.counts['comments.list'] ?? 0;
  const redactions = run.counts.redaction ?? 0;
  const tagWrites = run.counts['ticket.update'] ?? 0;
  return {
    commentPasses: { value: list / pages, max: 2, met: list <= 2 * pages },
    redactionCalls: { value: redactions, refused: run.refused.redaction ?? 0, expected: run.minimum.redaction, met: redactions === run.minimum.redaction },
    tagWrites: { value: tagWrites, expected: 2, met: tagWrites === 2 },
  };
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const loadBefore = os.loadavg()[0]!;
  log(`attachment-vault bench${quick ? ' (quick)' : ''}: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${formatBytes(os.totalmem())}, Node ${process.version}, load ${loadBefore.toFixed(2)}`);
  const hashes = await hashRates();
  log(`single-core digest rates (MiB/s): SHA-256 ${hashes.sha256}, CRC32 ${hashes.crc32}, CRC64NVME ${hashes.crc64nvme}`);

  const copy = flag('no-copy') ? undefined : await copySection();
  const workflow = flag('no-workflow') ? undefined : await workflowSection();
  const backfill = flag('no-backfill') ? undefined : await backfillSection();
  const durationSeconds = elapsed();

  const goals: Goal[] = [];
  let memory;
  if (copy) {
    const low = copy.sizes.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    const high = copy.sizes.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    const delta = round(high.copy.hwmMiB - low.copy.hwmMiB, 1);
    memory = { smallest: low.label, largest: high.label, smallestHwmMiB: low.copy.hwmMiB, largestHwmMiB: high.copy.hwmMiB, deltaMiB: delta, limitMiB: 64, met: delta <= 64 };
    goals.push({
      id: 'copy-throughput',
      target: 'copy step >= 0.9 x baseline throughput at every size',
      met: copy.sizes.every((s) => s.ratio >= 0.9),
      detail: copy.sizes.map((s) => `${s.label}: ${s.ratio} (best runs ${s.bestRatio}, CPU ${s.cpuRatio}; verified by ${s.copy.verification ?? '?'})`).join('; '),
    });
    goals.push({
      id: 'copy-throughput-streaming',
      target: 'the same, over the copy step\'s streaming phase only (the work the baseline does; verification excluded)',
      met: copy.sizes.every((s) => s.streamRatio >= 0.9),
      detail: copy.sizes.map((s) => `${s.label}: ${s.streamRatio} (CPU ${s.streamCpuRatio})`).join('; '),
    });
    goals.push({
      id: 'copy-memory',
      target: `peak RSS of the ${high.label} copy within 64 MiB of the ${low.label} copy`,
      met: memory.met,
      detail: `${high.label} ${high.copy.hwmMiB} MiB vs ${low.label} ${low.copy.hwmMiB} MiB (VmHWM): +${delta} MiB`,
    });
  }
  if (workflow) {
    const checks = workflow.requests.map((r) => ({ r, g: requestGoals(r) }));
    goals.push({
      id: 'comment-passes',
      target: 'at most two passes over the comments (list and confirm)',
      met: checks.every(({ g }) => g.commentPasses.met),
      detail: checks.map(({ r, g }) => `${r.shape.attachments}/${r.shape.comments}: ${g.commentPasses.value}`).join('; '),
    });
    goals.push({
      id: 'redaction-calls',
      target: 'one redaction call per comment with verified attachments',
      met: checks.every(({ g }) => g.redactionCalls.met),
      detail: checks
        .map(({ r, g }) => `${r.shape.attachments}/${r.shape.comments}: ${g.redactionCalls.value} calls (${g.redactionCalls.refused} refused, 429) for ${g.redactionCalls.expected} comments`)
        .join('; '),
    });
    goals.push({
      id: 'tag-writes',
      target: 'two tag writes',
      met: checks.every(({ g }) => g.tagWrites.met),
      detail: checks.map(({ r, g }) => `${r.shape.attachments}/${r.shape.comments}: ${g.tagWrites.value}`).join('; '),
    });
  }
  if (backfill) {
    goals.push({ id: 'backfill-utilisation', target: "the backfill uses >= 0.9 of its share of the budget over the run", met: backfill.utilisation >= 0.9, detail: `${backfill.apiRequests} of ${backfill.allowedRequests} requests: ${backfill.utilisation}` });
    goals.push({ id: 'backfill-refused', target: "no 429 of the account's limit", met: backfill.refused === 0, detail: `${backfill.refused}` });
    goals.push({ id: 'backfill-live-latency', target: 'a live ticket during the backfill within 2 x its idle time', met: backfill.liveLatencyRatio <= 2, detail: `${backfill.liveLatencyRatio} (${backfill.liveIdleSeconds} s idle; during: ${backfill.liveDuringSeconds.join(', ')} s)` });
    goals.push({
      id: 'backfill-request-floor',
      target: 'API requests per backfilled ticket at the floor 4 + 2P + 2N + C, plus the P of the redaction step\'s own read before it redacts (docs/benchmarks.md)',
      met: backfill.shapes.every((s) => s.apiRequests <= s.apiFloor + Math.max(1, Math.ceil(s.shape.comments / COMMENT_PAGE_SIZE))),
      detail: backfill.shapes.map((s) => `${s.shape.attachments}/${s.shape.comments}: ${s.apiRequests} vs ${s.apiFloor}`).join('; '),
    });
  }
  goals.push({ id: 'bench-duration', target: 'npm run bench under 10 minutes', met: durationSeconds < 600, detail: `${durationSeconds} s` });

  const document = {
    benchmark: 'attachment-vault',
    version: 1,
    startedAt,
    durationSeconds,
    quick,
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      memoryGiB: round(os.totalmem() / 1024 ** 3, 1),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      arch: os.arch(),
      loadAverage1m: { before: round(loadBefore, 2), after: round(os.loadavg()[0]!, 2) },
    },
    settings: {
      partSizeMiB: defaultSettings.partSizeBytes / MiB,
      queueSize: defaultSettings.queueSize,
      mapMaxConcurrency: defaultMapConcurrency,
      workerNodeOptions: process.env.BENCH_WORKER_NODE_OPTIONS ?? '',
      s3: 'fauxqs 2.4.1, in memory, own process (request body limit raised to 72 MiB)',
      zendesk: 'local/sandbox, own process (generated bytes, content host behind a 302)',
    },
    hashRatesMiBps: hashes,
    ...(copy
      ? {
          copy: { sizes: copy.sizes, servers: copy.servers },
          memory,
          grid: { bytes: GRID_BYTES, runs: GRID_REPS, points: copy.grid },
        }
      : {}),
    ...(workflow
      ? {
          requests: workflow.requests.map((r) => ({
            shape: r.shape,
            status: r.status,
            counts: r.counts,
            minimum: r.minimum,
            excess: r.excess,
            refused: r.refused,
            total: Object.values(r.counts).reduce((a, b) => a + (b ?? 0), 0),
            minimumTotal: Object.values(r.minimum).reduce((a, b) => a + b, 0),
            redactionPasses: r.redactionPasses,
            goals: requestGoals(r),
          })),
          transitions: workflow.requests.map((r) => ({
            attachments: r.shape.attachments,
            comments: r.shape.comments,
            transitions: r.transitions,
            minimum: r.minimumTransitions,
            retries: r.retries,
            usdPerTicket: round(r.transitions * USD_PER_TRANSITION, 6),
            usdPer1000Tickets: round(r.transitions * USD_PER_TRANSITION * 1000, 4),
          })),
          limits: {
            payloadLimitBytes: PAYLOAD_LIMIT_BYTES,
            historyLimitEvents: HISTORY_LIMIT_EVENTS,
            shapes: workflow.limits.map((r) => ({
              attachments: r.shape.attachments,
              comments: r.shape.comments,
              status: r.status,
              copyMap: (r.limits?.childExecutions ?? 0) > 0 ? 'distributed' : 'inline',
              largestPayloadBytes: r.limits?.largestPayloadBytes ?? null,
              largestPayloadAt: r.limits?.largestPayloadAt ?? null,
              payloadShareOfLimit: r.limits ? round(r.limits.largestPayloadBytes / PAYLOAD_LIMIT_BYTES, 3) : null,
              historyEvents: r.limits?.historyEvents ?? null,
              historyShareOfLimit: r.limits ? round(r.limits.historyEvents / HISTORY_LIMIT_EVENTS, 3) : null,
              childExecutions: r.limits?.childExecutions ?? 0,
              largestChildHistoryEvents: r.limits?.largestChildHistoryEvents ?? null,
              largestChildPayloadBytes: r.limits?.largestChildPayloadBytes ?? null,
              redactionPasses: r.redactionPasses,
              seconds: round(r.seconds, 1),
            })),
          },
          ticketTime: {
            shape: SMALL_FILES,
            runs: TICKET_REPS,
            defaultMapConcurrency,
            medianSeconds: workflow.byMapConcurrency.find((r) => r.maxConcurrency === defaultMapConcurrency)?.medianSeconds ?? null,
            byMapConcurrency: workflow.byMapConcurrency,
          },
        }
      : {}),
    ...(backfill ? { backfill } : {}),
    goals,
  };

  printTables(document);
  process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
}

function printTables(doc: {
  copy?: { sizes: PairResult[] };
  grid?: { points: GridPoint[] };
  requests?: Array<{ shape: TicketShape; counts: Record<string, number | undefined>; minimum: Record<string, number>; total: number; minimumTotal: number }>;
  transitions?: Array<{ attachments: number; transitions: number; minimum: number; usdPer1000Tickets: number }>;
  ticketTime?: { medianSeconds: number | null; byMapConcurrency: Array<{ maxConcurrency: number; medianSeconds: number }> };
  goals: Goal[];
  durationSeconds: number;
}): void {
  if (doc.copy) {
    log('\nCopy step vs baseline (medians; MiB/s; RSS = VmHWM of each fresh process)');
    log(
      table([
        ['size', 'baseline', 'copy', 'ratio', 'best ratio', 'copy stream', 'stream ratio', 'verify s', 'CPU ms/MiB b/c/c-stream', 'RSS MiB b/c', 'verified by'],
        ...doc.copy.sizes.map((s) => [
          s.label,
          s.baseline.mibPerSecond,
          s.copy.mibPerSecond,
          s.ratio,
          s.bestRatio,
          s.copy.streamMibPerSecond ?? '',
          s.streamRatio,
          s.copy.verifySeconds ?? '',
          `${s.baseline.cpuMsPerMiB}/${s.copy.cpuMsPerMiB}/${s.copy.streamCpuMsPerMiB ?? ''}`,
          `${s.baseline.hwmMiB}/${s.copy.hwmMiB}`,
          s.copy.verification ?? '',
        ]),
      ]),
    );
  }
  if (doc.grid && doc.grid.points.length > 0) {
    log('\nGrid: copy step at 64 MiB');
    log(
      table([
        ['part MiB', 'queue', 'median s', 'MiB/s', 'stream MiB/s', 'CPU ms/MiB', 'peak RSS MiB'],
        ...doc.grid.points.map((p) => [p.partSizeMiB, p.queueSize, p.copy.medianSeconds, p.copy.mibPerSecond, p.copy.streamMibPerSecond ?? '', p.copy.cpuMsPerMiB, p.copy.hwmMiB]),
      ]),
    );
  }
  if (doc.requests) {
    log('\nZendesk requests per ticket (measured / design minimum)');
    const kinds = ['ticket.get', 'comments.list', 'attachment.get', 'download', 'content', 'redaction', 'ticket.update'];
    log(
      table([
        ['files/comments', ...kinds, 'total'],
        ...doc.requests.map((r) => [
          `${r.shape.attachments}/${r.shape.comments}`,
          ...kinds.map((k) => `${r.counts[k] ?? 0}/${r.minimum[k] ?? 0}`),
          `${r.total}/${r.minimumTotal}`,
        ]),
      ]),
    );
  }
  if (doc.transitions) {
    log('\nState transitions per ticket (Standard, $0.025 per 1,000)');
    log(table([['files', 'transitions', 'minimum', 'USD / 1,000 tickets'], ...doc.transitions.map((t) => [t.attachments, t.transitions, t.minimum, t.usdPer1000Tickets])]));
  }
  if (doc.ticketTime) {
    log('\nWhole ticket, 10 small files (median seconds by Map MaxConcurrency)');
    log(table([['MaxConcurrency', 'median s'], ...doc.ticketTime.byMapConcurrency.map((r) => [r.maxConcurrency, r.medianSeconds])]));
  }
  log('\nGoals');
  log(table([['goal', 'met', 'detail'], ...doc.goals.map((g) => [g.id, g.met === null ? 'n/a' : g.met ? 'yes' : 'NO', g.detail])]));
  log(`\nbench finished in ${doc.durationSeconds} s`);
}

await main();

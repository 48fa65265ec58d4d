/**
 * Copy throughput and memory: the real copy step against a raw baseline, each in fresh worker processes
 * (bench/copy-worker.ts), with the sandbox Zendesk and fauxqs in processes of their own (bench/servers.ts).
 */
import { startChild, type Child } from './ipc.js';
import { MiB, type CopyJob, type CopyJobResult, type CopyRun, type CopyVariant, type SeededAttachment, type ServersReady } from './protocol.js';
import { median, round } from './stats.js';

/**
 * The copy workers' environment. BENCH_WORKER_NODE_OPTIONS passes V8/Node flags to them only (e.g.
 * `--max-semi-space-size=4`, to see what a flag in the copy Lambda's NODE_OPTIONS would do to its memory).
 */
const WORKER_ENV = {
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_REGION: 'us-east-1',
  NODE_OPTIONS: process.env.BENCH_WORKER_NODE_OPTIONS ?? '',
};

export interface Servers {
  ready: ServersReady;
  seed(size: number): Promise<SeededAttachment>;
  /** Current and peak RSS of the two server processes (MiB). */
  memory(): Promise<ServersMemory>;
  close(): Promise<void>;
}

export interface ServersMemory {
  zendesk: { rssMiB: number; hwmMiB: number };
  s3: { rssMiB: number; hwmMiB: number };
}

const inMiB = (m: { rss: number; hwm: number }) => ({ rssMiB: round(m.rss / MiB, 1), hwmMiB: round(m.hwm / MiB, 1) });

export async function startServers(): Promise<Servers> {
  const zendesk = startChild('servers.ts', { BENCH_SERVER: 'zendesk' });
  const s3 = startChild('servers.ts', { BENCH_SERVER: 's3' });
  try {
    const [z, s] = await Promise.all([zendesk.ready, s3.ready]);
    const ready: ServersReady = {
      zendeskUrl: String(z.zendeskUrl),
      contentOrigin: String(z.contentOrigin),
      s3Endpoint: String(s.s3Endpoint),
      bucket: String(s.bucket),
    };
    return {
      ready,
      seed: (size) => zendesk.call<SeededAttachment>('seed', { size }),
      memory: async () => ({
        zendesk: inMiB(await zendesk.call<{ rss: number; hwm: number }>('memory')),
        s3: inMiB(await s3.call<{ rss: number; hwm: number }>('memory')),
      }),
      close: async () => {
        await Promise.all([zendesk.close(), s3.close()]);
      },
    };
  } catch (error) {
    await Promise.all([zendesk.close(), s3.close()]);
    throw error;
  }
}

export interface CopySettings {
  partSizeBytes: number;
  queueSize: number;
}

/** One variant at one size: medians over the runs, and the worker process's memory. */
export interface VariantResult {
  runs: number;
  medianSeconds: number;
  mibPerSecond: number;
  /** The fastest run: least disturbed by other load on the machine. */
  bestSeconds: number;
  /** CPU time of the copying process per MiB (user + system), median. */
  cpuMsPerMiB: number;
  secondsPerRun: number[];
  /** Copy only: medians of the phases (see CopyRun). */
  streamSeconds?: number;
  streamCpuMsPerMiB?: number;
  verifySeconds?: number;
  streamMibPerSecond?: number;
  verification?: string;
  idleRssMiB: number;
  peakRssMiB: number;
  hwmMiB: number;
  /** What the sampled peak was made of: JS heap, and Buffers outside it (MiB). */
  atPeakMiB: { heapUsed: number; external: number; arrayBuffers: number };
}

interface Worker {
  child: Child;
  runs: CopyRun[];
}

async function startWorker(job: CopyJob): Promise<Worker> {
  const child = startChild('copy-worker.ts', WORKER_ENV);
  try {
    await child.ready;
    await child.call('prepare', { job });
  } catch (error) {
    await child.close();
    throw error;
  }
  return { child, runs: [] };
}

async function finishWorker(worker: Worker, bytes: number): Promise<VariantResult> {
  const memory = await worker.child.call<Omit<CopyJobResult, 'runs'>>('report');
  await worker.child.close();
  const seconds = worker.runs.map((r) => r.seconds);
  const mib = bytes / MiB;
  const medianSeconds = median(seconds);
  const result: VariantResult = {
    runs: worker.runs.length,
    medianSeconds: round(medianSeconds, 4),
    mibPerSecond: round(mib / medianSeconds, 1),
    bestSeconds: round(Math.min(...seconds), 4),
    cpuMsPerMiB: round(median(worker.runs.map((r) => (r.cpuSeconds * 1000) / mib)), 2),
    secondsPerRun: seconds.map((s) => round(s, 4)),
    idleRssMiB: round(memory.idleRssMiB, 1),
    peakRssMiB: round(memory.peakRssMiB, 1),
    hwmMiB: round(memory.hwmMiB, 1),
    atPeakMiB: {
      heapUsed: round(memory.atPeakMiB.heapUsed, 1),
      external: round(memory.atPeakMiB.external, 1),
      arrayBuffers: round(memory.atPeakMiB.arrayBuffers, 1),
    },
  };
  const streams = worker.runs.map((r) => r.streamSeconds).filter((s): s is number => s !== undefined);
  if (streams.length > 0) {
    const stream = median(streams);
    result.streamSeconds = round(stream, 4);
    result.verifySeconds = round(median(worker.runs.map((r) => r.verifySeconds ?? 0)), 4);
    result.streamMibPerSecond = round(mib / stream, 1);
    result.streamCpuMsPerMiB = round(median(worker.runs.map((r) => ((r.streamCpuSeconds ?? 0) * 1000) / mib)), 2);
    const methods = [...new Set(worker.runs.map((r) => r.method).filter(Boolean))];
    if (methods.length > 0) result.verification = methods.join(',');
  }
  return result;
}

export interface PairResult {
  label: string;
  bytes: number;
  baseline: VariantResult;
  copy: VariantResult;
  /** Copy throughput / baseline throughput, whole copy step (verification included), on medians. */
  ratio: number;
  /** The same on the fastest runs of each. */
  bestRatio: number;
  /** Copy throughput over its streaming phase / baseline throughput (the same work the baseline does). */
  streamRatio: number;
  /** Baseline CPU per MiB / copy CPU per MiB (1 = the copy costs no extra CPU). */
  cpuRatio: number;
  /** Baseline CPU per MiB / copy CPU per MiB over the streaming phase. */
  streamCpuRatio: number;
}

/**
 * The copy step and the baseline at one size, `reps` runs each, alternating (baseline, copy, baseline, ...)
 * so that both see the same background load; each variant in its own fresh process.
 */
export async function measurePair(
  servers: Servers,
  label: string,
  attachment: SeededAttachment,
  warmup: SeededAttachment,
  settings: CopySettings,
  reps: number,
  log: (line: string) => void,
): Promise<PairResult> {
  const job = (variant: CopyVariant): CopyJob => ({ variant, servers: servers.ready, attachment, warmup, ...settings });
  const workers: Record<CopyVariant, Worker> = {
    baseline: await startWorker(job('baseline')),
    copy: await startWorker(job('copy')),
  };
  try {
    for (let rep = 0; rep < reps; rep++) {
      for (const variant of ['baseline', 'copy'] as const) {
        const run = await workers[variant].child.call<CopyRun>('rep');
        workers[variant].runs.push(run);
        log(`  ${label} ${variant.padEnd(8)} run ${rep + 1}/${reps}: ${run.seconds.toFixed(3)} s, ${((attachment.size / MiB) / run.seconds).toFixed(1)} MiB/s`);
      }
    }
    const baseline = await finishWorker(workers.baseline, attachment.size);
    const copy = await finishWorker(workers.copy, attachment.size);
    return {
      label,
      bytes: attachment.size,
      baseline,
      copy,
      ratio: round(baseline.medianSeconds / copy.medianSeconds, 3),
      bestRatio: round(baseline.bestSeconds / copy.bestSeconds, 3),
      streamRatio: round(baseline.medianSeconds / (copy.streamSeconds ?? copy.medianSeconds), 3),
      cpuRatio: round(baseline.cpuMsPerMiB / copy.cpuMsPerMiB, 3),
      streamCpuRatio: round(baseline.cpuMsPerMiB / (copy.streamCpuMsPerMiB ?? copy.cpuMsPerMiB), 3),
    };
  } finally {
    await Promise.all(Object.values(workers).map((w) => w.child.close()));
  }
}

export interface GridPoint extends CopySettings {
  partSizeMiB: number;
  copy: VariantResult;
}

/**
 * The copy step alone at one size for each (part size, queue size): one fresh process per setting (its RSS),
 * runs taken round-robin across the settings so background load spreads evenly.
 */
export async function measureGrid(
  servers: Servers,
  attachment: SeededAttachment,
  warmup: SeededAttachment,
  grid: CopySettings[],
  reps: number,
  log: (line: string) => void,
): Promise<GridPoint[]> {
  const workers: Worker[] = [];
  try {
    for (const settings of grid) workers.push(await startWorker({ variant: 'copy', servers: servers.ready, attachment, warmup, ...settings }));
    for (let rep = 0; rep < reps; rep++) {
      for (const [index, worker] of workers.entries()) {
        const run = await worker.child.call<CopyRun>('rep');
        worker.runs.push(run);
        const { partSizeBytes, queueSize } = grid[index]!;
        log(`  grid part ${partSizeBytes / MiB} MiB x queue ${queueSize} run ${rep + 1}/${reps}: ${run.seconds.toFixed(3)} s`);
      }
    }
    const points: GridPoint[] = [];
    for (const [index, worker] of workers.entries()) {
      const settings = grid[index]!;
      points.push({ ...settings, partSizeMiB: settings.partSizeBytes / MiB, copy: await finishWorker(worker, attachment.size) });
    }
    return points;
  } finally {
    await Promise.all(workers.map((w) => w.child.close()));
  }
}

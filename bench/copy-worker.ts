/**
 * One measured process: copies one attachment, through the real copy step or through the raw baseline, once per
 * `rep` request (after `prepare`: clients and an unmeasured warm-up), and `report`s its own memory. Started fresh
 * per (variant, size, setting), so its RSS is the copy path's alone (the servers live in bench/servers.ts).
 */
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { copyAttachment } from '../lambdas/copy-attachment/copy.js';
import type { ArchiveWriterSettings } from '../lambdas/shared/archive.js';
import { createS3Client } from '../lambdas/shared/s3.js';
import { createZendeskClient } from '../lambdas/shared/zendesk/client.js';
import type { ZendeskApi } from '../lambdas/shared/zendesk/types.js';
import { highWaterMark, serve } from './ipc.js';
import { BENCH_CREDENTIALS, MiB, type CopyJob, type CopyJobResult, type CopyRun, type SeededAttachment } from './protocol.js';

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Records when S3 acknowledged the last uploaded byte (the end of the streaming phase), and the CPU used by then. */
function watchUploads(s3: S3Client): { streamEnd: number; streamCpu: NodeJS.CpuUsage } {
  const marks = { streamEnd: 0, streamCpu: process.cpuUsage() };
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'PutObjectCommand' || context.commandName === 'CompleteMultipartUploadCommand') {
        marks.streamEnd = performance.now();
        marks.streamCpu = process.cpuUsage();
      }
      return result;
    },
    { step: 'initialize', name: 'benchUploadTiming' },
  );
  return marks;
}

interface Runner {
  run(attachment: SeededAttachment): Promise<CopyRun>;
}

/** The real copy step (copyAttachment: fresh attachment read, existing-copy check, stream, record, verify). */
function copyRunner(job: CopyJob, s3: S3Client, zendesk: ZendeskApi): Runner {
  const marks = watchUploads(s3);
  const settings: ArchiveWriterSettings = {
    bucket: job.servers.bucket,
    region: 'us-east-1',
    endpoint: job.servers.s3Endpoint,
    forcePathStyle: true,
    keyPrefix: 'tickets',
    partSizeBytes: job.partSizeBytes,
    queueSize: job.queueSize,
    maxAttachmentBytes: 5 * 1024 * MiB,
  };
  // The copy logs how it proved the stored object ('checksum' or 'readback'): keep that, print nothing.
  const logged: { method?: string } = {};
  const logger = {
    info: (_message: unknown, ...attributes: unknown[]) => {
      const method = (attributes[0] as { method?: unknown } | undefined)?.method;
      if (typeof method === 'string') logged.method = method;
    },
    warn: () => undefined,
  };
  return {
    async run(attachment) {
      marks.streamEnd = 0;
      delete logged.method;
      const cpu = process.cpuUsage();
      const started = performance.now();
      const result = await copyAttachment({
        input: {
          ticketId: attachment.ticketId,
          attachment: { attachmentId: attachment.attachmentId, commentId: attachment.commentId, size: attachment.size, inline: false },
        },
        zendesk,
        s3,
        settings,
        logger,
      });
      const ended = performance.now();
      const used = process.cpuUsage(cpu);
      if (result.outcome !== 'archived' || !result.s3Key) {
        throw new Error(`copy ended ${result.outcome}${result.reason ? ` (${result.reason})` : ''}`);
      }
      await s3.send(new DeleteObjectCommand({ Bucket: settings.bucket, Key: result.s3Key }));
      return {
        seconds: (ended - started) / 1000,
        streamSeconds: (marks.streamEnd - started) / 1000,
        verifySeconds: (ended - marks.streamEnd) / 1000,
        bytes: result.bytes ?? 0,
        cpuSeconds: (used.user + used.system) / 1e6,
        streamCpuSeconds: (marks.streamCpu.user - cpu.user + marks.streamCpu.system - cpu.system) / 1e6,
        ...(logged.method ? { method: logged.method } : {}),
      };
    },
  };
}

/**
 * The baseline: the same bytes from the same content_url (credentialed GET, 302, credential-free GET of the
 * content host) into the same S3 through a bare stream: fetch body -> lib-storage Upload, SDK default
 * checksums, no sniffing, hashing, length check, metadata or verification.
 */
function baselineRunner(job: CopyJob, s3: S3Client): Runner {
  const authorization = `Basic ${Buffer.from(`${BENCH_CREDENTIALS.email}/token:${BENCH_CREDENTIALS.apiToken}`).toString('base64')}`;
  return {
    async run(attachment) {
      const key = `baseline/${attachment.attachmentId}`;
      const cpu = process.cpuUsage();
      const started = performance.now();
      const first = await fetch(attachment.contentUrl, { headers: { authorization }, redirect: 'manual' });
      await first.body?.cancel();
      const location = first.headers.get('location');
      if (first.status !== 302 || !location) throw new Error(`baseline: expected a redirect, got ${first.status}`);
      const response = await fetch(new URL(location, attachment.contentUrl), { redirect: 'manual' });
      if (!response.ok || !response.body) throw new Error(`baseline: content host answered ${response.status}`);
      await new Upload({
        client: s3,
        params: { Bucket: job.servers.bucket, Key: key, Body: response.body },
        partSize: job.partSizeBytes,
        queueSize: job.queueSize,
        leavePartsOnError: false,
      }).done();
      const ended = performance.now();
      const used = process.cpuUsage(cpu);
      await s3.send(new DeleteObjectCommand({ Bucket: job.servers.bucket, Key: key }));
      return { seconds: (ended - started) / 1000, bytes: attachment.size, cpuSeconds: (used.user + used.system) / 1e6 };
    },
  };
}

let state:
  | {
      job: CopyJob;
      runner: Runner;
      s3: S3Client;
      idle: number;
      peak: number;
      samples: number;
      sampler: NodeJS.Timeout;
      /** process.memoryUsage() when the highest RSS was sampled: what the peak was made of. */
      atPeak: NodeJS.MemoryUsage;
    }
  | undefined;

function sample(): void {
  if (!state) return;
  state.samples += 1;
  const rss = process.memoryUsage.rss();
  if (rss > state.peak) {
    state.peak = rss;
    state.atPeak = process.memoryUsage();
  }
}

/** Builds the clients, runs the unmeasured warm-up, then starts sampling RSS every 20 ms. */
async function prepare(job: CopyJob): Promise<{ idleRssMiB: number }> {
  const s3 = createS3Client({ region: 'us-east-1', endpoint: job.servers.s3Endpoint, forcePathStyle: true });
  const zendesk = createZendeskClient({
    baseUrl: job.servers.zendeskUrl,
    credentials: { kind: 'api_token', ...BENCH_CREDENTIALS },
    contentHosts: [job.servers.contentOrigin],
  });
  const runner = job.variant === 'copy' ? copyRunner(job, s3, zendesk) : baselineRunner(job, s3);
  if (job.warmup) await runner.run(job.warmup);
  collectGarbage();
  const idle = process.memoryUsage.rss();
  const sampler = setInterval(() => sample(), 20);
  state = { job, runner, s3, idle, peak: idle, samples: 0, sampler, atPeak: process.memoryUsage() };
  return { idleRssMiB: idle / MiB };
}

/** One measured transfer of the job's attachment. */
async function rep(): Promise<CopyRun> {
  if (!state) throw new Error('rep before prepare');
  const run = await state.runner.run(state.job.attachment);
  sample();
  collectGarbage();
  return run;
}

/** The memory this process used over its measured runs. */
function report(): Omit<CopyJobResult, 'runs'> {
  if (!state) throw new Error('report before prepare');
  clearInterval(state.sampler);
  state.s3.destroy();
  const { heapUsed, external, arrayBuffers } = state.atPeak;
  return {
    idleRssMiB: state.idle / MiB,
    peakRssMiB: state.peak / MiB,
    hwmMiB: highWaterMark() / MiB,
    samples: state.samples,
    atPeakMiB: { heapUsed: heapUsed / MiB, external: external / MiB, arrayBuffers: arrayBuffers / MiB },
  };
}

serve({ prepare: (message) => prepare(message.job as CopyJob), rep, report });
process.send?.({ type: 'ready' });

/** What the bench's processes tell each other (IPC messages), and the constants they share. */

export const BENCH_BUCKET = 'attachment-vault-bench';
export const BENCH_CREDENTIALS = { email: 'bench@sandbox.example', apiToken: 'bench-api-token' };
export const MiB = 1024 * 1024;

/** Where the two server processes listen. */
export interface ServersReady {
  zendeskUrl: string;
  contentOrigin: string;
  s3Endpoint: string;
  bucket: string;
}

export interface SeededAttachment {
  ticketId: string;
  commentId: number;
  attachmentId: number;
  contentUrl: string;
  size: number;
  fileName: string;
}

export type CopyVariant = 'copy' | 'baseline';

/** One worker process: measured transfers of one attachment (after one unmeasured warm-up). */
export interface CopyJob {
  variant: CopyVariant;
  servers: ServersReady;
  attachment: SeededAttachment;
  warmup?: SeededAttachment;
  partSizeBytes: number;
  queueSize: number;
}

export interface CopyRun {
  seconds: number;
  /** Copy only: from the start until S3 acknowledged the last byte (PutObject / CompleteMultipartUpload). */
  streamSeconds?: number;
  /** Copy only: the rest (in-place CopyObject recording sha256, HeadObject, read-back when S3 gives no SHA-256). */
  verifySeconds?: number;
  bytes: number;
  /** CPU time (user + system) this process spent on the run, in seconds. */
  cpuSeconds: number;
  /** Copy only: the CPU time of the streaming phase. */
  streamCpuSeconds?: number;
  /** Copy only: how the stored object was proven (`checksum` on real S3, `readback` on fauxqs). */
  method?: string;
}

export interface CopyJobResult {
  runs: CopyRun[];
  /** RSS after imports and the warm-up, before the first measured run (MiB). */
  idleRssMiB: number;
  /** Highest RSS sampled every 20 ms during the measured runs (MiB). */
  peakRssMiB: number;
  /** The kernel's high-water mark of the process (VmHWM, MiB): includes start-up. */
  hwmMiB: number;
  samples: number;
  /** The JS heap and the memory outside it (Buffers) when the highest RSS was sampled (MiB). */
  atPeakMiB: { heapUsed: number; external: number; arrayBuffers: number };
}

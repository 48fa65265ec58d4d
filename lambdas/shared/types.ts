/**
 * The state data contract: what each state of statemachine/attachment-vault.asl.json receives and returns.
 * State data holds IDs, sizes, types, keys and outcomes only: never a file name, a content_url or a token,
 * because every operator with console access can read it. Lists that grow with the ticket live in the run's files in
 * S3 (run-files.ts) and the state carries counts and a pointer.
 */
import type { RunFileRef } from './run-files.js';

/** Execution input, written by the webhook (or the CLI). Deterministic: no timestamps. */
export interface ExecutionInput {
  ticketId: string;
  /** Who asked: the Zendesk trigger, the CLI, an operator's re-run, or a backfill (statemachine/backfill.asl.json). */
  source: 'webhook' | 'cli' | 'rerun' | 'backfill';
  /** The backfill's run, when source is backfill (the execution is named bf-<runId>-<ticketId>). */
  runId?: string;
  invocationId?: string;
  webhookId?: string;
}

/**
 * The ticket facts the archive index records with each file (`$.mark.context`, handed to every CopyAttachment as
 * `ticketContext`): IDs and a date only, as strings. Absent when Zendesk did not report them.
 */
export interface TicketContext {
  requesterId?: string;
  brandId?: string;
  /** The ticket's created_at (ISO 8601). */
  createdAt?: string;
}

/** `$.mark`: MarkTicket's result. */
export interface MarkResult {
  ticketId: string;
  ticketStatus: string;
  /** Always set by MarkTicket (the copy Map reads `$.mark.context`). */
  context?: TicketContext;
  /** False when Zendesk refused tag writes because the ticket is closed (the run goes on). */
  tagged: boolean;
  reason?: 'ticket_closed';
  /** Set when another execution of this ticket is running: this one ends at AlreadyRunning, having changed nothing. */
  alreadyRunning?: string;
}

/** One attachment to archive, as ListAttachments returns it. */
export interface AttachmentRef {
  attachmentId: number;
  commentId: number;
  size: number;
  inline: boolean;
}

/** `$.listing`: ListAttachments' result. */
export interface ListResult {
  ticketId: string;
  /** Inline, for a ticket of at most COPY_INLINE_MAX_FILES files (the inline Map); else in `manifest`. */
  attachments?: AttachmentRef[];
  /** The run's attachments.json, for a larger ticket (the Distributed Map's ItemReader reads it). */
  manifest?: RunFileRef;
  count: number;
  pages: number;
  /** Map MaxConcurrency for this run, from configuration (read by MaxConcurrencyPath). */
  maxConcurrency: number;
}

/** `$.copies`: CollectCopies' result, every copy outcome in the run's copies.json. */
export interface CopiesState {
  file: RunFileRef;
  count: number;
  counts: Record<Outcome, number>;
}

/** Input of one CopyAttachment iteration (the Map's ItemSelector). */
export interface CopyInput {
  ticketId: string;
  attachment: AttachmentRef;
  /** The execution asking; a copy replayed from another execution's record is reported already_archived. */
  executionName?: string;
  /** MarkTicket's ticket facts, for the archive index. */
  ticketContext?: TicketContext;
}

export type Outcome = 'archived' | 'already_archived' | 'skipped' | 'failed';

/** Result of one CopyAttachment iteration (or of the per-item Catch for `failed`). */
export interface CopyResult {
  attachmentId: number;
  commentId: number;
  size: number;
  outcome: Outcome;
  s3Key?: string;
  /** Bytes written to S3 (equals size when archived). */
  bytes?: number;
  /** Lowercase hex SHA-256 of the bytes, computed while streaming. */
  sha256?: string;
  /** Base64 CRC32 of the bytes, for a file uploaded in parts: S3's full-object CRC32 must equal it. */
  crc32?: string;
  /** Detected or declared media type (never the file name). */
  contentType?: string;
  /** Why it was skipped or failed: a skip reason or an error name. */
  reason?: string;
  /**
   * When this execution verified the copy (ISO 8601; archived and already_archived): the start of the redaction lag
   * the redaction step measures (metrics.ts RedactionLagSeconds).
   */
  verifiedAt?: string;
}

/** Input of RedactVerified. */
export interface RedactInput {
  ticketId: string;
  copies: CopyResult[];
  /** The previous pass when the state loops after a long Retry-After (its records, and the limit it planned). */
  redaction?: Pick<RedactResult, 'passes' | 'records'> & Partial<Pick<RedactResult, 'maxPasses'>>;
}

export interface RedactionRecord {
  attachmentId: number;
  commentId: number;
  redacted: boolean;
  reason?: string;
  /** With reason `not_verified`: which of the redaction step's checks failed (lambdas/redact-verified/check.ts). */
  check?: string;
}

/** What one redaction pass returns (the core); the state keeps RedactState, the records go to redaction.json. */
export interface RedactResult {
  ticketId: string;
  /** False when Zendesk's per-ticket limit stopped the pass: the ASL waits retryAfterSeconds and calls again. */
  done: boolean;
  retryAfterSeconds: number;
  passes: number;
  /** The most passes this execution may make: planned from the work at the first pass, at most REDACTION_MAX_PASSES. */
  maxPasses: number;
  /** Comments with files still to redact (0 when done). */
  commentsLeft: number;
  /** Seconds until the last of them can be sent, at Zendesk's per-ticket budget (0 when done): a projection. */
  projectedSeconds: number;
  records: RedactionRecord[];
}

/** Redaction records counted: what the state and the operator see without reading redaction.json. */
export interface RedactionCounts {
  redacted: number;
  notVerified: number;
  notConfirmed: number;
  rateLimited: number;
  requested: number;
}

/** `$.redaction` in the state: the pass's result without its records, which are in the run's redaction.json. */
export interface RedactState extends Omit<RedactResult, 'records'> {
  counts: RedactionCounts;
  file: RunFileRef;
}

export interface SummaryAttachment {
  attachmentId: number;
  commentId: number;
  outcome: Outcome;
  s3Key?: string;
  redacted: boolean;
  reason?: string;
  size?: number;
  contentType?: string;
}

/** The per-ticket summary: what the CLI prints and the notification reports. */
export interface Summary {
  ticketId: string;
  status: 'SUCCEEDED' | 'FAILED';
  tagged: boolean;
  /**
   * Every file; or, in the state of a ticket of more than SUMMARY_INLINE_MAX_FILES files (`truncated`), only the first
   * of those not archived and redacted. The whole list is then in `file` (the run's summary.json).
   */
  attachments: SummaryAttachment[];
  counts: Record<Outcome | 'redacted', number>;
  /** Files of the ticket: `attachments.length` unless truncated. */
  total?: number;
  truncated?: boolean;
  file?: RunFileRef;
  /** When redaction stopped with comments left (rate_limited): how many, and the projected time to finish them. */
  redaction?: { passes: number; maxPasses: number; commentsLeft: number; projectedSeconds: number };
}

/** `$.finish`: FinishTicket's result. */
export interface FinishResult {
  summary: Summary;
  finalTag: string;
  tagged: boolean;
  /** The error the execution ends with when status is FAILED. */
  error?: string;
  cause?: string;
}

/** `$.notification`: Notify's result. Delivery failures are data, never an execution failure. */
export interface NotifyResult {
  delivered: boolean;
  attempts: number;
  format: 'slack' | 'zapier' | 'none';
  error?: string;
}

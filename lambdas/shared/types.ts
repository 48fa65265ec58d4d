/**
 * The state data contract: what each state of statemachine/attachment-vault.asl.json receives and returns.
 * State data holds IDs, sizes, types, keys and outcomes only: never a file name, a content_url or a token,
 * because every operator with console access can read it.
 */

/** Execution input, written by the webhook (or the CLI). Deterministic: no timestamps. */
export interface ExecutionInput {
  ticketId: string;
  /** Who asked: the Zendesk trigger, the CLI, or an operator's re-run. */
  source: 'webhook' | 'cli' | 'rerun';
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
  attachments: AttachmentRef[];
  count: number;
  pages: number;
  /** Map MaxConcurrency for this run, from configuration (read by MaxConcurrencyPath). */
  maxConcurrency: number;
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
  /** Detected or declared media type (never the file name). */
  contentType?: string;
  /** Why it was skipped or failed: a skip reason or an error name. */
  reason?: string;
}

/** Input of RedactVerified. */
export interface RedactInput {
  ticketId: string;
  copies: CopyResult[];
  /** The previous pass when the state loops after a long Retry-After. */
  redaction?: RedactResult;
}

export interface RedactionRecord {
  attachmentId: number;
  commentId: number;
  redacted: boolean;
  reason?: string;
  /** With reason `not_verified`: which of the redaction step's checks failed (lambdas/redact-verified/check.ts). */
  check?: string;
}

/** `$.redaction`: RedactVerified's result. */
export interface RedactResult {
  ticketId: string;
  /** False when Zendesk's per-ticket limit stopped the pass: the ASL waits retryAfterSeconds and calls again. */
  done: boolean;
  retryAfterSeconds: number;
  passes: number;
  /** REDACTION_MAX_PASSES: the most passes this execution may make (the ASL's TicketUpdatesLeft reads it). */
  maxPasses: number;
  records: RedactionRecord[];
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
  attachments: SummaryAttachment[];
  counts: Record<Outcome | 'redacted', number>;
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

import { ConfigurationError } from './errors.js';

/**
 * Every setting read from the environment, parsed and validated here and nowhere else. Secrets are NOT here: see
 * secrets.ts (Secrets Manager in AWS, environment variables locally). Each reader validates and throws
 * ConfigurationError naming the variable; the README's Configuration table lists them all.
 */
export type Env = Record<string, string | undefined>;

export interface TagConfig {
  /** Added by the Zendesk trigger; removed by the workflow if still there. */
  request: string;
  processing: string;
  archived: string;
  failed: string;
}

export interface ZendeskSettings {
  /** Origin of the Zendesk account, e.g. https://acme.zendesk.com (no trailing slash). */
  baseUrl: string;
  /** Hosts a content_url may redirect to: hostname patterns (`*.zdusercontent.com`) or full origins. */
  contentHosts: string[];
}

export interface ArchiveSettings {
  bucket: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  keyPrefix: string;
  partSizeBytes: number;
  queueSize: number;
  maxAttachmentBytes: number;
}

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigurationError(`${name} is not set`);
  return value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigurationError(`${name} must be an integer between ${min} and ${max}`);
  }
  return value;
}

function flag(env: Env, name: string): boolean {
  return ['1', 'true', 'yes'].includes((env[name] ?? '').trim().toLowerCase());
}

export function tagConfig(env: Env = process.env): TagConfig {
  return {
    request: env.TAG_REQUEST?.trim() || 'vault_archive',
    processing: env.TAG_PROCESSING?.trim() || 'vault_processing',
    archived: env.TAG_ARCHIVED?.trim() || 'vault_archived',
    failed: env.TAG_FAILED?.trim() || 'vault_failed',
  };
}

/** Normalises ZENDESK_URL to an origin; any http(s) origin is accepted (sandboxes run on http://127.0.0.1). */
export function zendeskSettings(env: Env = process.env): ZendeskSettings {
  const raw = required(env, 'ZENDESK_URL');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigurationError('ZENDESK_URL is not a valid URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigurationError('ZENDESK_URL must be an http(s) URL');
  }
  const hosts = (env.ZENDESK_CONTENT_HOSTS ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  return { baseUrl: url.origin, contentHosts: hosts.length ? hosts : ['*.zdusercontent.com'] };
}

export function archiveSettings(env: Env = process.env): ArchiveSettings {
  return {
    bucket: required(env, 'ARCHIVE_BUCKET'),
    region: env.AWS_REGION?.trim() || 'us-east-1',
    endpoint: env.AWS_ENDPOINT_URL_S3?.trim() || undefined,
    forcePathStyle: flag(env, 'S3_FORCE_PATH_STYLE'),
    keyPrefix: 'tickets',
    // 5 MiB x 2 in flight: the largest parts whose 1 GiB copy stays within 64 MiB of a 1 MiB copy's peak RSS,
    // and queue 2 keeps the download flowing while a part uploads (docs/benchmarks.md).
    partSizeBytes: integer(env, 'COPY_PART_SIZE_MB', 5, 5, 512) * 1024 * 1024,
    queueSize: integer(env, 'COPY_QUEUE_SIZE', 2, 1, 16),
    maxAttachmentBytes: integer(env, 'MAX_ATTACHMENT_MB', 1024, 1, 5 * 1024) * 1024 * 1024,
  };
}

/**
 * COPY_INLINE_MAX_FILES (0-500, default 200): the most files a ticket may have for its copies to run in the inline Map
 * with the list in the state; a larger ticket's list goes to the run's attachments.json and the Distributed Map
 * (docs/design.md#limits says why 200). 0 sends every ticket through the Distributed Map.
 */
export function copyInlineMaxFiles(env: Env = process.env): number {
  return integer(env, 'COPY_INLINE_MAX_FILES', 200, 0, 500);
}

export interface RequestBudgetSettings {
  /** ZENDESK_BUDGET_TABLE: the DynamoDB table of the shared request budget (request-budget.ts); unset = no budget. */
  table?: string;
  /** ZENDESK_REQUESTS_PER_MINUTE (1-10000): the account's limit; unset = the limit Zendesk reports in its headers. */
  requestsPerMinute?: number;
  /** BACKFILL_SHARE (0.05-1, default 0.5): the most of the budget the backfill may use. */
  backfillShare: number;
}

export function requestBudgetSettings(env: Env = process.env): RequestBudgetSettings {
  const table = env.ZENDESK_BUDGET_TABLE?.trim();
  const share = env.BACKFILL_SHARE?.trim() ? Number(env.BACKFILL_SHARE) : 0.5;
  if (!Number.isFinite(share) || share < 0.05 || share > 1) throw new ConfigurationError('BACKFILL_SHARE must be a number from 0.05 to 1');
  return {
    ...(table ? { table } : {}),
    ...(env.ZENDESK_REQUESTS_PER_MINUTE?.trim() ? { requestsPerMinute: integer(env, 'ZENDESK_REQUESTS_PER_MINUTE', 200, 1, 10_000) } : {}),
    backfillShare: share,
  };
}

/** Map MaxConcurrency: Zendesk's limits are account-wide, so keep it low. */
export function mapMaxConcurrency(env: Env = process.env): number {
  return integer(env, 'MAP_MAX_CONCURRENCY', 4, 1, 40);
}

export function idempotencyTable(env: Env = process.env): string {
  return required(env, 'IDEMPOTENCY_TABLE');
}

/** TICKET_STATE_MACHINE_ARN: the per-ticket machine whose bf- executions LookUpTicketRun describes. */
export function ticketStateMachineArn(env: Env = process.env): string {
  return required(env, 'TICKET_STATE_MACHINE_ARN');
}

export interface RedactionSettings {
  /**
   * REDACTION_MAX_PASSES (1-2000, default 500): the bound on RedactVerified passes in one execution, whatever the work.
   * Each pass after the first follows a Wait for Zendesk's per-ticket budget; an execution plans its own limit from the
   * work at its first pass (2 per window of 30 comments, plus 3) and never goes above this bound. 500 passes cover
   * about 7,000 comments with files; each pass adds about 9 history events (docs/design.md#limits).
   */
  maxPasses: number;
  /** ZENDESK_TICKET_WINDOW_SECONDS (1-3600, default 600): the per-ticket budget's window, for the projected time only. */
  ticketWindowSeconds: number;
  /** REDACTION_MAX_WAIT_SECONDS (1-3600, default 900): the longest single Wait, whatever Retry-After says. */
  maxWaitSeconds: number;
  /**
   * REDACTION_IDEMPOTENCY_SECONDS (60-31536000, default 900; the stack sets 15 days): how long a comment's redaction
   * request is remembered against a repeat.
   */
  idempotencySeconds: number;
}

export function redactionSettings(env: Env = process.env): RedactionSettings {
  return {
    maxPasses: integer(env, 'REDACTION_MAX_PASSES', 500, 1, 2000),
    ticketWindowSeconds: integer(env, 'ZENDESK_TICKET_WINDOW_SECONDS', 600, 1, 3600),
    maxWaitSeconds: integer(env, 'REDACTION_MAX_WAIT_SECONDS', 900, 1, 3600),
    idempotencySeconds: integer(env, 'REDACTION_IDEMPOTENCY_SECONDS', 900, 60, 31_536_000),
  };
}

export interface ZendeskWaitSettings {
  /** ZENDESK_MAX_WAITS (0-1000, default 20): Retry-After waits one execution (or one Map item) may take. */
  maxWaits: number;
  /** ZENDESK_MAX_WAIT_SECONDS (1-3600, default 900): the longest single wait, whatever Retry-After says. */
  maxWaitSeconds: number;
}

export function zendeskWaitSettings(env: Env = process.env): ZendeskWaitSettings {
  return {
    maxWaits: integer(env, 'ZENDESK_MAX_WAITS', 20, 0, 1000),
    maxWaitSeconds: integer(env, 'ZENDESK_MAX_WAIT_SECONDS', 900, 1, 3600),
  };
}

/**
 * DOWNLOAD_IDLE_TIMEOUT_SECONDS (1-900, default 60), in ms: how long a download body may deliver nothing before the
 * copy gives up with DownloadIncomplete. The Task's TimeoutSeconds stays the outer bound of the whole attempt; this one
 * notices a stalled transfer in seconds, aborts the request and leaves the retry budget to the ASL.
 */
export function downloadIdleTimeoutMs(env: Env = process.env): number {
  return integer(env, 'DOWNLOAD_IDLE_TIMEOUT_SECONDS', 60, 1, 900) * 1000;
}

/** WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS (1-86400, default 900): accepted signature timestamp skew, both directions. */
export function webhookToleranceSeconds(env: Env = process.env): number {
  return integer(env, 'WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS', 900, 1, 86_400);
}

export interface NotifySettings {
  /** NOTIFY_RETRY_LIMIT (0-10, default 3): retries after the first attempt. */
  retryLimit: number;
  /** NOTIFY_TIMEOUT_MS (100-60000, default 10000): per-attempt timeout. */
  timeoutMs: number;
  /** NOTIFY_TOTAL_TIMEOUT_MS (100-900000, default 45000): all attempts and waits, inside the Lambda's 60 s. */
  totalTimeoutMs: number;
}

export function notifySettings(env: Env = process.env): NotifySettings {
  return {
    retryLimit: integer(env, 'NOTIFY_RETRY_LIMIT', 3, 0, 10),
    timeoutMs: integer(env, 'NOTIFY_TIMEOUT_MS', 10_000, 100, 60_000),
    totalTimeoutMs: integer(env, 'NOTIFY_TOTAL_TIMEOUT_MS', 45_000, 100, 900_000),
  };
}

export interface ArchiveIndexSettings {
  /** ARCHIVE_INDEX_TABLE: the archive index; unset = the workflow keeps no index (local runs against your own S3). */
  indexTable?: string;
  /** ARCHIVE_AUDIT_TABLE: the audit trail of the archive's readers. */
  auditTable?: string;
  /** ARCHIVE_RETENTION_DAYS (0-36500, default 0 = none): index items expire with their objects (the stack's retentionDays). */
  retentionDays: number;
  /** ARCHIVE_INDEX_ENDPOINT_URL: the local runtime's embedded DynamoDB that holds the index and audit tables. */
  endpoint?: string;
  region: string;
}

export function archiveIndexSettings(env: Env = process.env): ArchiveIndexSettings {
  const indexTable = env.ARCHIVE_INDEX_TABLE?.trim();
  const auditTable = env.ARCHIVE_AUDIT_TABLE?.trim();
  const endpoint = env.ARCHIVE_INDEX_ENDPOINT_URL?.trim();
  return {
    ...(indexTable ? { indexTable } : {}),
    ...(auditTable ? { auditTable } : {}),
    retentionDays: integer(env, 'ARCHIVE_RETENTION_DAYS', 0, 0, 36_500),
    ...(endpoint ? { endpoint } : {}),
    region: env.AWS_REGION?.trim() || 'us-east-1',
  };
}

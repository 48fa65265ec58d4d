import type { Outcome, Summary, SummaryAttachment } from '../shared/types.js';

/**
 * Pure message builders for the Notify step: a Summary in, a Slack Block Kit message or a flat Zapier/generic JSON
 * object out. Messages hold IDs, outcomes, sizes, types and S3 keys only: no file names (the workflow never has
 * them) and no URL carrying a token.
 */

/** The notification's verdict on one run. */
export type NotifyStatus = 'succeeded' | 'partial' | 'failed';

/** Links shown in a message; each is optional. */
export interface MessageLinks {
  /** Agent UI link to the ticket: ZENDESK_URL + /agent/tickets/{id}. */
  ticketUrl?: string;
  /** Where to inspect the run: an http(s) URL (a button) or a command/text (shown as code). */
  executionLink?: string;
  executionName?: string;
  /** The run stopped before it could report per-file outcomes (an outage): its error and cause. */
  interruption?: Interruption;
}

export interface Interruption {
  error: string;
  cause: string;
}

const INTERRUPTION_ADVICE =
  'The execution stopped before it could report each file. Files not yet redacted are still in Zendesk. ' +
  'Fix the cause, then Redrive the execution (or re-run the ticket).';

/** Slack: at most 50 blocks and 3,000 characters per text; the message stays far below both. */
export const SLACK_MAX_FILE_LINES = 40;
const SLACK_SECTION_CHARS = 2900;
const SLACK_LINE_CHARS = 500;

const HEADLINES: Record<NotifyStatus, { emoji: string; words: string }> = {
  succeeded: { emoji: '✅', words: 'Attachments archived' },
  partial: { emoji: '⚠️', words: 'Attachments partially archived' },
  failed: { emoji: '❌', words: 'Attachment archiving failed' },
};

const OUTCOME_EMOJI: Record<Outcome, string> = {
  archived: '🟢',
  already_archived: '🔵',
  skipped: '⚪',
  failed: '🔴',
};

function isArchived(file: SummaryAttachment): boolean {
  return file.outcome === 'archived' || file.outcome === 'already_archived';
}

/**
 * - failed: the execution ended FAILED, or the ticket had files and none is in the archive.
 * - partial: some file failed or was skipped, or an archived file is still in Zendesk (not redacted).
 * - succeeded: everything archived and redacted (or nothing to do).
 */
export function notifyStatusOf(summary: Summary): NotifyStatus {
  const files = summary.attachments;
  if (summary.status === 'FAILED') return 'failed';
  if (files.length > 0 && !files.some(isArchived)) return 'failed';
  const incomplete = files.some((f) => f.outcome === 'failed' || f.outcome === 'skipped' || !f.redacted);
  return incomplete ? 'partial' : 'succeeded';
}

export type Counts = Record<Outcome | 'redacted', number>;

/** The summary's counts, completed from the file list when a key is missing. */
export function countsOf(summary: Summary): Counts {
  const computed: Counts = { archived: 0, already_archived: 0, skipped: 0, failed: 0, redacted: 0 };
  for (const file of summary.attachments) {
    computed[file.outcome] += 1;
    if (file.redacted) computed.redacted += 1;
  }
  const given: Partial<Counts> = summary.counts ?? {};
  return {
    archived: given.archived ?? computed.archived,
    already_archived: given.already_archived ?? computed.already_archived,
    skipped: given.skipped ?? computed.skipped,
    failed: given.failed ?? computed.failed,
    redacted: given.redacted ?? computed.redacted,
  };
}

/** 1536 -> "1.5 KiB". */
export function humanSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${value} B`;
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** Slack mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting#escaping). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Text inside an inline code span: escaped, and with backticks removed so the span cannot be broken. */
function code(text: string): string {
  return `\`${escapeMrkdwn(text.replace(/`/g, "'"))}\``;
}

function isHttpUrl(value: string | undefined): value is string {
  if (!value) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function fallbackText(summary: Summary, status: NotifyStatus, counts: Counts): string {
  const { emoji, words } = HEADLINES[status];
  return (
    `${emoji} Ticket ${summary.ticketId}: ${words.toLowerCase()} (${summary.status}) - ` +
    `${counts.archived} archived, ${counts.already_archived} already archived, ${counts.skipped} skipped, ` +
    `${counts.failed} failed, ${counts.redacted} redacted`
  );
}

/** One mrkdwn line per file: ID, outcome, type, size, S3 key, redacted, reason. */
export function slackFileLine(file: SummaryAttachment): string {
  const parts = [`${OUTCOME_EMOJI[file.outcome] ?? '•'} ${code(String(file.attachmentId))} *${file.outcome}*`];
  if (file.contentType) parts.push(escapeMrkdwn(file.contentType));
  if (typeof file.size === 'number') parts.push(humanSize(file.size));
  parts.push(`redacted: ${file.redacted ? 'yes' : 'no'}`);
  if (file.s3Key) parts.push(`key ${code(file.s3Key)}`);
  if (file.reason) parts.push(`reason: ${escapeMrkdwn(file.reason)}`);
  return truncate(parts.join(' · '), SLACK_LINE_CHARS);
}

/** Every file when they fit; otherwise those not archived and redacted first, so the lines shown are the ones to act on. */
function slackOrder(files: SummaryAttachment[]): SummaryAttachment[] {
  if (files.length <= SLACK_MAX_FILE_LINES) return files;
  const problem = (f: SummaryAttachment) => f.outcome === 'failed' || f.outcome === 'skipped' || !f.redacted;
  return [...files.filter(problem), ...files.filter((f) => !problem(f))];
}

/** "1 h 5 min", "12 min", "40 s". */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
}

/**
 * How the redaction went when Zendesk's per-ticket budget (30 updates per 10 minutes) shaped it: the passes it took,
 * and the comments it could not reach with the time a re-run needs for them.
 */
export function redactionLine(summary: Summary): string | undefined {
  const r = summary.redaction;
  if (!r || (r.passes <= 1 && r.commentsLeft === 0)) return undefined;
  const took = `Redaction took ${r.passes} pass${r.passes === 1 ? '' : 'es'} (Zendesk allows 30 updates per ticket per 10 minutes)`;
  if (r.commentsLeft === 0) return `⏳ ${took}.`;
  return `⏳ ${took}; ${r.commentsLeft} comment${r.commentsLeft === 1 ? '' : 's'} with files not reached after ${r.maxPasses} passes: re-run the ticket (about ${humanDuration(r.projectedSeconds)}).`;
}

export interface SlackMessage {
  text: string;
  blocks: Record<string, unknown>[];
}

export function slackMessage(summary: Summary, links: MessageLinks = {}): SlackMessage {
  const status = notifyStatusOf(summary);
  const counts = countsOf(summary);
  const { emoji, words } = HEADLINES[status];
  const ticketLabel = `#${summary.ticketId}`;
  const ticket = isHttpUrl(links.ticketUrl)
    ? `<${links.ticketUrl.replace(/[|>]/g, encodeURIComponent)}|${ticketLabel}>`
    : ticketLabel;

  const blocks: Record<string, unknown>[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: truncate(`${emoji} ${words}: ticket ${summary.ticketId}`, 150), emoji: true },
    },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: `*Ticket:* ${ticket}   *Execution:* ${summary.status}` },
      fields: [
        { type: 'mrkdwn', text: `*Archived*\n${counts.archived}` },
        { type: 'mrkdwn', text: `*Already archived*\n${counts.already_archived}` },
        { type: 'mrkdwn', text: `*Skipped*\n${counts.skipped}` },
        { type: 'mrkdwn', text: `*Failed*\n${counts.failed}` },
        { type: 'mrkdwn', text: `*Redacted*\n${counts.redacted}` },
      ],
    },
    { type: 'divider' },
  ];

  const files = slackOrder(summary.attachments);
  const lines = files.slice(0, SLACK_MAX_FILE_LINES).map(slackFileLine);
  if (files.length > SLACK_MAX_FILE_LINES) {
    lines.push(`… and ${files.length - SLACK_MAX_FILE_LINES} more (see the execution)`);
  }
  const progress = redactionLine(summary);
  if (progress) lines.push(progress);
  if (links.interruption) {
    lines.push(`*Stopped by* \`${escapeMrkdwn(links.interruption.error)}\`: ${escapeMrkdwn(truncate(links.interruption.cause, 1000))}`);
    lines.push(INTERRUPTION_ADVICE);
  }
  if (lines.length === 0) lines.push('No attachments to archive.');
  let chunk = '';
  for (const line of lines) {
    if (chunk && chunk.length + 1 + line.length > SLACK_SECTION_CHARS) {
      blocks.push({ type: 'section', text: { type: 'mrkdwn', text: chunk } });
      chunk = '';
    }
    chunk = chunk ? `${chunk}\n${line}` : line;
  }
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: chunk } });

  const context: string[] = [];
  if (links.executionName) context.push(`Execution ${code(links.executionName)}`);
  if (links.executionLink && !isHttpUrl(links.executionLink)) context.push(code(links.executionLink));
  if (context.length) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(context.join(' · '), 3000) }] });
  }
  if (isHttpUrl(links.executionLink) && links.executionLink.length <= 3000) {
    blocks.push({
      type: 'actions',
      elements: [
        { type: 'button', text: { type: 'plain_text', text: 'Open execution' }, url: links.executionLink },
      ],
    });
  }

  const text = links.interruption
    ? `❌ Ticket ${summary.ticketId}: archiving interrupted by ${links.interruption.error}. ${INTERRUPTION_ADVICE}`
    : fallbackText(summary, status, counts);
  return { text, blocks };
}

/**
 * The Zapier / generic webhook payload: one flat JSON object, the same keys every time (absent values are null),
 * so a Zap can map fields once.
 *
 * | Field              | Type                                  | Meaning                                           |
 * |--------------------|---------------------------------------|---------------------------------------------------|
 * | ticket_id          | string                                | Zendesk ticket ID (digits)                        |
 * | ticket_url         | string \| null                        | Agent UI link, when ZENDESK_URL is known          |
 * | status             | "succeeded" \| "partial" \| "failed"  | Verdict, see notifyStatusOf()                     |
 * | execution_status   | "SUCCEEDED" \| "FAILED"               | How the Step Functions execution ended            |
 * | archived           | number                                | Files copied and verified in this run             |
 * | already_archived   | number                                | Files whose verified copy already existed         |
 * | skipped            | number                                | Files not copied on purpose (gone, malware, ...)  |
 * | failed             | number                                | Files that could not be copied                    |
 * | redacted           | number                                | Files removed from Zendesk in this run            |
 * | execution_name     | string \| null                        | Step Functions execution name                     |
 * | execution_url      | string \| null                        | Console URL (or local command) for the execution  |
 * | total_files        | number                                | Attachments of the ticket (files[] lists all)     |
 * | redaction_passes   | number \| null                        | Redaction passes (more than 1: the per-ticket limit) |
 * | comments_left      | number                                | Comments with files not reached (rate_limited)    |
 * | projected_seconds  | number                                | Time a re-run needs for them, at Zendesk's budget |
 * | files[]            | array                                 | One entry per attachment, in summary order:       |
 * | .attachment_id     | string                                |   Zendesk attachment ID (digits)                  |
 * | .comment_id        | string                                |   Zendesk comment ID (digits)                     |
 * | .outcome           | "archived" \| "already_archived" \| "skipped" \| "failed"                                 |
 * | .s3_key            | string \| null                        |   Object key in the archive bucket                |
 * | .redacted          | boolean                               |   True when removed from Zendesk                  |
 * | .reason            | string \| null                        |   Skip reason or error name                       |
 * | .size              | number \| null                        |   Bytes                                           |
 * | .content_type      | string \| null                        |   Detected media type                             |
 */
export interface ZapierFile {
  attachment_id: string;
  comment_id: string;
  outcome: Outcome;
  s3_key: string | null;
  redacted: boolean;
  reason: string | null;
  size: number | null;
  content_type: string | null;
}

export interface ZapierPayload {
  ticket_id: string;
  ticket_url: string | null;
  status: NotifyStatus;
  execution_status: Summary['status'];
  archived: number;
  already_archived: number;
  skipped: number;
  failed: number;
  redacted: number;
  execution_name: string | null;
  execution_url: string | null;
  total_files: number;
  redaction_passes: number | null;
  comments_left: number;
  projected_seconds: number;
  files: ZapierFile[];
  /** Only when the run stopped before reporting per-file outcomes (an outage). */
  interruption_error?: string;
  interruption_cause?: string;
}

export function zapierPayload(summary: Summary, links: MessageLinks = {}): ZapierPayload {
  const counts = countsOf(summary);
  return {
    ticket_id: summary.ticketId,
    ticket_url: links.ticketUrl ?? null,
    status: notifyStatusOf(summary),
    execution_status: summary.status,
    archived: counts.archived,
    already_archived: counts.already_archived,
    skipped: counts.skipped,
    failed: counts.failed,
    redacted: counts.redacted,
    execution_name: links.executionName ?? null,
    execution_url: links.executionLink ?? null,
    total_files: summary.total ?? summary.attachments.length,
    redaction_passes: summary.redaction?.passes ?? null,
    comments_left: summary.redaction?.commentsLeft ?? 0,
    projected_seconds: summary.redaction?.projectedSeconds ?? 0,
    files: summary.attachments.map((file) => ({
      attachment_id: String(file.attachmentId),
      comment_id: String(file.commentId),
      outcome: file.outcome,
      s3_key: file.s3Key ?? null,
      redacted: file.redacted,
      reason: file.reason ?? null,
      size: typeof file.size === 'number' ? file.size : null,
      content_type: file.contentType ?? null,
    })),
    ...(links.interruption ? { interruption_error: links.interruption.error, interruption_cause: links.interruption.cause } : {}),
  };
}

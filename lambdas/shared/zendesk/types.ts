/** Zendesk Support API shapes as this project uses them (see docs/zendesk.md). */

import type { TicketBudget } from './budget.js';

export interface ZendeskTicket {
  id: number;
  status: string;
  /** ISO timestamp; sent back as `updated_stamp` for safe updates. */
  updated_at: string;
  tags: string[];
  /** The end user who asked (the archive index's requesterId). */
  requester_id?: number;
  brand_id?: number;
  /** ISO timestamp. */
  created_at?: string;
}

export type MalwareScanResult = 'malware_found' | 'malware_not_found' | 'failed_to_scan' | 'not_scanned';

export interface ZendeskAttachment {
  id: number;
  /** PII: never put in state data, logs or S3 keys (only percent-encoded in object metadata). */
  file_name: string;
  /** Carries a token: never put in state data or logs. */
  content_url: string;
  mapped_content_url?: string;
  content_type: string;
  size: number;
  inline?: boolean;
  deleted?: boolean;
  malware_scan_result?: MalwareScanResult;
  malware_access_override?: boolean;
  thumbnails?: ZendeskAttachment[];
}

export interface ZendeskComment {
  id: number;
  type?: string;
  author_id?: number;
  body?: string;
  html_body?: string;
  public?: boolean;
  attachments: ZendeskAttachment[];
  created_at?: string;
}

export interface CommentsPage {
  comments: ZendeskComment[];
  meta: { has_more: boolean; after_cursor: string | null; before_cursor: string | null };
  links: { prev: string | null; next: string | null };
}

export type ZendeskCredentials =
  | { kind: 'api_token'; email: string; apiToken: string }
  | { kind: 'oauth'; clientId: string; clientSecret: string; scope?: string };

/** An open download: the body is streamed, never buffered. */
export interface Download {
  body: ReadableStream<Uint8Array>;
  /** Content-Length of the final response, when the server sent one. */
  contentLength?: number;
  contentType?: string;
}

export interface TagChange {
  add?: string[];
  remove?: string[];
}

/** What a redaction call did, and the per-ticket update budget left after it (header `zendesk-ratelimit-per-ticket-updates`). */
export interface RedactionOutcome {
  endpoint: 'comment_redactions' | 'legacy';
  ticketBudget?: TicketBudget;
}

/** A ticket Export Search found: its ID as decimal digits (Zendesk IDs are 64-bit) and when it was created. */
export interface SearchedTicket {
  id: string;
  /** ISO 8601, as Zendesk wrote it (`2024-01-02T03:04:05Z`). */
  createdAt: string;
}

/** One page of Export Search Results. */
export interface ExportSearchPage {
  tickets: SearchedTicket[];
  /** `meta.after_cursor`, for the next page; absent when Zendesk sent none. Expires an hour after the export started. */
  afterCursor?: string;
  /** `meta.has_more`: the only stop signal (the last page may still carry a cursor). */
  hasMore: boolean;
}

export interface ExportSearchOptions {
  /** `page[after]`: the previous page's `afterCursor`. */
  cursor?: string;
  /** `page[size]`, 1-1000; default 100, Zendesk's recommendation. */
  pageSize?: number;
}

/** The thin, typed Zendesk client every step uses (implemented in client.ts on ky). */
export interface ZendeskApi {
  /** GET /api/v2/tickets/{id}. Throws TicketNotFound on 404. */
  getTicket(ticketId: string): Promise<ZendeskTicket>;
  /**
   * Every comment of the ticket, following cursor pagination with include_inline_images=true until
   * meta.has_more is false (links.next is not null on the last page). Returns the page count too.
   */
  listComments(ticketId: string): Promise<{ comments: ZendeskComment[]; pages: number }>;
  /** GET /api/v2/attachments/{id}. Throws AttachmentGone on 404. */
  getAttachment(attachmentId: number): Promise<ZendeskAttachment>;
  /**
   * One conflict-safe tag write: reads the ticket, computes the new tag set, and (only if it changed)
   * replaces it with POST /tags + safe_update + updated_stamp, re-reading on 409.
   * Throws TicketClosed on 422 (closed tickets refuse tag writes), TicketNotFound on 404.
   * `options.ticket`: the ticket as the caller just read it, used instead of the first read (one GET fewer);
   * a 409 still re-reads.
   */
  updateTags(ticketId: string, change: TagChange, options?: { ticket?: ZendeskTicket }): Promise<{ tags: string[]; changed: boolean }>;
  /**
   * Permanently redacts the given attachments of one comment: PUT /api/v2/comment_redactions/{commentId}
   * with their content_urls; where that endpoint is unavailable (404/405/501), the legacy per-attachment
   * endpoint, where a 404 means "already redacted". Does not confirm: callers re-list.
   * `ticketBudget`: the per-ticket update budget the last ticket-updating response reported, when it did.
   */
  redactCommentAttachments(
    ticketId: string,
    commentId: number,
    attachments: Array<{ id: number; content_url: string }>,
  ): Promise<RedactionOutcome>;
  /**
   * Opens a download of a content_url: refuses (HostNotAllowed) any URL off ZENDESK_URL's origin,
   * sends credentials only to that origin, follows one redirect itself, only to an allowed content host,
   * without credentials. 404 -> AttachmentGone; malware refusal -> MalwareBlocked.
   */
  download(contentUrl: string, options?: { signal?: AbortSignal }): Promise<Download>;
  /**
   * One page of GET /api/v2/search/export?filter[type]=ticket&query=… (Export Search Results): ticket IDs (exact, as
   * strings) and created dates. A refused cursor (400/422 on a request with `cursor`) is SearchCursorExpired; a 400/422
   * without one is ZendeskRequestFailed (the query); 429 is ZendeskRateLimited like every other call.
   */
  exportSearchTickets(query: string, options?: ExportSearchOptions): Promise<ExportSearchPage>;
}

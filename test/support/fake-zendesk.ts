import { AttachmentGone, TicketClosed, TicketNotFound, ZendeskRateLimited } from '../../lambdas/shared/errors.js';
import type { Download, ExportSearchPage, TagChange, ZendeskApi, ZendeskAttachment, ZendeskComment, ZendeskTicket } from '../../lambdas/shared/zendesk/types.js';
import { contentUrl, streamOf } from './streams.js';

/**
 * The one in-memory ZendeskApi of the unit tests: tickets with comments and attachments, tag writes, redaction
 * (with the per-ticket budget), and downloads of each attachment's bytes. Every call is recorded in `calls` as one
 * line (`getAttachment 11`, `download 11`, `redact 5/10 1,2`, `updateTags 5 +a -b`). (HTTP behaviour is the
 * sandbox's job: local/sandbox.)
 */

/** One attachment with what its download serves. */
export interface FakeFile {
  attachment: Partial<ZendeskAttachment> & Pick<ZendeskAttachment, 'id' | 'file_name' | 'size'>;
  /** The bytes served, or a factory for a custom body (short, long, failing, generated, different each time). */
  body?: Uint8Array | (() => ReadableStream<Uint8Array>);
  /** Thrown by getAttachment (e.g. AttachmentGone for a 404). */
  getError?: Error;
  /** Thrown by download (e.g. HostNotAllowed). */
  downloadError?: Error;
}

export class FakeZendesk implements ZendeskApi {
  tickets = new Map<string, ZendeskTicket>();
  comments = new Map<string, ZendeskComment[]>();
  calls: string[] = [];
  /** How many body bytes the consumer actually pulled, per attachment. */
  pulled = new Map<number, number>();
  /** Comment IDs whose redaction answers 200 but does nothing. */
  ignoreRedactionOf = new Set<number>();
  /** Redaction calls allowed before a 429 (per-ticket budget). */
  redactionBudget = Infinity;
  retryAfterSeconds = 120;
  /** Report the per-ticket budget left after each redaction (header zendesk-ratelimit-per-ticket-updates), resetting in retryAfterSeconds. */
  reportBudget = false;
  private readonly files = new Map<number, FakeFile>();
  private nextId = 900_000;

  /** How many calls of a kind were made (`count('download')`). */
  count(kind: string): number {
    return this.calls.filter((c) => c === kind || c.startsWith(`${kind} `)).length;
  }

  addTicket(id: string, status = 'open', tags: string[] = []): void {
    this.tickets.set(id, { id: Number(id), status, updated_at: '2026-11-25T00:00:00Z', tags });
    this.comments.set(id, []);
  }

  addComment(ticketId: string, commentId: number, files: Array<Partial<ZendeskAttachment> & { id: number }>): void {
    this.comments.get(ticketId)!.push({
      id: commentId,
      attachments: files.map((f) => ({ file_name: `file-${f.id}.pdf`, content_url: contentUrl(f.id), content_type: 'application/pdf', size: 10, ...f })),
    });
  }

  /** Attachments with bodies, in one comment of ticket `ticketId` (created when missing). */
  addFiles(files: FakeFile[], ticketId = '500', commentId = 3): this {
    if (!this.tickets.has(ticketId)) this.addTicket(ticketId);
    for (const file of files) this.files.set(file.attachment.id, file);
    this.addComment(ticketId, commentId, files.map((f) => ({ content_type: 'application/octet-stream', ...f.attachment })));
    return this;
  }

  async getTicket(ticketId: string): Promise<ZendeskTicket> {
    this.calls.push(`getTicket ${ticketId}`);
    const ticket = this.tickets.get(ticketId);
    if (!ticket) throw new TicketNotFound(`Ticket ${ticketId} not found`);
    return { ...ticket, tags: [...ticket.tags] };
  }

  async listComments(ticketId: string) {
    this.calls.push(`listComments ${ticketId}`);
    if (!this.tickets.has(ticketId)) throw new TicketNotFound(`Ticket ${ticketId} not found`);
    return { comments: structuredClone(this.comments.get(ticketId)!), pages: 1 };
  }

  async getAttachment(attachmentId: number): Promise<ZendeskAttachment> {
    this.calls.push(`getAttachment ${attachmentId}`);
    const error = this.files.get(attachmentId)?.getError;
    if (error) throw error;
    for (const comments of this.comments.values()) {
      for (const c of comments) {
        const found = c.attachments.find((a) => a.id === attachmentId);
        if (found) return { ...found };
      }
    }
    throw new AttachmentGone(`Attachment ${attachmentId} not found`);
  }

  async updateTags(ticketId: string, change: TagChange) {
    this.calls.push(`updateTags ${ticketId} +${(change.add ?? []).join(',')} -${(change.remove ?? []).join(',')}`);
    const ticket = this.tickets.get(ticketId);
    if (!ticket) throw new TicketNotFound(`Ticket ${ticketId} not found`);
    const next = [...ticket.tags.filter((t) => !(change.remove ?? []).includes(t))];
    for (const t of change.add ?? []) if (!next.includes(t)) next.push(t);
    const changed = next.join() !== ticket.tags.join();
    if (changed && ticket.status === 'closed') throw new TicketClosed(`Ticket ${ticketId} is closed`);
    ticket.tags = next;
    return { tags: next, changed };
  }

  async redactCommentAttachments(ticketId: string, commentId: number, attachments: Array<{ id: number; content_url: string }>) {
    this.calls.push(`redact ${ticketId}/${commentId} ${attachments.map((a) => a.id).join(',')}`);
    if (this.redactionBudget <= 0) throw new ZendeskRateLimited('per-ticket limit', this.retryAfterSeconds);
    this.redactionBudget -= 1;
    const outcome = {
      endpoint: 'comment_redactions' as const,
      ...(this.reportBudget ? { ticketBudget: { remaining: this.redactionBudget, resetsSeconds: this.retryAfterSeconds } } : {}),
    };
    const comment = this.comments.get(ticketId)!.find((c) => c.id === commentId)!;
    if (!this.ignoreRedactionOf.has(commentId)) {
      comment.attachments = comment.attachments.map((a) =>
        attachments.some((r) => r.id === a.id) ? { ...a, id: this.nextId++, file_name: 'redacted.txt', size: 0, content_type: 'text/plain' } : a,
      );
    }
    return outcome;
  }

  async download(url: string): Promise<Download> {
    const file = [...this.files.values()].find((f) => (f.attachment.content_url ?? contentUrl(f.attachment.id)) === url);
    this.calls.push(`download ${file?.attachment.id ?? 'unknown'}`);
    if (!file) throw new Error('unknown content url');
    if (file.downloadError) throw file.downloadError;
    const id = file.attachment.id;
    const count = (n: number) => this.pulled.set(id, (this.pulled.get(id) ?? 0) + n);
    const body = typeof file.body === 'function' ? file.body() : streamOf(file.body ?? new Uint8Array(0), count);
    return { body, contentType: 'application/octet-stream' };
  }

  /** Export Search belongs to the backfill's selection, which its own fake covers (test/support/fake-search.ts). */
  async exportSearchTickets(): Promise<ExportSearchPage> {
    this.calls.push('exportSearchTickets');
    throw new Error('FakeZendesk does not model Export Search');
  }
}

/** A Zendesk that knows these attachments (ticket 500, comment 3) and serves their bytes. */
export function fakeZendesk(files: FakeFile[]): FakeZendesk {
  return new FakeZendesk().addFiles(files);
}

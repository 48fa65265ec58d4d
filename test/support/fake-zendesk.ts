import { AttachmentGone, TicketClosed, TicketNotFound, ZendeskRateLimited } from '../../lambdas/shared/errors.js';
import type { TagChange, ZendeskApi, ZendeskAttachment, ZendeskComment, ZendeskTicket } from '../../lambdas/shared/zendesk/types.js';

/** An in-memory ZendeskApi for unit tests of the step cores: records every call. */
export class FakeZendesk implements ZendeskApi {
  tickets = new Map<string, ZendeskTicket>();
  comments = new Map<string, ZendeskComment[]>();
  calls: string[] = [];
  /** Comment IDs whose redaction answers 200 but does nothing. */
  ignoreRedactionOf = new Set<number>();
  /** Redaction calls allowed before a 429 (per-ticket budget). */
  redactionBudget = Infinity;
  retryAfterSeconds = 120;
  /** Report the per-ticket budget left after each redaction (header zendesk-ratelimit-per-ticket-updates), resetting in retryAfterSeconds. */
  reportBudget = false;
  private nextId = 900_000;

  addTicket(id: string, status = 'open', tags: string[] = []): void {
    this.tickets.set(id, { id: Number(id), status, updated_at: '2026-11-25T00:00:00Z', tags });
    this.comments.set(id, []);
  }

  addComment(ticketId: string, commentId: number, files: Array<Partial<ZendeskAttachment> & { id: number }>): void {
    this.comments.get(ticketId)!.push({
      id: commentId,
      attachments: files.map((f) => ({ file_name: `file-${f.id}.pdf`, content_url: `https://z.example/attachments/token/t${f.id}/?name=x`, content_type: 'application/pdf', size: 10, ...f })),
    });
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
    if (ticket.status === 'closed') throw new TicketClosed(`Ticket ${ticketId} is closed`);
    const next = [...ticket.tags.filter((t) => !(change.remove ?? []).includes(t))];
    for (const t of change.add ?? []) if (!next.includes(t)) next.push(t);
    const changed = next.join() !== ticket.tags.join();
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
    if (this.ignoreRedactionOf.has(commentId)) return outcome;
    const comment = this.comments.get(ticketId)!.find((c) => c.id === commentId)!;
    comment.attachments = comment.attachments.map((a) =>
      attachments.some((r) => r.id === a.id) ? { ...a, id: this.nextId++, file_name: 'redacted.txt', size: 0, content_type: 'text/plain' } : a,
    );
    return outcome;
  }

  async download(): Promise<never> {
    throw new Error('not used by these steps');
  }
}

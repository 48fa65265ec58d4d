import { randomBytes } from 'node:crypto';
import type { GeneratedData } from './content.js';

/** The sandbox's in-memory account: tickets, comments, attachments, and the clocks and budgets around them. */

export type TicketStatus = 'new' | 'open' | 'pending' | 'hold' | 'solved' | 'closed';
export const TICKET_STATUSES: readonly TicketStatus[] = ['new', 'open', 'pending', 'hold', 'solved', 'closed'];
export type MalwareScanResult = 'malware_found' | 'malware_not_found' | 'failed_to_scan' | 'not_scanned';

export interface TicketRecord {
  id: number;
  status: TicketStatus;
  subject: string;
  tags: string[];
  /** Milliseconds, a whole second; seedable (TicketSeed.createdAt) so that date windows can be tested. */
  createdAt: number;
  /**
   * Archived: Zendesk moves tickets closed for more than 120 days to its archive. An archived ticket is closed, is left
   * out of List Tickets, is still found by Export Search, shown by Show Ticket, listed by List Comments and redacted by
   * comment_redactions, and refuses updates like any closed ticket (see README.md).
   */
  archived: boolean;
  /** The end user who asked, and the brand: what the archive index records of the ticket. */
  requesterId: number;
  brandId: number;
  /** Milliseconds, always a whole second: Zendesk's `updated_at` resolution. */
  updatedAt: number;
  deleted: boolean;
  commentIds: number[];
}

export interface CommentRecord {
  id: number;
  ticketId: number;
  authorId: number;
  auditId: number;
  body: string;
  htmlBody: string;
  plainBody: string;
  public: boolean;
  createdAt: number;
  /** Current attachment slots, in order; a redacted one holds its redacted.txt replacement. */
  attachmentIds: number[];
}

export type AttachmentSource = { kind: 'buffer'; data: Buffer } | ({ kind: 'generated' } & GeneratedData);

export interface AttachmentRecord {
  id: number;
  ticketId: number;
  commentId: number;
  fileName: string;
  contentType: string;
  size: number;
  inline: boolean;
  deleted: boolean;
  malwareScanResult: MalwareScanResult;
  malwareAccessOverride: boolean;
  width: number | null;
  height: number | null;
  token: string;
  source: AttachmentSource;
  /** `redacted`: replaced by a redacted.txt attachment (`replacedBy`); its id and token are gone. */
  state: 'present' | 'redacted';
  replacedBy?: number;
  /** On a redacted.txt placeholder: the attachment it replaced. */
  replaces?: number;
  redactedVia?: 'comment_redactions' | 'legacy';
  thumbnailIds: number[];
  thumbnailOf?: number;
  /** Completed downloads from the content host. */
  downloads: number;
}

export const AGENT_USER_ID = 26155588908179;
export const FIRST_ID = 33144647570963;

/** Wall clock plus a test-controlled offset (advanceClock), or an injected `now`. */
export class SandboxClock {
  #offsetMs = 0;

  constructor(private readonly base: () => number = Date.now) {}

  now(): number {
    return this.base() + this.#offsetMs;
  }

  advance(seconds: number): void {
    this.#offsetMs += seconds * 1000;
  }
}

export interface BudgetState {
  total: number;
  remaining: number;
  /** Seconds until the window resets. */
  resets: number;
}

/**
 * Fixed windows aligned to the epoch (a recorded header showed `remaining=29; resets=468` after the first update,
 * so the window is not started by the first update). One counter per key (ticket, or the whole account).
 */
export class WindowBudget {
  readonly #used = new Map<string | number, { window: number; used: number }>();

  constructor(
    public total: number,
    readonly windowSeconds: number,
    private readonly clock: SandboxClock,
  ) {}

  /** Uses one unit if any is left. */
  consume(key: string | number): BudgetState & { allowed: boolean } {
    const state = this.#current(key);
    const allowed = state.used < this.total;
    if (allowed) state.used += 1;
    return { allowed, ...this.#view(state.used) };
  }

  peek(key: string | number): BudgetState {
    return this.#view(this.#current(key).used);
  }

  reset(): void {
    this.#used.clear();
  }

  #current(key: string | number): { window: number; used: number } {
    const window = Math.floor(this.clock.now() / (this.windowSeconds * 1000));
    let state = this.#used.get(key);
    if (!state || state.window !== window) {
      state = { window, used: 0 };
      this.#used.set(key, state);
    }
    return state;
  }

  #view(used: number): BudgetState {
    const windowMs = this.windowSeconds * 1000;
    const now = this.clock.now();
    const end = (Math.floor(now / windowMs) + 1) * windowMs;
    return { total: this.total, remaining: Math.max(0, this.total - used), resets: Math.max(1, Math.ceil((end - now) / 1000)) };
  }
}

const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A 25-character token like `ipl7iHe99p1WhkrNBVSW1L8Ie`. */
export function attachmentToken(): string {
  const bytes = randomBytes(25);
  let out = '';
  for (const b of bytes) out += TOKEN_ALPHABET[b % TOKEN_ALPHABET.length];
  return out;
}

export interface AttachmentSeed {
  fileName: string;
  contentType: string;
  data: Buffer | GeneratedData;
  inline?: boolean;
  /** Shorthand for malwareScanResult 'malware_found' with no override. */
  malware?: boolean;
  malwareScanResult?: MalwareScanResult;
  malwareAccessOverride?: boolean;
  deleted?: boolean;
  width?: number;
  height?: number;
  /** Adds one thumbnail attachment object (its own id, like Zendesk image thumbnails). */
  thumbnail?: boolean;
}

export interface CommentSeed {
  body?: string;
  htmlBody?: string;
  public?: boolean;
  authorId?: number;
  attachments?: AttachmentSeed[];
}

export interface TicketSeed {
  id?: number;
  status?: TicketStatus;
  subject?: string;
  tags?: string[];
  requesterId?: number;
  brandId?: number;
  /** When the ticket was created (default: the sandbox clock's now), whole seconds; an ISO string, a Date or ms. */
  createdAt?: string | Date | number;
  /** Created in the archive (closed for more than 120 days); implies status `closed`. */
  archived?: boolean;
}

/** A seed's createdAt as whole-second milliseconds. */
export function seedTime(value: string | Date | number): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) throw new Error('sandbox: createdAt must be a date');
  return wholeSecond(ms);
}

/** A seeded ticket's requester defaults to this plus its ID; every ticket is of one brand unless seeded otherwise. */
export const SANDBOX_REQUESTER_BASE = 5_000_000;
export const SANDBOX_BRAND_ID = 360_000_001;

export class ZendeskStore {
  readonly tickets = new Map<number, TicketRecord>();
  readonly comments = new Map<number, CommentRecord>();
  readonly attachments = new Map<number, AttachmentRecord>();
  /** Every token ever issued (redacted ones included), so an old token answers 404 rather than being unknown. */
  readonly byToken = new Map<string, number>();
  #nextId = FIRST_ID;
  #nextTicketId = 1;
  #lastCommentAt = 0;

  constructor(readonly clock: SandboxClock) {}

  /** Large, unique, non-adjacent ids like real Zendesk's. */
  nextId(): number {
    const id = this.#nextId;
    this.#nextId += 7;
    return id;
  }

  createTicket(seed: TicketSeed = {}): TicketRecord {
    const id = seed.id ?? this.#freeTicketId();
    if (this.tickets.has(id)) throw new Error(`sandbox: ticket ${id} already exists`);
    if (seed.archived && seed.status !== undefined && seed.status !== 'closed') throw new Error('sandbox: an archived ticket is closed');
    const now = wholeSecond(this.clock.now());
    const createdAt = seed.createdAt === undefined ? now : seedTime(seed.createdAt);
    const ticket: TicketRecord = {
      id,
      status: seed.archived ? 'closed' : (seed.status ?? 'open'),
      subject: seed.subject ?? `Sandbox ticket ${id}`,
      tags: normaliseTags(seed.tags ?? []),
      createdAt,
      archived: seed.archived ?? false,
      requesterId: seed.requesterId ?? SANDBOX_REQUESTER_BASE + id,
      brandId: seed.brandId ?? SANDBOX_BRAND_ID,
      updatedAt: Math.max(now, createdAt),
      deleted: false,
      commentIds: [],
    };
    this.tickets.set(id, ticket);
    return ticket;
  }

  /** A ticket the API can see (not deleted). */
  visibleTicket(id: number): TicketRecord | undefined {
    const ticket = this.tickets.get(id);
    return ticket && !ticket.deleted ? ticket : undefined;
  }

  requireTicket(id: number): TicketRecord {
    const ticket = this.tickets.get(id);
    if (!ticket) throw new Error(`sandbox: no ticket ${id}`);
    return ticket;
  }

  addComment(ticketId: number, seed: CommentSeed): CommentRecord {
    const ticket = this.requireTicket(ticketId);
    // Comments are strictly ordered by created_at, id; several seeded in one second share the second.
    const createdAt = Math.max(wholeSecond(this.clock.now()), this.#lastCommentAt);
    this.#lastCommentAt = createdAt;
    const body = seed.body ?? 'Attached files';
    const comment: CommentRecord = {
      id: this.nextId(),
      ticketId,
      authorId: seed.authorId ?? AGENT_USER_ID,
      auditId: this.nextId(),
      body,
      htmlBody: seed.htmlBody ?? `<div class="zd-comment" dir="auto"><p dir="auto">${escapeHtml(body)}</p></div>`,
      plainBody: body,
      public: seed.public ?? true,
      createdAt,
      attachmentIds: [],
    };
    this.comments.set(comment.id, comment);
    ticket.commentIds.push(comment.id);
    for (const attachment of seed.attachments ?? []) {
      comment.attachmentIds.push(this.#createAttachment(comment, attachment).id);
    }
    return comment;
  }

  #createAttachment(comment: CommentRecord, seed: AttachmentSeed): AttachmentRecord {
    const source: AttachmentSource = Buffer.isBuffer(seed.data)
      ? { kind: 'buffer', data: seed.data }
      : { kind: 'generated', ...seed.data };
    const size = source.kind === 'buffer' ? source.data.length : source.size;
    if (!Number.isSafeInteger(size) || size < 0) throw new Error('sandbox: attachment size must be a non-negative integer');
    const record = this.#register({
      ticketId: comment.ticketId,
      commentId: comment.id,
      fileName: seed.fileName,
      contentType: seed.contentType,
      size,
      inline: seed.inline ?? false,
      deleted: seed.deleted ?? false,
      malwareScanResult: seed.malwareScanResult ?? (seed.malware ? 'malware_found' : 'not_scanned'),
      malwareAccessOverride: seed.malwareAccessOverride ?? false,
      width: seed.width ?? null,
      height: seed.height ?? null,
      source,
    });
    if (seed.thumbnail) {
      const thumb = this.#register({
        ticketId: comment.ticketId,
        commentId: comment.id,
        fileName: seed.fileName,
        contentType: seed.contentType,
        size: 1024,
        inline: record.inline,
        deleted: false,
        malwareScanResult: 'malware_not_found',
        malwareAccessOverride: false,
        width: 80,
        height: 80,
        source: { kind: 'generated', size: 1024, seed: record.id },
      });
      thumb.thumbnailOf = record.id;
      record.thumbnailIds.push(thumb.id);
    }
    return record;
  }

  #register(
    fields: Omit<AttachmentRecord, 'id' | 'token' | 'state' | 'thumbnailIds' | 'downloads'>,
  ): AttachmentRecord {
    const record: AttachmentRecord = {
      ...fields,
      id: this.nextId(),
      token: attachmentToken(),
      state: 'present',
      thumbnailIds: [],
      downloads: 0,
    };
    this.attachments.set(record.id, record);
    this.byToken.set(record.token, record.id);
    return record;
  }

  /** An attachment the API still shows: present, its ticket visible. */
  liveAttachment(id: number): AttachmentRecord | undefined {
    const a = this.attachments.get(id);
    if (!a || a.state !== 'present' || !this.visibleTicket(a.ticketId)) return undefined;
    return a;
  }

  /**
   * Replaces an attachment in its comment by an empty `redacted.txt` with a new id (and new token); the old id,
   * its token and its thumbnails disappear.
   */
  redact(attachment: AttachmentRecord, via: 'comment_redactions' | 'legacy'): AttachmentRecord {
    const comment = this.comments.get(attachment.commentId);
    if (!comment) throw new Error(`sandbox: attachment ${attachment.id} has no comment`);
    const placeholder = this.#register({
      ticketId: attachment.ticketId,
      commentId: attachment.commentId,
      fileName: 'redacted.txt',
      contentType: 'text/plain',
      size: 0,
      inline: attachment.inline,
      deleted: false,
      malwareScanResult: 'not_scanned',
      malwareAccessOverride: false,
      width: null,
      height: null,
      source: { kind: 'buffer', data: Buffer.alloc(0) },
    });
    placeholder.replaces = attachment.id;
    attachment.state = 'redacted';
    attachment.replacedBy = placeholder.id;
    attachment.redactedVia = via;
    for (const thumbId of attachment.thumbnailIds) {
      const thumb = this.attachments.get(thumbId);
      if (thumb) thumb.state = 'redacted';
    }
    const slot = comment.attachmentIds.indexOf(attachment.id);
    if (slot >= 0) comment.attachmentIds[slot] = placeholder.id;
    return placeholder;
  }

  /** Records a ticket update: `updated_at` moves to now, and always forward by at least one second. */
  touch(ticket: TicketRecord): void {
    ticket.updatedAt = Math.max(wholeSecond(this.clock.now()), ticket.updatedAt + 1000);
  }

  #freeTicketId(): number {
    while (this.tickets.has(this.#nextTicketId)) this.#nextTicketId += 1;
    return this.#nextTicketId++;
  }
}

export function wholeSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

/** Trims, drops empties and duplicates, keeps order. (Whether Zendesk also lowercases is not modelled.) */
export function normaliseTags(tags: readonly string[]): string[] {
  return [...new Set(tags.map((t) => t.trim()).filter((t) => t.length > 0))];
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

import { param, spendTicketUpdate, type Exchange, type RedactionEntry, type SandboxContext } from './context.js';
import { HttpError, isoSeconds, json, zendeskError, type Reply } from './http.js';
import { attachmentJson, commentJson, redactedCommentJson, type ApiComment } from './json.js';
import type { AttachmentRecord, CommentRecord } from './store.js';
import { visibleTicketOr404 } from './tickets.js';

/** List Comments (cursor and offset pagination) and the two redaction endpoints. */

const MAX_PAGE = 100;
const REDACTED_TAG = 'redacted_content';

function pageSize(raw: string | null): number {
  if (raw === null) return MAX_PAGE;
  const size = Number(raw);
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE) {
    throw new HttpError(
      json(400, { error: 'InvalidPaginationParameter', description: `page[size] must be between 1 and ${MAX_PAGE}` }),
    );
  }
  return size;
}

/** Opaque cursor, shaped like Zendesk's: base64 of {"o":"created_at,id","v":base64([created_at,id])}. */
function encodeCursor(c: CommentRecord, order: string): string {
  const v = Buffer.from(JSON.stringify([c.createdAt, c.id])).toString('base64');
  return Buffer.from(JSON.stringify({ o: order, v })).toString('base64');
}

function decodeCursor(raw: string, order: string): [number, number] {
  try {
    const outer = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as { o?: unknown; v?: unknown };
    if (outer.o === order && typeof outer.v === 'string') {
      const key = JSON.parse(Buffer.from(outer.v, 'base64').toString('utf8')) as unknown;
      if (Array.isArray(key) && key.length === 2 && key.every((n) => Number.isSafeInteger(n))) return key as [number, number];
    }
  } catch {
    // fall through
  }
  throw new HttpError(json(400, { error: 'InvalidPaginationParameter', description: 'Invalid cursor' }));
}

function compareKeys(a: [number, number], b: [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}

export function listComments(ctx: SandboxContext, ex: Exchange): Reply {
  const ticket = visibleTicketOr404(ctx, param(ex, 0));
  const q = ex.url.searchParams;
  const includeInline = q.get('include_inline_images') === 'true';
  const descending = q.get('sort') === '-created_at' || q.get('sort_order') === 'desc';
  const direction = descending ? -1 : 1;
  const all = ticket.commentIds
    .map((id) => ctx.store.comments.get(id))
    .filter((c): c is CommentRecord => c !== undefined)
    .sort((a, b) => direction * compareKeys([a.createdAt, a.id], [b.createdAt, b.id]));
  const render = (c: CommentRecord): ApiComment => commentJson(ctx.api, ctx.store, c, { includeInline });

  const cursorMode = q.has('page[size]') || q.has('page[after]') || q.has('page[before]');
  if (!cursorMode) return offsetPage(ctx, ex, all.map(render));

  const size = pageSize(q.get('page[size]'));
  const order = descending ? '-created_at,id' : 'created_at,id';
  const after = q.get('page[after]');
  const before = q.get('page[before]');
  let page: CommentRecord[];
  let hasMore: boolean;
  if (after !== null) {
    const key = decodeCursor(after, order);
    const rest = all.filter((c) => direction * compareKeys([c.createdAt, c.id], key) > 0);
    page = rest.slice(0, size);
    hasMore = rest.length > size;
  } else if (before !== null) {
    const key = decodeCursor(before, order);
    const rest = all.filter((c) => direction * compareKeys([c.createdAt, c.id], key) < 0);
    page = rest.slice(Math.max(0, rest.length - size));
    hasMore = rest.length > size;
  } else {
    page = all.slice(0, size);
    hasMore = all.length > size;
  }

  const first = page[0];
  const last = page[page.length - 1];
  const afterCursor = last ? encodeCursor(last, order) : null;
  const beforeCursor = first ? encodeCursor(first, order) : null;
  const link = (name: 'page[after]' | 'page[before]', cursor: string | null): string | null => {
    if (cursor === null) return null;
    const params = new URLSearchParams(q);
    params.delete('page[after]');
    params.delete('page[before]');
    params.set(name, cursor);
    params.sort();
    return `${ctx.api}${ex.url.pathname}?${params.toString()}`;
  };
  return json(200, {
    comments: page.map(render),
    meta: { has_more: hasMore, after_cursor: afterCursor, before_cursor: beforeCursor },
    // The observed quirk: `next` is set even on the last page; clients must stop on meta.has_more.
    links: { prev: link('page[before]', beforeCursor), next: link('page[after]', afterCursor) },
  });
}

/** Offset pagination (no page[...] parameter): `per_page` (max 100) and `page`. */
function offsetPage(ctx: SandboxContext, ex: Exchange, all: ApiComment[]): Reply {
  const q = ex.url.searchParams;
  const perPage = Math.min(MAX_PAGE, Math.max(1, Number(q.get('per_page') ?? MAX_PAGE) || MAX_PAGE));
  const page = Math.max(1, Number(q.get('page') ?? 1) || 1);
  const link = (n: number): string => {
    const params = new URLSearchParams(q);
    params.set('page', String(n));
    params.set('per_page', String(perPage));
    params.sort();
    return `${ctx.api}${ex.url.pathname}?${params.toString()}`;
  };
  const start = (page - 1) * perPage;
  return json(200, {
    comments: all.slice(start, start + perPage),
    next_page: start + perPage < all.length ? link(page + 1) : null,
    previous_page: page > 1 ? link(page - 1) : null,
    count: all.length,
  });
}

/** The token of a content_url on this sandbox's API origin, if it is one. */
function tokenOf(ctx: SandboxContext, url: string): string | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.origin !== ctx.api) return undefined;
    return /^\/attachments\/token\/([^/]+)\/?$/.exec(parsed.pathname)?.[1];
  } catch {
    return undefined;
  }
}

function plainText(html: string): string {
  return html
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .trim();
}

/**
 * Applies `<redact>…</redact>` (each character becomes ▇) and the `redact` attribute (the element goes) to an
 * html_body; returns the new HTML and the `src` of every redacted <img>.
 */
function redactHtml(html: string): { html: string; imageSources: string[] } {
  const imageSources: string[] = [];
  let out = html.replace(/<img\b[^>]*>/gi, (tag) => {
    if (!/\sredact(?=[\s=/>])/i.test(tag)) return tag;
    const src = /\ssrc\s*=\s*"([^"]*)"/i.exec(tag)?.[1];
    if (src) imageSources.push(src.replace(/&amp;/g, '&'));
    return '';
  });
  out = out.replace(/<a\b[^>]*\sredact(?=[\s=/>])[^>]*>([\s\S]*?)<\/a>/gi, '$1');
  out = out.replace(/<redact>([\s\S]*?)<\/redact>/gi, (_m, inner: string) => '▇'.repeat([...plainText(inner)].length));
  return { html: out, imageSources };
}

/**
 * PUT /api/v2/comment_redactions/{comment_id}: redacts the comment's attachments named by content_url (and text /
 * images marked in html_body). Works on closed tickets. URLs already redacted are a no-op; URLs that belong to no
 * attachment of this comment are ignored (callers must confirm by re-listing).
 */
export async function redactComment(ctx: SandboxContext, ex: Exchange): Promise<Reply> {
  const commentId = param(ex, 0);
  const body = await ex.body();
  const ticketId = Number(body.ticket_id);
  if (body.ticket_id === undefined || !Number.isSafeInteger(ticketId)) {
    return zendeskError.badRequest('ticket_id is required');
  }
  const ticket = visibleTicketOr404(ctx, ticketId);
  const comment = ctx.store.comments.get(commentId);
  if (!comment || comment.ticketId !== ticket.id) return zendeskError.notFound();
  const headers = spendTicketUpdate(ctx, ticket);

  const urls = body.external_attachment_urls ?? [];
  if (!Array.isArray(urls) || !urls.every((u) => typeof u === 'string')) {
    return zendeskError.badRequest('external_attachment_urls must be an array of URLs');
  }
  const htmlBody = body.html_body;
  if (htmlBody !== undefined && typeof htmlBody !== 'string') return zendeskError.badRequest('html_body must be a string');

  const entry: RedactionEntry = {
    at: isoSeconds(ctx.store.clock.now()),
    endpoint: 'comment_redactions',
    ticketId: ticket.id,
    commentId,
    redacted: [],
    alreadyRedacted: [],
    ignoredUrls: 0,
    textRedacted: false,
  };
  const targets = [...(urls as string[])];
  if (typeof htmlBody === 'string') {
    const result = redactHtml(htmlBody);
    targets.push(...result.imageSources);
    if (result.html !== comment.htmlBody) {
      comment.htmlBody = result.html;
      comment.plainBody = plainText(result.html);
      comment.body = comment.plainBody;
      entry.textRedacted = true;
    }
  }
  for (const url of targets) {
    const token = tokenOf(ctx, url);
    const id = token === undefined ? undefined : ctx.store.byToken.get(token);
    const attachment = id === undefined ? undefined : ctx.store.attachments.get(id);
    if (!attachment || attachment.commentId !== comment.id || attachment.thumbnailOf !== undefined) {
      entry.ignoredUrls += 1;
    } else if (attachment.state === 'redacted') {
      entry.alreadyRedacted.push(attachment.id);
    } else {
      const replacement = ctx.store.redact(attachment, 'comment_redactions');
      entry.redacted.push({ attachmentId: attachment.id, replacementId: replacement.id });
    }
  }
  if (entry.redacted.length > 0 || entry.textRedacted) markRedacted(ctx, ticket.id);
  ctx.redactions.push(entry);
  return json(200, { comment: redactedCommentJson(ctx.api, ctx.store, comment) }, headers);
}

/**
 * PUT /api/v2/tickets/{t}/comments/{c}/attachments/{a}/redact (legacy): answers the PRE-redaction metadata;
 * 404 for an unknown or already redacted id; refused (422) on closed tickets.
 */
export function redactAttachmentLegacy(ctx: SandboxContext, ex: Exchange): Reply {
  const ticket = visibleTicketOr404(ctx, param(ex, 0));
  const headers = spendTicketUpdate(ctx, ticket);
  if (ticket.status === 'closed') return zendeskError.closedTicket(headers);
  const comment = ctx.store.comments.get(param(ex, 1));
  const attachment: AttachmentRecord | undefined = ctx.store.attachments.get(param(ex, 2));
  if (
    !comment ||
    comment.ticketId !== ticket.id ||
    !attachment ||
    attachment.commentId !== comment.id ||
    attachment.state !== 'present' ||
    attachment.thumbnailOf !== undefined
  ) {
    return zendeskError.notFound(headers);
  }
  const before = attachmentJson(ctx.api, ctx.store, attachment);
  const replacement = ctx.store.redact(attachment, 'legacy');
  markRedacted(ctx, ticket.id);
  ctx.redactions.push({
    at: isoSeconds(ctx.store.clock.now()),
    endpoint: 'legacy',
    ticketId: ticket.id,
    commentId: comment.id,
    redacted: [{ attachmentId: attachment.id, replacementId: replacement.id }],
    alreadyRedacted: [],
    ignoredUrls: 0,
    textRedacted: false,
  });
  return json(200, { attachment: before }, headers);
}

/** Redaction side effects: the `redacted_content` tag and a ticket update (which runs triggers). */
function markRedacted(ctx: SandboxContext, ticketId: number): void {
  const ticket = ctx.store.requireTicket(ticketId);
  if (!ticket.tags.includes(REDACTED_TAG)) ticket.tags.push(REDACTED_TAG);
  ctx.store.touch(ticket);
  ctx.ticketUpdated(ticket);
}

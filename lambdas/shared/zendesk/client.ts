import type { KyInstance, Options } from 'ky';
import {
  AttachmentGone,
  HostNotAllowed,
  InvalidInput,
  TicketClosed,
  TicketNotFound,
  UpdateConflict,
  ZendeskRequestFailed,
} from '../errors.js';
import { isTicketId } from '../ids.js';
import { logger } from '../logger.js';
import { createAuthenticator, withAuthorization, type Authenticator } from './auth.js';
import { openDownload } from './download.js';
import { createHostMatcher, isOnOrigin, zendeskOrigin } from './hosts.js';
import { parseTicketBudget, TICKET_BUDGET_HEADER, type TicketBudget } from './budget.js';
import { backoff, createHttp, DEFAULT_RETRY, errorCode, toVaultError, type RetrySettings, type Route } from './http.js';
import type {
  CommentsPage,
  RedactionOutcome,
  TagChange,
  ZendeskApi,
  ZendeskAttachment,
  ZendeskComment,
  ZendeskCredentials,
  ZendeskTicket,
} from './types.js';

export interface ZendeskClientOptions {
  /** Origin of the Zendesk account (zendeskSettings().baseUrl); any path is ignored. */
  baseUrl: string;
  credentials: ZendeskCredentials;
  /** Hosts a content_url may redirect to (see hosts.ts). */
  contentHosts: string[];
  /** Retry limits and delays; tests shrink the delays to ~1 ms. */
  retry?: Partial<RetrySettings>;
  /** A 429 (or 503) Retry-After up to this is waited in-process; a longer one throws ZendeskRateLimited. Default 10. */
  maxInProcessRetryAfterSeconds?: number;
  /** Per-attempt wait for response headers. Default 15 s. Download bodies have no timeout (use the signal). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  userAgent?: string;
  /** Clock for OAuth token expiry (tests). */
  now?: () => number;
}

export const DEFAULT_USER_AGENT = 'attachment-vault/0.1';

/** Max comments per ticket is 5,000, i.e. 50 pages of 100: anything far beyond is a loop. */
const MAX_COMMENT_PAGES = 200;

/**
 * How comment_redactions' 404 is read. Zendesk answers a missing record with JSON `{"error":"RecordNotFound"}`,
 * while an unknown or disabled route answers 404 with something else (HTML, an empty body, or JSON such as
 * `{"error":"InvalidEndpoint"}`). So only a JSON RecordNotFound means "the endpoint exists and the comment (or
 * ticket) does not": then we check the ticket (TicketNotFound if it is gone) and otherwise fail with
 * ZendeskRequestFailed(404), because the legacy endpoint would only 404 the same comment. Any other 404, and
 * 405/501, mean "endpoint unavailable" and fall back to the legacy per-attachment endpoint. Erring towards the
 * fallback is safe: its 404 counts as "already redacted" only because callers re-list to confirm.
 */
class EndpointUnavailable extends Error {}
class CommentNotFound extends Error {}
/** 409 on a safe-update tag write: stale updated_stamp (UpdateConflict) or the transient DatabaseConflict. */
class StaleTicket extends Error {}
class AlreadyRedacted extends Error {}

function ticketPath(ticketId: string): string {
  if (!isTicketId(ticketId)) throw new InvalidInput('ticketId must be a ticket number (1-20 digits, no leading zero)');
  return `api/v2/tickets/${ticketId}`;
}

function positiveId(name: string, id: number): number {
  if (!Number.isSafeInteger(id) || id <= 0) throw new InvalidInput(`${name} must be a positive integer`);
  return id;
}

function unexpected(route: string, what: string): ZendeskRequestFailed {
  return new ZendeskRequestFailed(`${route}: unexpected response (${what})`, 200);
}

/** Tag arithmetic: keeps the ticket's order, drops removed tags, appends missing ones (add wins over remove). */
export function applyTagChange(current: readonly string[], change: TagChange): string[] {
  const add = [...new Set(change.add ?? [])];
  const remove = new Set((change.remove ?? []).filter((tag) => !add.includes(tag)));
  const next = current.filter((tag) => !remove.has(tag));
  for (const tag of add) if (!next.includes(tag)) next.push(tag);
  return next;
}

function sameTags(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((tag, index) => tag === b[index]);
}

export function createZendeskClient(options: ZendeskClientOptions): ZendeskApi {
  const origin = zendeskOrigin(options.baseUrl);
  const isContentHost = createHostMatcher(options.contentHosts);
  const retry: RetrySettings = { ...DEFAULT_RETRY, ...options.retry };
  const maxWait = options.maxInProcessRetryAfterSeconds ?? 10;
  const settings = {
    retry,
    maxInProcessRetryAfterSeconds: maxWait,
    timeoutMs: options.timeoutMs ?? 15_000,
    userAgent: options.userAgent ?? DEFAULT_USER_AGENT,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  };
  const api: KyInstance = createHttp(settings, 'api', `${origin}/`);
  const downloads: KyInstance = createHttp(settings, 'download');
  const auth: Authenticator = createAuthenticator(options.credentials, {
    http: api,
    now: options.now ?? Date.now,
    maxInProcessRetryAfterSeconds: maxWait,
  });

  /**
   * One authenticated JSON call with the final response's headers; every failure comes out as a vocabulary error
   * (or a route's own signal).
   */
  async function exchange<T>(route: Route, input: string | URL, init: Options = {}): Promise<{ body: T; headers: Headers }> {
    try {
      return await withAuthorization(auth, async (authorization) => {
        const response = api(input, {
          ...init,
          headers: { ...(init.headers as Record<string, string> | undefined), authorization },
          context: { route: route.route },
        });
        const body = await response.json<T>();
        return { body, headers: (await response).headers };
      });
    } catch (error) {
      throw toVaultError(error, route, maxWait);
    }
  }

  async function call<T>(route: Route, input: string | URL, init: Options = {}): Promise<T> {
    return (await exchange<T>(route, input, init)).body;
  }

  async function getTicket(ticketId: string): Promise<ZendeskTicket> {
    const path = ticketPath(ticketId);
    const body = await call<{ ticket?: ZendeskTicket }>(
      { route: 'getTicket', subject: `ticket ${ticketId}`, statuses: { 404: (m) => new TicketNotFound(m) } },
      path,
    );
    const ticket = body?.ticket;
    if (!ticket || typeof ticket.updated_at !== 'string') throw unexpected('getTicket', 'no ticket');
    return { ...ticket, tags: Array.isArray(ticket.tags) ? ticket.tags : [] };
  }

  async function listComments(ticketId: string): Promise<{ comments: ZendeskComment[]; pages: number }> {
    const path = `${ticketPath(ticketId)}/comments`;
    const comments: ZendeskComment[] = [];
    const seen = new Set<string>();
    let next: string | URL = path;
    let init: Options = { searchParams: { 'page[size]': 100, include_inline_images: true } };
    for (let pages = 1; ; pages++) {
      const page: Partial<CommentsPage> = await call<Partial<CommentsPage>>(
        {
          route: 'listComments',
          subject: `ticket ${ticketId} page ${pages}`,
          statuses: { 404: (m) => new TicketNotFound(m) },
        },
        next,
        init,
      );
      if (!Array.isArray(page?.comments)) throw unexpected('listComments', 'no comments array');
      for (const comment of page.comments) {
        comments.push({ ...comment, attachments: Array.isArray(comment.attachments) ? comment.attachments : [] });
      }
      // Stop on has_more === false: links.next is still set on the last page (observed).
      if (page.meta?.has_more !== true) return { comments, pages };
      const link = page.links?.next;
      if (typeof link !== 'string' || !link) throw unexpected('listComments', 'has_more without links.next');
      let nextUrl: URL;
      try {
        nextUrl = new URL(link, `${origin}/`);
      } catch {
        throw unexpected('listComments', 'invalid links.next');
      }
      if (!isOnOrigin(nextUrl, origin)) {
        throw new HostNotAllowed(`listComments ticket ${ticketId}: links.next leaves the Zendesk origin (page ${pages})`);
      }
      if (seen.has(nextUrl.href) || pages >= MAX_COMMENT_PAGES) {
        throw unexpected('listComments', `pagination does not end (page ${pages})`);
      }
      seen.add(nextUrl.href);
      next = nextUrl;
      init = {}; // the link carries every query parameter
    }
  }

  async function getAttachment(attachmentId: number): Promise<ZendeskAttachment> {
    positiveId('attachmentId', attachmentId);
    const body = await call<{ attachment?: ZendeskAttachment }>(
      {
        route: 'getAttachment',
        subject: `attachment ${attachmentId}`,
        statuses: { 404: (m) => new AttachmentGone(m), 410: (m) => new AttachmentGone(m) },
      },
      `api/v2/attachments/${attachmentId}`,
    );
    if (!body?.attachment || typeof body.attachment.content_url !== 'string') {
      throw unexpected('getAttachment', 'no attachment');
    }
    return body.attachment;
  }

  async function updateTags(
    ticketId: string,
    change: TagChange,
    options: { ticket?: ZendeskTicket } = {},
  ): Promise<{ tags: string[]; changed: boolean }> {
    const path = `${ticketPath(ticketId)}/tags`;
    // The caller's fresh read serves the first round; a conflict (409) always re-reads.
    let known = options.ticket;
    for (let round = 0; ; round++) {
      const ticket = known ?? (await getTicket(ticketId));
      known = undefined;
      const tags = applyTagChange(ticket.tags, change);
      if (sameTags(tags, ticket.tags)) return { tags: ticket.tags, changed: false };
      // Tag endpoints refuse closed tickets (422): do not spend a write (and a per-ticket update) on it.
      if (ticket.status === 'closed') throw new TicketClosed(`updateTags ticket ${ticketId}: ticket is closed`);
      try {
        const body = await call<{ tags?: unknown }>(
          {
            route: 'updateTags',
            subject: `ticket ${ticketId}`,
            statuses: {
              404: (m) => new TicketNotFound(m),
              409: (m) => new StaleTicket(m),
              422: (m) => new TicketClosed(m),
            },
          },
          path,
          // POST replaces the whole set: one write, applied only if the ticket is unchanged since our read.
          { method: 'post', json: { tags, updated_stamp: ticket.updated_at, safe_update: 'true' } },
        );
        const written = Array.isArray(body?.tags) ? (body.tags as string[]) : tags;
        return { tags: written, changed: true };
      } catch (error) {
        if (!(error instanceof StaleTicket)) throw error;
        if (round >= retry.conflictRetries) {
          throw new UpdateConflict(`updateTags ticket ${ticketId}: still conflicting (409) after ${round + 1} writes`);
        }
        logger.info('Zendesk tag write conflicted; re-reading the ticket', { ticketId, round: round + 1 });
        await backoff(retry.conflictDelayMs, round, retry.maxDelayMs);
      }
    }
  }

  async function redactCommentAttachments(
    ticketId: string,
    commentId: number,
    attachments: Array<{ id: number; content_url: string }>,
  ): Promise<RedactionOutcome> {
    const ticketBase = ticketPath(ticketId);
    positiveId('commentId', commentId);
    for (const attachment of attachments) positiveId('attachment id', attachment.id);
    if (attachments.length === 0) return { endpoint: 'comment_redactions' };

    const subject = `ticket ${ticketId} comment ${commentId}`;
    const outcome = (endpoint: RedactionOutcome['endpoint'], budget: TicketBudget | undefined): RedactionOutcome =>
      budget ? { endpoint, ticketBudget: budget } : { endpoint };
    try {
      const { headers } = await exchange<unknown>(
        {
          route: 'commentRedactions',
          subject,
          statuses: {
            404: (m, data) => (errorCode(data) === 'RecordNotFound' ? new CommentNotFound(m) : new EndpointUnavailable(m)),
            405: (m) => new EndpointUnavailable(m),
            501: (m) => new EndpointUnavailable(m),
          },
        },
        `api/v2/comment_redactions/${commentId}`,
        {
          method: 'put',
          json: { ticket_id: Number(ticketId), external_attachment_urls: attachments.map((a) => a.content_url) },
        },
      );
      return outcome('comment_redactions', parseTicketBudget(headers.get(TICKET_BUDGET_HEADER)));
    } catch (error) {
      if (error instanceof CommentNotFound) {
        await getTicket(ticketId); // TicketNotFound when the ticket is gone
        throw new ZendeskRequestFailed(`commentRedactions ${subject}: comment not found`, 404);
      }
      if (!(error instanceof EndpointUnavailable)) throw error;
      logger.warn('comment_redactions unavailable; using the legacy attachment redaction', { ticketId, commentId });
    }

    let budget: TicketBudget | undefined;
    for (const attachment of attachments) {
      try {
        const { headers } = await exchange<unknown>(
          {
            route: 'legacyRedact',
            subject: `${subject} attachment ${attachment.id}`,
            statuses: {
              404: (m) => new AlreadyRedacted(m), // redacting twice answers 404 (observed); callers re-list
              422: (m) => new TicketClosed(m),
            },
          },
          `${ticketBase}/comments/${commentId}/attachments/${attachment.id}/redact`,
          { method: 'put', json: {} },
        );
        budget = parseTicketBudget(headers.get(TICKET_BUDGET_HEADER)) ?? budget;
      } catch (error) {
        if (!(error instanceof AlreadyRedacted)) throw error;
      }
    }
    return outcome('legacy', budget);
  }

  return {
    getTicket,
    listComments,
    getAttachment,
    updateTags,
    redactCommentAttachments,
    download: (contentUrl, downloadOptions) =>
      openDownload(
        { http: downloads, auth, zendeskOrigin: origin, isContentHost, maxInProcessRetryAfterSeconds: maxWait },
        contentUrl,
        downloadOptions?.signal,
      ),
  };
}

import type { Options } from 'ky';
import { HostNotAllowed, TicketNotFound } from '../errors.js';
import { isOnOrigin } from './hosts.js';
import { ticketPath, unexpected, type ZendeskRequest } from './request.js';
import type { CommentsPage, ZendeskApi, ZendeskComment } from './types.js';

/** The comments resource: every comment of a ticket, following cursor pagination. */

/** Max comments per ticket is 5,000, i.e. 50 pages of 100: anything far beyond is a loop. */
const MAX_COMMENT_PAGES = 200;

export function createComments(request: ZendeskRequest): Pick<ZendeskApi, 'listComments'> {
  const { call, origin } = request;

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

  return { listComments };
}

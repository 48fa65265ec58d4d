import { InvalidInput, SearchCursorExpired } from '../errors.js';
import { isTicketId } from '../ids.js';
import { unexpected, type ZendeskRequest } from './request.js';
import type { ExportSearchOptions, ExportSearchPage, SearchedTicket, ZendeskApi } from './types.js';

/**
 * Export Search Results, `GET /api/v2/search/export` (docs/zendesk.md#export-search-results): one page of tickets per
 * call, through the same authenticated request, retries and rate-limit handling as every other resource. The caller
 * owns the paging (SelectTickets keeps the cursor in its progress between invocations), so this follows
 * `meta.after_cursor` as `page[after]` rather than `links.next`.
 */

export const EXPORT_PAGE_SIZE = 100;
export const EXPORT_MAX_PAGE_SIZE = 1000;
const MAX_QUERY_LENGTH = 2000;
const MAX_CURSOR_LENGTH = 8192;

interface RawPage {
  results?: unknown;
  meta?: { has_more?: unknown; after_cursor?: unknown };
}

/**
 * Keeps every JSON `id` number as its source digits: a 64-bit ID above 2^53 would lose digits as a JavaScript number
 * (JSON.parse source text access, Node 22).
 */
function exactIds(text: string): unknown {
  if (text.trim() === '') return undefined;
  return JSON.parse(text, function (key: string, value: unknown, context?: { source?: string }) {
    return key === 'id' && typeof value === 'number' ? (context?.source ?? String(value)) : value;
  } as (key: string, value: unknown) => unknown);
}

function checkArguments(query: string, options: ExportSearchOptions): number {
  if (typeof query !== 'string' || query.trim() === '' || query.length > MAX_QUERY_LENGTH) {
    throw new InvalidInput(`exportSearchTickets: query must be 1-${MAX_QUERY_LENGTH} characters`);
  }
  const size = options.pageSize ?? EXPORT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > EXPORT_MAX_PAGE_SIZE) {
    throw new InvalidInput(`exportSearchTickets: pageSize must be an integer from 1 to ${EXPORT_MAX_PAGE_SIZE}`);
  }
  const { cursor } = options;
  if (cursor !== undefined && (typeof cursor !== 'string' || !/^[\x21-\x7e]{1,8192}$/.test(cursor))) {
    throw new InvalidInput(`exportSearchTickets: cursor must be 1-${MAX_CURSOR_LENGTH} printable characters`);
  }
  return size;
}

function ticketOf(result: unknown): SearchedTicket {
  const { id, created_at: createdAt, result_type: type } = (result ?? {}) as { id?: unknown; created_at?: unknown; result_type?: unknown };
  if (type !== undefined && type !== 'ticket') throw unexpected('exportSearchTickets', `a ${String(type)} result`);
  if (!isTicketId(id)) throw unexpected('exportSearchTickets', 'a result without a ticket id');
  if (typeof createdAt !== 'string' || !Number.isFinite(Date.parse(createdAt))) throw unexpected('exportSearchTickets', 'a result without created_at');
  return { id, createdAt };
}

function pageOf(body: RawPage | undefined): ExportSearchPage {
  if (!Array.isArray(body?.results)) throw unexpected('exportSearchTickets', 'no results array');
  const hasMore = body.meta?.has_more === true;
  const after = body.meta?.after_cursor;
  const afterCursor = typeof after === 'string' && after !== '' ? after : undefined;
  if (hasMore && afterCursor === undefined) throw unexpected('exportSearchTickets', 'has_more without meta.after_cursor');
  return { tickets: body.results.map(ticketOf), hasMore, ...(afterCursor !== undefined ? { afterCursor } : {}) };
}

export function createSearch(request: ZendeskRequest): Pick<ZendeskApi, 'exportSearchTickets'> {
  async function exportSearchTickets(query: string, options: ExportSearchOptions = {}): Promise<ExportSearchPage> {
    const size = checkArguments(query, options);
    const { cursor } = options;
    // A refused cursor is the caller's cue to start the window again; without a cursor, a 400/422 is about the query.
    const cursorRefused = (message: string) => new SearchCursorExpired(message);
    const body = await request.call<RawPage>(
      {
        route: 'exportSearchTickets',
        subject: cursor === undefined ? 'first page' : 'next page',
        ...(cursor !== undefined ? { statuses: { 400: cursorRefused, 422: cursorRefused } } : {}),
      },
      'api/v2/search/export',
      {
        searchParams: { query, 'filter[type]': 'ticket', 'page[size]': size, ...(cursor !== undefined ? { 'page[after]': cursor } : {}) },
        parseJson: exactIds,
      },
    );
    return pageOf(body);
  }

  return { exportSearchTickets };
}

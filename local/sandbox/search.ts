import { createHash } from 'node:crypto';
import type { Exchange, SandboxContext } from './context.js';
import { HttpError, json, type Reply } from './http.js';
import { ticketJson } from './json.js';
import { parseTicketQuery, QueryError } from './search-query.js';
import type { TicketRecord } from './store.js';

/**
 * Export Search Results, `GET /api/v2/search/export` (Zendesk's OpenAPI `ExportSearchResults`): tickets only
 * (`filter[type]=ticket`, required), cursor pagination with `page[size]` (default 100, at most 1,000) and `page[after]`,
 * results ordered by `created_at` (then id), no `count`, `links.prev` always null. Its own limit of 100 requests per
 * minute per account (429 with Retry-After), on top of the account limit the server already counted.
 *
 * Choices where Zendesk documents nothing (README.md, Export Search): the cursor lives one hour from the export's first
 * page (its `sessionStart`), the stricter reading of "the after_cursor expires after one hour"; a stale, foreign or
 * malformed cursor answers 400 `{"error":"invalid",…}` like the search endpoints' documented errors; the last page
 * keeps its `after_cursor` and `links.next`, as List Comments is observed to, so clients must stop on `has_more`.
 */

export const EXPORT_DEFAULT_PAGE = 100;
export const EXPORT_MAX_PAGE = 1000;

/** The cursor's content, shaped like the decoded example of Zendesk's OpenAPI description. */
interface ExportCursor {
  field: 'created_at';
  desc: boolean;
  tieBreakField: 'id';
  tieBreakDesc: boolean;
  sortValues: [number, number];
  exportedThusFar: number;
  sessionStart: number;
  createdAt: number;
  requestHash: string;
}

const invalid = (description: string): HttpError => new HttpError(json(400, { error: 'invalid', description }));

function requestHash(query: string, type: string): string {
  return createHash('sha256').update(`${type}\n${query}`).digest('base64url').slice(0, 16);
}

function encodeCursor(cursor: ExportCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64');
}

function decodeCursor(raw: string, hash: string, now: number, ttlMs: number): ExportCursor {
  let cursor: Partial<ExportCursor> | undefined;
  try {
    cursor = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as Partial<ExportCursor>;
  } catch {
    cursor = undefined;
  }
  const values = cursor?.sortValues;
  if (!cursor || !Array.isArray(values) || values.length !== 2 || !values.every(Number.isSafeInteger) || typeof cursor.sessionStart !== 'number') {
    throw invalid('Invalid cursor');
  }
  if (cursor.requestHash !== hash) throw invalid('The cursor belongs to another query');
  if (now - cursor.sessionStart > ttlMs) throw invalid('The cursor has expired. Start the export again without page[after].');
  return cursor as ExportCursor;
}

function pageSize(raw: string | null): number {
  if (raw === null) return EXPORT_DEFAULT_PAGE;
  const size = Number(raw);
  if (!Number.isInteger(size) || size < 1 || size > EXPORT_MAX_PAGE) {
    throw new HttpError(json(400, { error: 'InvalidPaginationParameter', description: `page[size] must be between 1 and ${EXPORT_MAX_PAGE}` }));
  }
  return size;
}

/** The export's own limit: one unit per request, 429 with Retry-After when the minute's units are gone. */
function spendExportBudget(ctx: SandboxContext): void {
  const budget = ctx.search.budget.consume('export');
  if (budget.allowed) return;
  ctx.refusals.export += 1;
  throw new HttpError(
    json(429, { error: 'APIRateLimitExceeded', description: 'Export Search Results allows 100 requests per minute' }, { 'retry-after': String(budget.resets) }),
  );
}

/** The matching tickets in export order: created_at then id, ascending (or descending when the sandbox is told to). */
function matching(ctx: SandboxContext, query: string): TicketRecord[] {
  let predicate: ReturnType<typeof parseTicketQuery>;
  try {
    predicate = parseTicketQuery(query);
  } catch (error) {
    if (error instanceof QueryError) throw invalid(error.message);
    throw error;
  }
  const direction = ctx.search.order === 'desc' ? -1 : 1;
  return [...ctx.store.tickets.values()]
    .filter((t) => !t.deleted && predicate(t, ctx.store))
    .sort((a, b) => direction * (a.createdAt - b.createdAt || a.id - b.id));
}

export function exportSearch(ctx: SandboxContext, ex: Exchange): Reply {
  spendExportBudget(ctx);
  const q = ex.url.searchParams;
  const type = q.get('filter[type]');
  if (type === null || type === '') throw invalid('filter[type] is required');
  if (type !== 'ticket') throw invalid('the sandbox exports tickets only (filter[type]=ticket)');
  const query = q.get('query')?.trim() ?? '';
  if (query === '') throw invalid('query is required');
  const size = pageSize(q.get('page[size]'));
  const hash = requestHash(query, type);
  const now = ctx.store.clock.now();
  const after = q.get('page[after]');
  const cursor = after === null ? undefined : decodeCursor(after, hash, now, ctx.search.cursorTtlSeconds * 1000);

  const desc = ctx.search.order === 'desc';
  const direction = desc ? -1 : 1;
  const all = matching(ctx, query);
  const rest = cursor
    ? all.filter((t) => direction * (t.createdAt - cursor.sortValues[0] || t.id - cursor.sortValues[1]) > 0)
    : all;
  const page = rest.slice(0, size);
  const last = page[page.length - 1];
  const exported = (cursor?.exportedThusFar ?? 0) + page.length;
  const afterCursor = last
    ? encodeCursor({
        field: 'created_at',
        desc,
        tieBreakField: 'id',
        tieBreakDesc: desc,
        sortValues: [last.createdAt, last.id],
        exportedThusFar: exported,
        sessionStart: cursor?.sessionStart ?? now,
        createdAt: now,
        requestHash: hash,
      })
    : null;
  return json(200, {
    results: page.map((t) => ({ ...ticketJson(ctx.api, ctx.store, t), result_type: 'ticket' })),
    facets: null,
    meta: { has_more: rest.length > size, after_cursor: afterCursor, before_cursor: null },
    links: { prev: null, next: afterCursor === null ? null : nextLink(ctx, ex, afterCursor) },
  });
}

function nextLink(ctx: SandboxContext, ex: Exchange, afterCursor: string): string {
  const params = new URLSearchParams(ex.url.searchParams);
  params.set('page[after]', afterCursor);
  params.sort();
  return `${ctx.api}${ex.url.pathname}?${params.toString()}`;
}

import { SearchCursorExpired, ZendeskRateLimited } from '../../lambdas/shared/errors.js';
import type { ExportSearchOptions, ExportSearchPage, ZendeskApi } from '../../lambdas/shared/zendesk/types.js';

/**
 * An in-memory Export Search for the unit tests of SelectTickets: tickets with created dates, the window terms
 * `created>=… created<…` evaluated (every other term is taken as matching), cursors that expire an hour after the
 * export's first page on an injected clock, an order of choice, and scripted 429s. (HTTP behaviour is the sandbox's.)
 */

export interface FakeTicket {
  id: string;
  createdAt: string;
}

interface Cursor {
  query: string;
  offset: number;
  startedAt: number;
}

export class FakeSearch implements Pick<ZendeskApi, 'exportSearchTickets'> {
  calls: Array<{ query: string; cursor?: string; pageSize?: number }> = [];
  /** Calls (0-based) answered with a 429 of these seconds instead. */
  rateLimits = new Map<number, number>();
  /** Cursor lifetime from the export's first page. */
  cursorTtlMs = 3_600_000;
  /** Results outside the asked window, as a careless server might send. */
  strayTickets: FakeTicket[] = [];
  private readonly cursors = new Map<string, Cursor>();
  private nextCursor = 1;

  constructor(
    public tickets: FakeTicket[],
    public order: 'asc' | 'desc' | 'shuffled' = 'asc',
    public now: () => number = Date.now,
  ) {}

  async exportSearchTickets(query: string, options: ExportSearchOptions = {}): Promise<ExportSearchPage> {
    const call = this.calls.length;
    this.calls.push({ query, ...options });
    const limited = this.rateLimits.get(call);
    if (limited !== undefined) throw new ZendeskRateLimited('exportSearchTickets: Zendesk answered 429', limited);
    let state: Cursor = { query, offset: 0, startedAt: this.now() };
    if (options.cursor !== undefined) {
      const known = this.cursors.get(options.cursor);
      if (!known || known.query !== query || this.now() - known.startedAt > this.cursorTtlMs) {
        throw new SearchCursorExpired('exportSearchTickets next page: Zendesk answered 400');
      }
      state = known;
    }
    const all = [...this.matching(query), ...(state.offset === 0 ? this.strayTickets : [])];
    const size = options.pageSize ?? 100;
    const page = all.slice(state.offset, state.offset + size);
    const hasMore = state.offset + size < all.length;
    const cursor = `c${this.nextCursor++}`;
    this.cursors.set(cursor, { query, offset: state.offset + page.length, startedAt: state.startedAt });
    return { tickets: page.map((t) => ({ ...t })), hasMore, afterCursor: cursor };
  }

  /** The window's tickets in the chosen order (shuffled: a fixed, non-monotonic permutation). */
  matching(query: string): FakeTicket[] {
    const from = Date.parse(/created>=(\S+)/.exec(query)?.[1] ?? '1970-01-01T00:00:00Z');
    const to = Date.parse(/created<(\S+)/.exec(query)?.[1] ?? '2999-01-01T00:00:00Z');
    const inside = this.tickets.filter((t) => Date.parse(t.createdAt) >= from && Date.parse(t.createdAt) < to);
    const sorted = inside.sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || Number(BigInt(a.id) - BigInt(b.id)));
    if (this.order === 'desc') return sorted.reverse();
    if (this.order === 'shuffled') return sorted.map((t, i) => ({ t, k: (i * 7919) % (sorted.length + 13) })).sort((a, b) => a.k - b.k).map((x) => x.t);
    return sorted;
  }
}

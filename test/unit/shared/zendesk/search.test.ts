import { afterEach, describe, expect, it } from '@jest/globals';
import {
  InvalidInput,
  SearchCursorExpired,
  ZendeskAuthFailed,
  ZendeskRateLimited,
  ZendeskRequestFailed,
  ZendeskUnavailable,
} from '../../../../lambdas/shared/errors.js';
import { BASIC_HEADER, failure, sendJson, startServer, testClient, type TestServer } from './helpers.js';

let server: TestServer;
afterEach(async () => server?.close());

/** A page as the OpenAPI's SearchExportResponse shapes it. */
function page(results: Array<{ id: number | string; created_at: string }>, meta: { has_more: boolean; after_cursor: string | null }) {
  return {
    results: results.map((r) => ({ ...r, result_type: 'ticket', url: `https://example.zendesk.com/api/v2/tickets/${r.id}.json`, status: 'closed' })),
    facets: null,
    meta: { ...meta, before_cursor: null },
    links: { prev: null, next: meta.after_cursor ? `https://example.zendesk.com/api/v2/search/export?page%5Bafter%5D=${meta.after_cursor}` : null },
  };
}

describe('exportSearchTickets', () => {
  it('asks for one page of tickets with filter[type]=ticket and page[size] 100 by default, authenticated', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, page([{ id: 7, created_at: '2024-01-02T03:04:05Z' }], { has_more: true, after_cursor: 'eyJhIjoxfQ==' })));
    const result = await testClient(server.origin).exportSearchTickets('has_attachment:true created>=2024-01-01T00:00:00Z');
    expect(result).toEqual({ tickets: [{ id: '7', createdAt: '2024-01-02T03:04:05Z' }], afterCursor: 'eyJhIjoxfQ==', hasMore: true });
    const [seen] = server.requests;
    expect(seen?.path).toBe('/api/v2/search/export');
    expect(Object.fromEntries(seen!.query)).toEqual({ query: 'has_attachment:true created>=2024-01-01T00:00:00Z', 'filter[type]': 'ticket', 'page[size]': '100' });
    expect(seen?.headers.authorization).toBe(BASIC_HEADER);
  });

  it('sends the cursor as page[after] and the page size asked for', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, page([], { has_more: false, after_cursor: null })));
    const result = await testClient(server.origin).exportSearchTickets('tags:vip', { cursor: 'abc+/=', pageSize: 1000 });
    expect(result).toEqual({ tickets: [], hasMore: false });
    expect(server.requests[0]?.query.get('page[after]')).toBe('abc+/=');
    expect(server.requests[0]?.query.get('page[size]')).toBe('1000');
  });

  it('keeps 64-bit IDs exact, as strings', async () => {
    server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"results":[{"id":9007199254740993,"created_at":"2024-01-01T00:00:00Z","result_type":"ticket","via":{"source":{"from":{"id":5}}}}],"meta":{"has_more":false,"after_cursor":null}}');
    });
    const result = await testClient(server.origin).exportSearchTickets('has_attachment:true');
    expect(result.tickets).toEqual([{ id: '9007199254740993', createdAt: '2024-01-01T00:00:00Z' }]);
  });

  it('stops on has_more alone: a last page that still carries a cursor reports hasMore false', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, page([{ id: 1, created_at: '2024-01-01T00:00:00Z' }], { has_more: false, after_cursor: 'still-here' })));
    expect(await testClient(server.origin).exportSearchTickets('x:y')).toMatchObject({ hasMore: false, afterCursor: 'still-here' });
  });

  it('a long Retry-After is ZendeskRateLimited with its seconds; a short one is waited in-process', async () => {
    server = await startServer((_req, res) => sendJson(res, 429, { error: 'APIRateLimitExceeded' }, { 'retry-after': '45' }));
    const error = await failure(testClient(server.origin).exportSearchTickets('has_attachment:true'));
    expect(error).toBeInstanceOf(ZendeskRateLimited);
    expect(error.retryAfterSeconds).toBe(45);
    expect(server.requests).toHaveLength(1);
    await server.close();

    server = await startServer((_req, res, index) =>
      index === 0 ? sendJson(res, 429, {}, { 'retry-after': '0' }) : sendJson(res, 200, page([], { has_more: false, after_cursor: null })),
    );
    expect((await testClient(server.origin).exportSearchTickets('has_attachment:true')).hasMore).toBe(false);
    expect(server.requests).toHaveLength(2);
  });

  it('a refused cursor (400 or 422) is SearchCursorExpired; a 400 without a cursor is about the query', async () => {
    for (const status of [400, 422]) {
      server = await startServer((_req, res) => sendJson(res, status, { error: 'invalid', description: 'The cursor has expired' }));
      expect(await failure(testClient(server.origin).exportSearchTickets('has_attachment:true', { cursor: 'old' }))).toBeInstanceOf(SearchCursorExpired);
      await server.close();
    }
    server = await startServer((_req, res) => sendJson(res, 400, { error: 'invalid', description: 'type is not allowed' }));
    const error = await failure(testClient(server.origin).exportSearchTickets('type:ticket'));
    expect(error).toBeInstanceOf(ZendeskRequestFailed);
    expect(error.status).toBe(400);
    expect(error.message).not.toContain('type:ticket');
  });

  it('maps auth failures and outages like every other call', async () => {
    server = await startServer((_req, res) => sendJson(res, 401, { error: "Couldn't authenticate you" }));
    expect(await failure(testClient(server.origin).exportSearchTickets('has_attachment:true'))).toBeInstanceOf(ZendeskAuthFailed);
    await server.close();
    server = await startServer((_req, res) => sendJson(res, 503, { error: 'unavailable' }));
    expect(await failure(testClient(server.origin).exportSearchTickets('has_attachment:true'))).toBeInstanceOf(ZendeskUnavailable);
    expect(server.requests).toHaveLength(4);
  });

  it.each([
    ['no results array', { meta: { has_more: false } }],
    ['has_more without a cursor', page([], { has_more: true, after_cursor: null })],
    ['a result without an id', { results: [{ created_at: '2024-01-01T00:00:00Z' }], meta: { has_more: false } }],
    ['a result without created_at', { results: [{ id: 3 }], meta: { has_more: false } }],
    ['a user result', { results: [{ id: 3, created_at: '2024-01-01T00:00:00Z', result_type: 'user' }], meta: { has_more: false } }],
  ])('refuses %s as an unexpected response', async (_name, body) => {
    server = await startServer((_req, res) => sendJson(res, 200, body));
    const error = await failure(testClient(server.origin).exportSearchTickets('has_attachment:true'));
    expect(error).toBeInstanceOf(ZendeskRequestFailed);
    expect(error.message).toContain('unexpected response');
  });

  it.each([
    ['an empty query', '', {}],
    ['page size 0', 'a:b', { pageSize: 0 }],
    ['page size 1001', 'a:b', { pageSize: 1001 }],
    ['an empty cursor', 'a:b', { cursor: '' }],
    ['a cursor with spaces', 'a:b', { cursor: 'a b' }],
  ])('refuses %s without a request', async (_name, query, options) => {
    server = await startServer((_req, res) => sendJson(res, 200, page([], { has_more: false, after_cursor: null })));
    expect(await failure(testClient(server.origin).exportSearchTickets(query, options))).toBeInstanceOf(InvalidInput);
    expect(server.requests).toHaveLength(0);
  });
});

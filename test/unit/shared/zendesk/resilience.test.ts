import { afterEach, describe, expect, it } from '@jest/globals';
import {
  ZendeskRateLimited,
  ZendeskRequestFailed,
  ZendeskUnavailable,
} from '../../../../lambdas/shared/errors.js';
import { retryAfterSeconds } from '../../../../lambdas/shared/zendesk/http.js';
import { failure, sendJson, startServer, testClient, ticket, type TestServer } from './helpers.js';

let server: TestServer;
afterEach(async () => server?.close());

describe('rate limits', () => {
  it('waits a short Retry-After in-process, then succeeds', async () => {
    const answeredAt: number[] = [];
    server = await startServer((_req, res, index) => {
      answeredAt.push(Date.now());
      if (index === 0) return sendJson(res, 429, {}, { 'retry-after': '1' });
      sendJson(res, 200, ticket(1, []));
    });
    const result = await testClient(server.origin).getTicket('1');
    expect(result.id).toBe(1);
    expect(server.requests).toHaveLength(2);
    const [first = 0, second = 0] = answeredAt;
    expect(second - first).toBeGreaterThanOrEqual(900); // Retry-After: 1 honoured (ms-scale backoff would be ~1 ms)
  });

  it('a Retry-After above the in-process ceiling is ZendeskRateLimited with its seconds, without waiting', async () => {
    server = await startServer((_req, res) => sendJson(res, 429, {}, { 'retry-after': '42' }));
    const started = Date.now();
    const error = await failure(testClient(server.origin, { maxInProcessRetryAfterSeconds: 10 }).getTicket('1'));
    expect(error).toBeInstanceOf(ZendeskRateLimited);
    expect(error.retryAfterSeconds).toBe(42);
    expect(error.message).toContain('429');
    expect(server.requests).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('a 503 with a long Retry-After is ZendeskRateLimited too', async () => {
    server = await startServer((_req, res) => sendJson(res, 503, {}, { 'retry-after': '300' }));
    const error = await failure(testClient(server.origin).getTicket('1'));
    expect(error).toBeInstanceOf(ZendeskRateLimited);
    expect(error.retryAfterSeconds).toBe(300);
  });

  it('Retry-After is read as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-08-17T07:00:00Z');
    expect(retryAfterSeconds(new Headers({ 'retry-after': '7' }), now)).toBe(7);
    expect(retryAfterSeconds(new Headers({ 'retry-after': 'Mon, 17 Aug 2026 07:01:30 GMT' }), now)).toBe(90);
    expect(retryAfterSeconds(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(retryAfterSeconds(new Headers(), now)).toBeUndefined();
  });
});

describe('server and network failures', () => {
  it('retries a burst of 500s, then succeeds', async () => {
    server = await startServer((_req, res, index) => (index < 2 ? sendJson(res, 500, {}) : sendJson(res, 200, ticket(1, []))));
    expect((await testClient(server.origin).getTicket('1')).id).toBe(1);
    expect(server.requests).toHaveLength(3);
  });

  it('a persistent 503 is ZendeskUnavailable after the retry limit', async () => {
    server = await startServer((_req, res) => sendJson(res, 503, {}));
    const error = await failure(testClient(server.origin, { retry: { limit: 2, baseDelayMs: 1, maxDelayMs: 2 } }).getTicket('1'));
    expect(error).toBeInstanceOf(ZendeskUnavailable);
    expect(error.message).toBe('getTicket ticket 1: Zendesk answered 503');
    expect(server.requests).toHaveLength(3);
  });

  it('retries a connection reset (ECONNRESET), GET and PUT alike', async () => {
    server = await startServer((req, res, index) => {
      if (index % 2 === 0) {
        res.socket?.resetAndDestroy(); // TCP RST: the client sees ECONNRESET
        return;
      }
      if (req.method === 'GET') return sendJson(res, 200, ticket(1, ['a']));
      sendJson(res, 200, ticket(1, ['a', 'b']));
    });
    const client = testClient(server.origin);
    expect(await client.updateTags('1', { add: ['b'] })).toEqual({ tags: ['a', 'b'], changed: true });
    expect(server.requests.map((r) => r.method)).toEqual(['GET', 'GET', 'PUT', 'PUT']);
  });

  it('a connection that keeps failing is ZendeskUnavailable', async () => {
    server = await startServer((_req, res) => {
      res.socket?.resetAndDestroy();
    });
    const error = await failure(testClient(server.origin).getTicket('1'));
    expect(error).toBeInstanceOf(ZendeskUnavailable);
    expect(error.message).not.toContain('127.0.0.1');
    expect(server.requests).toHaveLength(4);
  });

  it('retries a raw socket error thrown by a custom fetch', async () => {
    let calls = 0;
    const flakyFetch: typeof fetch = async () => {
      calls += 1;
      if (calls === 1) throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
      return new Response(JSON.stringify(ticket(1, [])), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const client = testClient('https://acme.zendesk.com', { fetch: flakyFetch });
    expect((await client.getTicket('1')).id).toBe(1);
    expect(calls).toBe(2);
  });

  it('an unexpected 4xx is ZendeskRequestFailed with its status, and is not retried', async () => {
    server = await startServer((_req, res) => sendJson(res, 400, { error: 'InvalidValue' }));
    const error = await failure(testClient(server.origin).getTicket('1'));
    expect(error).toBeInstanceOf(ZendeskRequestFailed);
    expect(error.status).toBe(400);
    expect(server.requests).toHaveLength(1);
  });
});

import { afterEach, describe, expect, it } from '@jest/globals';
import { TicketClosed, TicketNotFound, UpdateConflict } from '../../../../lambdas/shared/errors.js';
import { applyTagChange } from '../../../../lambdas/shared/zendesk/client.js';
import { failure, sendJson, startServer, testClient, ticket, type TestServer } from './helpers.js';

let server: TestServer;
afterEach(async () => server?.close());

/**
 * A ticket with safe-update semantics: PUT /api/v2/tickets/7 (Update Ticket) with `ticket.tags` applies only when
 * `ticket.updated_stamp` equals the ticket's updated_at.
 * `interfere(n)` lets a test change the ticket behind the client's back before the n-th write.
 */
function taggedTicket(initial: string[], options: { status?: string; interfere?: (write: number) => boolean; closedAnswer?: boolean } = {}) {
  const state = { tags: [...initial], version: 1 };
  const stamp = () => `2026-08-17T07:34:${String(state.version).padStart(2, '0')}Z`;
  let writes = 0;
  return {
    state,
    handler: (req: { method: string; path: string; json: unknown }, res: Parameters<typeof sendJson>[0]) => {
      if (req.method === 'GET' && req.path === '/api/v2/tickets/7') {
        sendJson(res, 200, ticket(7, state.tags, stamp(), options.status ?? 'open'));
        return;
      }
      if (req.method === 'PUT' && req.path === '/api/v2/tickets/7') {
        writes += 1;
        if (options.closedAnswer) {
          sendJson(res, 422, { error: 'RecordInvalid', details: { status: [{ description: 'Status: closed prevents ticket update' }] } });
          return;
        }
        if (options.interfere?.(writes)) {
          state.tags.push(`other-${writes}`);
          state.version += 1;
        }
        const body = (req.json as { ticket: { tags: string[]; updated_stamp: string; safe_update: boolean } }).ticket;
        if (body.safe_update !== true || body.updated_stamp !== stamp()) {
          sendJson(res, 409, { error: 'UpdateConflict', description: 'Ticket was updated' });
          return;
        }
        state.tags = body.tags;
        state.version += 1;
        sendJson(res, 200, { ticket: ticket(7, state.tags, stamp(), options.status ?? 'open').ticket });
        return;
      }
      sendJson(res, 404, { error: 'InvalidEndpoint' });
    },
  };
}

describe('applyTagChange', () => {
  it('keeps order, drops removed tags and appends missing ones once', () => {
    expect(applyTagChange(['a', 'vault_archive', 'b'], { add: ['vault_processing', 'b', 'vault_processing'], remove: ['vault_archive'] })).toEqual([
      'a',
      'b',
      'vault_processing',
    ]);
    expect(applyTagChange(['a'], {})).toEqual(['a']);
  });
});

describe('updateTags', () => {
  it('writes nothing when the set would not change', async () => {
    const zd = taggedTicket(['a', 'vault_processing']);
    server = await startServer((req, res) => zd.handler(req, res));
    const result = await testClient(server.origin).updateTags('7', { add: ['vault_processing'], remove: ['vault_archive'] });
    expect(result).toEqual({ tags: ['a', 'vault_processing'], changed: false });
    expect(server.requests.map((r) => r.method)).toEqual(['GET']);
  });

  it('replaces the set in one conflict-safe Update Ticket (PUT ticket.tags with safe_update and updated_stamp)', async () => {
    const zd = taggedTicket(['a', 'vault_archive']);
    server = await startServer((req, res) => zd.handler(req, res));
    const result = await testClient(server.origin).updateTags('7', { add: ['vault_processing'], remove: ['vault_archive'] });
    expect(result).toEqual({ tags: ['a', 'vault_processing'], changed: true });
    const writes = server.requests.filter((r) => r.method !== 'GET');
    expect(writes).toHaveLength(1);
    expect([writes[0]?.method, writes[0]?.path]).toEqual(['PUT', '/api/v2/tickets/7']);
    expect(writes[0]?.json).toEqual({ ticket: { tags: ['a', 'vault_processing'], updated_stamp: '2026-08-17T07:34:01Z', safe_update: true } });
    expect(zd.state.tags).toEqual(['a', 'vault_processing']);
  });

  it('on 409 re-reads the ticket and retries, keeping the tag another writer added', async () => {
    const zd = taggedTicket(['a'], { interfere: (write) => write === 1 });
    server = await startServer((req, res) => zd.handler(req, res));
    const result = await testClient(server.origin).updateTags('7', { add: ['vault_archived'] });
    expect(result.changed).toBe(true);
    expect(zd.state.tags).toEqual(['a', 'other-1', 'vault_archived']);
    expect(server.requests.map((r) => r.method)).toEqual(['GET', 'PUT', 'GET', 'PUT']);
  });

  it('uses a ticket the caller just read instead of reading it again; a 409 still re-reads', async () => {
    const zd = taggedTicket(['a'], { interfere: (write) => write === 1 });
    server = await startServer((req, res) => zd.handler(req, res));
    const client = testClient(server.origin);
    const fresh = await client.getTicket('7');
    server.requests.length = 0;
    const result = await client.updateTags('7', { add: ['vault_archived'] }, { ticket: fresh });
    expect(result.changed).toBe(true);
    expect(zd.state.tags).toEqual(['a', 'other-1', 'vault_archived']);
    expect(server.requests.map((r) => r.method)).toEqual(['PUT', 'GET', 'PUT']);
  });

  it('treats a 409 DatabaseConflict as transient and retries', async () => {
    let posts = 0;
    server = await startServer((req, res) => {
      if (req.method === 'GET') return sendJson(res, 200, ticket(7, ['a']));
      posts += 1;
      if (posts === 1) return sendJson(res, 409, { error: 'DatabaseConflict', description: 'Database collision' });
      return sendJson(res, 200, ticket(7, ['a', 'b']));
    });
    expect(await testClient(server.origin).updateTags('7', { add: ['b'] })).toEqual({ tags: ['a', 'b'], changed: true });
    expect(posts).toBe(2);
  });

  it('gives up with UpdateConflict after the configured rounds', async () => {
    const zd = taggedTicket(['a'], { interfere: () => true });
    server = await startServer((req, res) => zd.handler(req, res));
    const error = await failure(testClient(server.origin, { retry: { conflictRetries: 2, conflictDelayMs: 1 } }).updateTags('7', { add: ['b'] }));
    expect(error).toBeInstanceOf(UpdateConflict);
    expect(server.requests.filter((r) => r.method === 'PUT')).toHaveLength(3);
  });

  it('422 (a closed ticket refuses updates) is TicketClosed', async () => {
    const zd = taggedTicket(['a'], { closedAnswer: true });
    server = await startServer((req, res) => zd.handler(req, res));
    expect(await failure(testClient(server.origin).updateTags('7', { add: ['b'] }))).toBeInstanceOf(TicketClosed);
  });

  it('a ticket read as closed is TicketClosed without a write', async () => {
    const zd = taggedTicket(['a'], { status: 'closed' });
    server = await startServer((req, res) => zd.handler(req, res));
    expect(await failure(testClient(server.origin).updateTags('7', { add: ['b'] }))).toBeInstanceOf(TicketClosed);
    expect(server.requests.filter((r) => r.method === 'PUT')).toHaveLength(0);
  });

  it('404 is TicketNotFound', async () => {
    server = await startServer((_req, res) => sendJson(res, 404, { error: 'RecordNotFound', description: 'Not found' }));
    expect(await failure(testClient(server.origin).updateTags('7', { add: ['b'] }))).toBeInstanceOf(TicketNotFound);
  });
});

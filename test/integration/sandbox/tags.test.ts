import { startSandboxZendesk, type SandboxZendesk } from '../../../local/sandbox/zendesk.js';
import { call } from './support.js';

let sandbox: SandboxZendesk;

beforeAll(async () => {
  sandbox = await startSandboxZendesk();
});
afterAll(() => sandbox.close());

type Tags = { tags: string[] };

describe('Update Ticket (PUT /api/v2/tickets/{id})', () => {
  test('ticket.tags replaces the set; with safe_update a stale updated_stamp is 409 and changes nothing; the answer is the ticket', async () => {
    const t = sandbox.createTicket({ tags: ['a'] });
    const path = `/api/v2/tickets/${t.id}`;
    const ok = await call<{ ticket: { tags: string[]; updated_at: string } }>(sandbox, 'PUT', path, { body: { ticket: { tags: ['b', 'c'], safe_update: true, updated_stamp: t.updated_at } } });
    expect([ok.status, ok.body.ticket.tags]).toEqual([200, ['b', 'c']]);
    expect(Date.parse(ok.body.ticket.updated_at)).toBeGreaterThan(Date.parse(t.updated_at));
    const stale = await call(sandbox, 'PUT', path, { body: { ticket: { tags: ['d'], safe_update: true, updated_stamp: t.updated_at } } });
    expect(stale.status).toBe(409);
    expect(sandbox.ticket(t.id)?.tags).toEqual(['b', 'c']);
  });

  test('a closed ticket refuses the update (422) and spends a per-ticket update', async () => {
    const t = sandbox.createTicket({ status: 'closed', tags: ['a'] });
    const before = sandbox.ticketUpdateBudget(t.id).remaining;
    expect((await call(sandbox, 'PUT', `/api/v2/tickets/${t.id}`, { body: { ticket: { tags: ['b'] } } })).status).toBe(422);
    expect(sandbox.ticket(t.id)?.tags).toEqual(['a']);
    expect(sandbox.ticketUpdateBudget(t.id).remaining).toBe(before - 1);
  });
});

describe('tags', () => {
  test('PUT adds, POST replaces (201), DELETE removes by query or by JSON body, GET lists', async () => {
    const { id } = sandbox.createTicket({ tags: ['a', 'b'] });
    const path = `/api/v2/tickets/${id}/tags`;
    expect((await call<Tags>(sandbox, 'PUT', path, { body: { tags: ['c', 'a'] } })).body.tags).toEqual(['a', 'b', 'c']);
    const replaced = await call<Tags>(sandbox, 'POST', path, { body: { tags: ['x', 'y', 'z'] } });
    expect([replaced.status, replaced.body.tags]).toEqual([201, ['x', 'y', 'z']]);
    expect((await call<Tags>(sandbox, 'DELETE', `${path}?tags=x,y`)).body.tags).toEqual(['z']);
    await call(sandbox, 'PUT', path, { body: { tags: ['w'] } });
    expect((await call<Tags>(sandbox, 'DELETE', path, { body: { tags: ['z'] } })).body.tags).toEqual(['w']);
    expect((await call<Tags>(sandbox, 'GET', `${path}.json`)).body.tags).toEqual(['w']);
    expect(sandbox.ticket(id)?.tags).toEqual(['w']);
  });

  test('every write moves updated_at forward, even two writes in the same second', async () => {
    const t = sandbox.createTicket();
    const path = `/api/v2/tickets/${t.id}/tags`;
    await call(sandbox, 'PUT', path, { body: { tags: ['one'] } });
    const first = sandbox.ticket(t.id)?.updated_at as string;
    await call(sandbox, 'PUT', path, { body: { tags: ['two'] } });
    const second = sandbox.ticket(t.id)?.updated_at as string;
    expect(Date.parse(first)).toBeGreaterThan(Date.parse(t.updated_at));
    expect(Date.parse(second)).toBeGreaterThan(Date.parse(first));
  });

  test('safe_update with the current updated_stamp applies; a stale stamp is 409 UpdateConflict', async () => {
    const t = sandbox.createTicket({ tags: ['keep'] });
    const path = `/api/v2/tickets/${t.id}/tags`;
    const ok = await call<Tags>(sandbox, 'POST', path, { body: { tags: ['v1'], safe_update: 'true', updated_stamp: t.updated_at } });
    expect(ok.status).toBe(201);
    const stale = await call(sandbox, 'PUT', path, { body: { tags: ['v2'], safe_update: true, updated_stamp: t.updated_at } });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ error: 'UpdateConflict' });
    // Another actor's update makes a freshly read stamp stale too.
    const fresh = sandbox.ticket(t.id)?.updated_at as string;
    sandbox.touchTicket(t.id);
    const raced = await call(sandbox, 'DELETE', path, { body: { tags: ['v1'], safe_update: 'true', updated_stamp: fresh } });
    expect(raced.status).toBe(409);
    expect(sandbox.ticket(t.id)?.tags).toEqual(['v1']);
  });

  test('a closed ticket refuses tag writes with 422 RecordInvalid, but still lists its tags', async () => {
    const t = sandbox.createTicket({ status: 'closed', tags: ['old'] });
    const refused = await call(sandbox, 'PUT', `/api/v2/tickets/${t.id}/tags`, { body: { tags: ['new'] } });
    expect(refused.status).toBe(422);
    expect(refused.body).toEqual({
      error: 'RecordInvalid',
      description: 'Record validation errors',
      details: { status: [{ description: 'Status: closed prevents ticket update' }] },
    });
    expect((await call<Tags>(sandbox, 'GET', `/api/v2/tickets/${t.id}/tags`)).body.tags).toEqual(['old']);
  });

  test('tag writes on an unknown ticket are 404', async () => {
    expect((await call(sandbox, 'PUT', '/api/v2/tickets/424242/tags', { body: { tags: ['x'] } })).status).toBe(404);
  });
});

describe('per-ticket update budget', () => {
  test('30 updates per 10-minute window, each answer carrying zendesk-ratelimit-per-ticket-updates', async () => {
    const { id } = sandbox.createTicket();
    const path = `/api/v2/tickets/${id}/tags`;
    const first = await call(sandbox, 'PUT', path, { body: { tags: ['t0'] } });
    expect(first.headers.get('zendesk-ratelimit-per-ticket-updates')).toMatch(/^total=30; remaining=29; resets=\d+$/);
    for (let i = 1; i < 30; i++) expect((await call(sandbox, 'PUT', path, { body: { tags: [`t${i}`] } })).status).toBe(200);
    const limited = await call(sandbox, 'PUT', path, { body: { tags: ['over'] } });
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(600);
    expect(limited.headers.get('zendesk-ratelimit-per-ticket-updates')).toBe(`total=30; remaining=0; resets=${retryAfter}`);
    expect(sandbox.ticket(id)?.tags).not.toContain('over');
    // Reads are not ticket updates; another ticket has its own budget.
    expect((await call(sandbox, 'GET', `/api/v2/tickets/${id}`)).status).toBe(200);
    const other = sandbox.createTicket();
    expect((await call(sandbox, 'PUT', `/api/v2/tickets/${other.id}/tags`, { body: { tags: ['x'] } })).status).toBe(200);
    // After Retry-After seconds the window has reset.
    sandbox.advanceClock(retryAfter);
    expect((await call(sandbox, 'PUT', path, { body: { tags: ['again'] } })).status).toBe(200);
  });

  test('the limit is configurable and shared by tag writes and redactions', async () => {
    const small = await startSandboxZendesk({ perTicketUpdateLimit: 2 });
    try {
      const t = small.createTicket();
      const c = small.addComment(t.id, { attachments: [{ fileName: 'a.txt', contentType: 'text/plain', data: Buffer.from('a') }] });
      expect((await call(small, 'PUT', `/api/v2/tickets/${t.id}/tags`, { body: { tags: ['x'] } })).status).toBe(200);
      const redaction = await call(small, 'PUT', `/api/v2/comment_redactions/${c.id}`, {
        body: { ticket_id: t.id, external_attachment_urls: [c.attachments[0]?.contentUrl] },
      });
      expect(redaction.headers.get('zendesk-ratelimit-per-ticket-updates')).toMatch(/remaining=0/);
      expect((await call(small, 'PUT', `/api/v2/tickets/${t.id}/tags`, { body: { tags: ['y'] } })).status).toBe(429);
      expect(small.ticketUpdateBudget(t.id)).toMatchObject({ total: 2, remaining: 0 });
    } finally {
      await small.close();
    }
  });
});

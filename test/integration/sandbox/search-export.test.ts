import { startSandboxZendesk, type SandboxZendesk, type TicketSeed } from '../../../local/sandbox/zendesk.js';
import { call } from './support.js';

/** Export Search Results as the sandbox answers it, and the archived state around it. */

interface ExportPage {
  results: Array<{ id: number; created_at: string; result_type: string; status: string }>;
  facets: null;
  meta: { has_more: boolean; after_cursor: string | null; before_cursor: string | null };
  links: { prev: string | null; next: string | null };
}

/** A fixed sandbox clock (advanceClock moves it): 2026-09-01T12:00:30Z, 30 s into its minute. */
const NOW = Date.parse('2026-09-01T12:00:30Z');

let sandbox: SandboxZendesk;

beforeAll(async () => {
  // The clock stands still, so every request falls in one minute: Export Search's own limit is raised here and tested
  // in rate-limits.test.ts.
  sandbox = await startSandboxZendesk({ now: () => NOW, exportSearchRateLimit: 100_000 });
});
afterAll(() => sandbox.close());

function exportPath(query: string, extra: Record<string, string> = { 'filter[type]': 'ticket' }): string {
  return `/api/v2/search/export?${new URLSearchParams({ query, ...extra }).toString()}`;
}

async function exportAll(query: string, size = 100): Promise<{ ids: number[]; pages: number }> {
  const ids: number[] = [];
  let path = exportPath(query, { 'filter[type]': 'ticket', 'page[size]': String(size) });
  for (let pages = 1; ; pages++) {
    const page = await call<ExportPage>(sandbox, 'GET', path);
    expect(page.status).toBe(200);
    ids.push(...page.body.results.map((r) => r.id));
    if (!page.body.meta.has_more) return { ids, pages };
    path = page.body.links.next!;
  }
}

/** Tickets under a tag of their own, so that each test sees only what it seeded. */
function seed(tag: string, seeds: TicketSeed[], withFile: (index: number) => boolean = () => true): number[] {
  return seeds.map((s, index) => {
    const t = sandbox.createTicket({ ...s, tags: [tag, ...(s.tags ?? [])] });
    if (withFile(index)) sandbox.addComment(t.id, { attachments: [{ fileName: 'a.pdf', contentType: 'application/pdf', data: Buffer.from('%PDF') }] });
    else sandbox.addComment(t.id, { body: 'no file' });
    return t.id;
  });
}

describe('GET /api/v2/search/export', () => {
  test('answers the OpenAPI shape: results (result_type ticket), facets null, meta, links.prev null, no count', async () => {
    const [id] = seed('shape', [{ createdAt: '2024-03-01T10:00:00Z' }]);
    const page = await call<ExportPage & { count?: number }>(sandbox, 'GET', exportPath('tags:shape'));
    expect(page.status).toBe(200);
    expect(page.body.results).toEqual([expect.objectContaining({ id, result_type: 'ticket', created_at: '2024-03-01T10:00:00Z' })]);
    expect(page.body.facets).toBeNull();
    expect(page.body.meta).toEqual({ has_more: false, after_cursor: expect.any(String), before_cursor: null });
    expect(page.body.links.prev).toBeNull();
    expect(page.body).not.toHaveProperty('count');
    expect(page.headers.get('x-rate-limit')).toBe('700');
  });

  test('filter[type] is required, only ticket is modelled, and type: in the query is an error', async () => {
    const missing = await call(sandbox, 'GET', exportPath('tags:shape', {}));
    expect([missing.status, missing.body]).toEqual([400, { error: 'invalid', description: 'filter[type] is required' }]);
    expect((await call(sandbox, 'GET', exportPath('tags:shape', { 'filter[type]': 'user' }))).status).toBe(400);
    const typed = await call<{ error: string; description: string }>(sandbox, 'GET', exportPath('type:ticket tags:shape'));
    expect([typed.status, typed.body.error]).toEqual([400, 'invalid']);
    expect(typed.body.description).toContain('filter[type]');
    expect((await call(sandbox, 'GET', exportPath(''))).status).toBe(400);
  });

  test('page[size] defaults to 100 and may be 1 to 1,000', async () => {
    seed('sizes', Array.from({ length: 120 }, (_, i) => ({ createdAt: Date.parse('2023-01-01T00:00:00Z') + i * 1000 })));
    const first = await call<ExportPage>(sandbox, 'GET', exportPath('tags:sizes'));
    expect([first.body.results.length, first.body.meta.has_more]).toEqual([100, true]);
    const big = await call<ExportPage>(sandbox, 'GET', exportPath('tags:sizes', { 'filter[type]': 'ticket', 'page[size]': '1000' }));
    expect([big.body.results.length, big.body.meta.has_more]).toEqual([120, false]);
    for (const size of ['0', '1001', 'ten']) {
      const refused = await call(sandbox, 'GET', exportPath('tags:sizes', { 'filter[type]': 'ticket', 'page[size]': size }));
      expect(refused.status).toBe(400);
    }
  });

  test('pages in created_at order (then id), each ticket once, following links.next until has_more is false', async () => {
    const base = Date.parse('2022-05-01T00:00:00Z');
    // Created out of order, several in the same second.
    const ids = seed('order', Array.from({ length: 57 }, (_, i) => ({ createdAt: base + ((i * 37) % 19) * 1000 })));
    const expected = [...ids].sort((a, b) => {
      const at = (id: number) => Date.parse(sandbox.ticket(id)!.created_at);
      return at(a) - at(b) || a - b;
    });
    const { ids: exported, pages } = await exportAll('tags:order', 10);
    expect(exported).toEqual(expected);
    expect(pages).toBe(6);
  });

  test('the last page keeps an after_cursor and links.next (stop on has_more); following it gives an empty last page', async () => {
    seed('last', [{ createdAt: '2021-01-01T00:00:00Z' }, { createdAt: '2021-01-01T00:00:01Z' }]);
    const page = await call<ExportPage>(sandbox, 'GET', exportPath('tags:last', { 'filter[type]': 'ticket', 'page[size]': '2' }));
    expect(page.body.meta.has_more).toBe(false);
    expect(page.body.links.next).toContain('page%5Bafter%5D=');
    const after = await call<ExportPage>(sandbox, 'GET', page.body.links.next!);
    expect(after.body).toMatchObject({ results: [], meta: { has_more: false, after_cursor: null }, links: { next: null } });
  });

  test('the cursor is bound to its query and lives one hour from the first page (sandbox clock)', async () => {
    seed('ttl', Array.from({ length: 3 }, (_, i) => ({ createdAt: Date.parse('2020-02-02T00:00:00Z') + i * 1000 })));
    const first = await call<ExportPage>(sandbox, 'GET', exportPath('tags:ttl', { 'filter[type]': 'ticket', 'page[size]': '1' }));
    const cursor = first.body.meta.after_cursor!;
    expect(JSON.parse(Buffer.from(cursor, 'base64').toString('utf8'))).toMatchObject({ field: 'created_at', tieBreakField: 'id', desc: false });
    const foreign = await call(sandbox, 'GET', exportPath('tags:other', { 'filter[type]': 'ticket', 'page[after]': cursor }));
    expect(foreign.status).toBe(400);
    const garbage = await call(sandbox, 'GET', exportPath('tags:ttl', { 'filter[type]': 'ticket', 'page[after]': 'not-a-cursor' }));
    expect(garbage.status).toBe(400);

    sandbox.advanceClock(59 * 60);
    const second = await call<ExportPage>(sandbox, 'GET', first.body.links.next!);
    expect(second.status).toBe(200);
    // The hour runs from the export's first page, not from the newest cursor.
    sandbox.advanceClock(2 * 60);
    const stale = await call<{ error: string; description: string }>(sandbox, 'GET', second.body.links.next!);
    expect([stale.status, stale.body.error]).toEqual([400, 'invalid']);
    expect(stale.body.description).toContain('expired');
    const restarted = await call<ExportPage>(sandbox, 'GET', exportPath('tags:ttl'));
    expect(restarted.body.results).toHaveLength(3);
  });

  test('archived, closed and solved tickets are exported; deleted ones are not', async () => {
    const [open, solved, closed, archived, deleted] = seed('states', [
      { status: 'open', createdAt: '2019-01-01T00:00:00Z' },
      { status: 'solved', createdAt: '2019-01-01T00:00:01Z' },
      { status: 'closed', createdAt: '2019-01-01T00:00:02Z' },
      { archived: true, createdAt: '2019-01-01T00:00:03Z' },
      { createdAt: '2019-01-01T00:00:04Z' },
    ]);
    sandbox.deleteTicket(deleted!);
    expect((await exportAll('tags:states')).ids).toEqual([open, solved, closed, archived]);
  });
});

describe('query terms', () => {
  const ids: Record<string, number> = {};

  beforeAll(() => {
    const rows: Array<[string, TicketSeed, boolean]> = [
      ['a', { status: 'new', createdAt: '2024-01-01T00:00:00Z', tags: ['vip'], brandId: 11 }, true],
      ['b', { status: 'open', createdAt: '2024-01-01T23:59:59Z', tags: ['vip', 'gold'], brandId: 22 }, true],
      ['c', { status: 'pending', createdAt: '2024-01-02T00:00:00Z', tags: ['gold'], brandId: 11 }, false],
      ['d', { status: 'solved', createdAt: '2024-01-03T12:00:00Z', brandId: 22 }, true],
      ['e', { status: 'closed', createdAt: '2024-01-04T00:00:00Z', tags: ['vip'], brandId: 11 }, true],
      ['f', { archived: true, createdAt: '2024-01-05T00:00:00Z', brandId: 33 }, false],
    ];
    const created = rows.map(([, s], i) => {
      const t = sandbox.createTicket(s);
      sandbox.addComment(t.id, rows[i]![2] ? { attachments: [{ fileName: 'a.pdf', contentType: 'application/pdf', data: Buffer.from('%PDF') }] } : { body: 'no file' });
      return t.id;
    });
    rows.forEach(([name], i) => (ids[name] = created[i]!));
  });

  // The six tickets are the only ones created in those days; a tag would not do as the scope (tags:x tags:y is x or y).
  const SCOPE = 'created>=2024-01-01T00:00:00Z created<2024-01-06T00:00:00Z';
  const names = async (query: string): Promise<string> => {
    const { ids: exported } = await exportAll(`${SCOPE} ${query}`);
    return exported.map((id) => Object.keys(ids).find((k) => ids[k] === id)).join('');
  };

  test.each([
    ['has_attachment:true', 'abde'],
    ['has_attachment:false', 'cf'],
    ['created>=2024-01-02', 'cdef'],
    ['created>2024-01-02', 'def'],
    ['created<2024-01-02', 'ab'],
    ['created<=2024-01-02', 'abc'],
    ['created:2024-01-01', 'ab'],
    ['created>=2024-01-01T23:59:59Z created<2024-01-03T12:00:00Z', 'bc'],
    ['created>2024-01-01T23:59:59Z', 'cdef'],
    ['created<=2024-01-03T13:00:00+01:00', 'abcd'],
    ['tags:gold', 'bc'],
    ['tags:"gold"', 'bc'],
    ['tags:"vip gold"', 'b'],
    ['tags:vip tags:gold', 'abce'],
    ['-tags:vip', 'cdf'],
    ['status:closed', 'ef'],
    ['status<solved', 'abc'],
    ['status<=solved', 'abcd'],
    ['status>=solved', 'def'],
    ['status:open status:pending', 'bc'],
    ['brand:11', 'ace'],
    ['brand_id:22', 'bd'],
    ['brand:22 status:solved has_attachment:true', 'd'],
  ])('%s → %s', async (query, expected) => {
    expect(await names(query)).toBe(expected);
  });

  test.each([['hello'], ['subject:invoice'], ['created>4hours'], ['status:done'], ['brand:"Banana Republic"'], ['has_attachment:yes'], ['tags:"open']])(
    '%s is refused with 400 (not modelled, or not valid)',
    async (query) => {
      const refused = await call<{ error: string }>(sandbox, 'GET', exportPath(`${SCOPE} ${query}`));
      expect([refused.status, refused.body.error]).toEqual([400, 'invalid']);
    },
  );
});

describe('archived tickets', () => {
  test('archiveTicket closes and archives: List Tickets leaves it out; Show Ticket and List Comments answer; updates are refused', async () => {
    const t = sandbox.createTicket({ status: 'solved', tags: ['arch'] });
    sandbox.addComment(t.id, { attachments: [{ fileName: 'x.txt', contentType: 'text/plain', data: Buffer.from('x') }] });
    const listed = async (): Promise<number[]> => {
      const ids: number[] = [];
      let path = '/api/v2/tickets?page[size]=100';
      for (;;) {
        const page = await call<{ tickets: Array<{ id: number }>; meta: { has_more: boolean }; links: { next: string } }>(sandbox, 'GET', path);
        ids.push(...page.body.tickets.map((x) => x.id));
        if (!page.body.meta.has_more) return ids;
        path = page.body.links.next;
      }
    };
    expect(await listed()).toContain(t.id);

    const view = sandbox.archiveTicket(t.id);
    expect(view).toMatchObject({ status: 'closed', archived: true });
    expect(await listed()).not.toContain(t.id);
    const shown = await call<{ ticket: { status: string } }>(sandbox, 'GET', `/api/v2/tickets/${t.id}`);
    expect([shown.status, shown.body.ticket.status]).toEqual([200, 'closed']);
    const comments = await call<{ comments: Array<{ attachments: unknown[] }> }>(sandbox, 'GET', `/api/v2/tickets/${t.id}/comments?page[size]=100`);
    expect(comments.body.comments[0]?.attachments).toHaveLength(1);
    expect((await call(sandbox, 'PUT', `/api/v2/tickets/${t.id}/tags`, { body: { tags: ['y'] } })).status).toBe(422);
    expect((await call(sandbox, 'PUT', `/api/v2/tickets/${t.id}`, { body: { ticket: { status: 'open' } } })).status).toBe(422);
    expect((await exportAll('tags:arch')).ids).toEqual([t.id]);
  });

  test('comment_redactions works on an archived ticket', async () => {
    const t = sandbox.createTicket({ archived: true });
    const c = sandbox.addComment(t.id, { attachments: [{ fileName: 'y.pdf', contentType: 'application/pdf', data: Buffer.from('y') }] });
    const redacted = await call(sandbox, 'PUT', `/api/v2/comment_redactions/${c.id}`, {
      body: { ticket_id: t.id, external_attachment_urls: [c.attachments[0]!.contentUrl] },
    });
    expect(redacted.status).toBe(200);
    expect(sandbox.attachment(c.attachments[0]!.id)?.state).toBe('redacted');
  });

  test('an archived seed with another status is a seeding error', () => {
    expect(() => sandbox.createTicket({ archived: true, status: 'open' })).toThrow('archived');
  });
});

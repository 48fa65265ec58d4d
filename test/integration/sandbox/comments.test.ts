import { readFileSync } from 'node:fs';
import { startSandboxZendesk, type SandboxZendesk } from '../../../local/sandbox/zendesk.js';
import { call, type CallResult, type ListedComment } from './support.js';

const recorded = JSON.parse(
  readFileSync(new URL('../../fixtures/zendesk/comments-list-cursor.json', import.meta.url), 'utf8'),
) as { response: { body: { comments: Array<Record<string, unknown> & { attachments: Array<Record<string, unknown>> }> } } };

interface Page {
  comments: ListedComment[];
  meta: { has_more: boolean; after_cursor: string | null; before_cursor: string | null };
  links: { prev: string | null; next: string | null };
}

let sandbox: SandboxZendesk;

beforeAll(async () => {
  sandbox = await startSandboxZendesk();
});
afterAll(() => sandbox.close());

describe('tickets', () => {
  test('GET /api/v2/tickets/{id} answers {ticket} with status, updated_at and tags, with or without .json', async () => {
    const t = sandbox.createTicket({ status: 'pending', tags: ['vault_archive'] });
    const plain = await call<{ ticket: Record<string, unknown> }>(sandbox, 'GET', `/api/v2/tickets/${t.id}`);
    const suffixed = await call<{ ticket: Record<string, unknown> }>(sandbox, 'GET', `/api/v2/tickets/${t.id}.json`);
    expect(plain.status).toBe(200);
    expect(plain.body.ticket).toMatchObject({ id: t.id, status: 'pending', tags: ['vault_archive'], updated_at: t.updated_at });
    expect(t.updated_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(suffixed.body).toEqual(plain.body);
    expect(plain.headers.get('x-rate-limit')).toBe('700');
    expect(plain.headers.get('ratelimit-remaining')).toMatch(/^\d+$/);
  });

  test('an unknown or deleted ticket is 404 RecordNotFound', async () => {
    const t = sandbox.createTicket();
    sandbox.deleteTicket(t.id);
    for (const id of [t.id, 987654]) {
      const result = await call(sandbox, 'GET', `/api/v2/tickets/${id}`);
      expect([result.status, result.body]).toEqual([404, { error: 'RecordNotFound', description: 'Not found' }]);
    }
  });
});

describe('List Comments', () => {
  let ticketId: number;

  beforeAll(() => {
    ticketId = sandbox.createTicket().id;
    // 150 comments with one file each; every 10th also carries an inline image.
    for (let i = 0; i < 150; i++) {
      sandbox.addComment(ticketId, {
        body: `comment ${i}`,
        attachments: [
          { fileName: `scan-${i}.pdf`, contentType: 'application/pdf', data: Buffer.from(`file ${i}`) },
          ...(i % 10 === 0 ? [{ fileName: `inline-${i}.png`, contentType: 'image/png', data: Buffer.from('png'), inline: true }] : []),
        ],
      });
    }
  });

  async function allPages(first: string): Promise<Page[]> {
    const pages: Page[] = [];
    for (let url: string | null = first; url; ) {
      const result: CallResult<Page> = await call<Page>(sandbox, 'GET', url);
      expect(result.status).toBe(200);
      pages.push(result.body);
      url = result.body.meta.has_more ? result.body.links.next : null;
    }
    return pages;
  }

  test('cursor pages follow links.next until meta.has_more is false; the last page still has links.next', async () => {
    const pages = await allPages(`/api/v2/tickets/${ticketId}/comments.json?page[size]=40`);
    expect(pages.map((p) => p.comments.length)).toEqual([40, 40, 40, 30]);
    const last = pages[pages.length - 1] as Page;
    expect(last.meta.has_more).toBe(false);
    expect(last.links.next).not.toBeNull();
    const files = pages.flatMap((p) => p.comments.flatMap((c) => c.attachments));
    expect(files).toHaveLength(150);
    expect(new Set(files.map((a) => a.id)).size).toBe(150);
    // Following the quirky last link yields an empty page.
    const beyond = await call<Page>(sandbox, 'GET', last.links.next as string);
    expect(beyond.body.comments).toEqual([]);
    expect(beyond.body.meta.has_more).toBe(false);
  });

  test('page[size] is at most 100 and defaults to 100; a malformed cursor is 400', async () => {
    const pages = await allPages(`/api/v2/tickets/${ticketId}/comments?page[size]=100`);
    expect(pages.map((p) => p.comments.length)).toEqual([100, 50]);
    const one = await call<Page>(sandbox, 'GET', `/api/v2/tickets/${ticketId}/comments?page[size]=1`);
    const rest = await call<Page>(sandbox, 'GET', `/api/v2/tickets/${ticketId}/comments?page[after]=${encodeURIComponent(one.body.meta.after_cursor as string)}`);
    expect(rest.body.comments).toHaveLength(100);
    expect((await call(sandbox, 'GET', `/api/v2/tickets/${ticketId}/comments?page[size]=101`)).status).toBe(400);
    expect((await call(sandbox, 'GET', `/api/v2/tickets/${ticketId}/comments?page[after]=bm9wZQ==`)).status).toBe(400);
  });

  test('inline attachments are absent unless include_inline_images=true, and the links keep that parameter', async () => {
    const without = await allPages(`/api/v2/tickets/${ticketId}/comments?page[size]=100`);
    const withInline = await allPages(`/api/v2/tickets/${ticketId}/comments?include_inline_images=true&page[size]=100`);
    const count = (pages: Page[]): number => pages.flatMap((p) => p.comments.flatMap((c) => c.attachments)).length;
    expect(count(without)).toBe(150);
    expect(count(withInline)).toBe(165);
    expect(withInline.flatMap((p) => p.comments.flatMap((c) => c.attachments)).filter((a) => a.inline)).toHaveLength(15);
    const next = new URL(withInline[0]?.links.next as string);
    expect(next.searchParams.get('include_inline_images')).toBe('true');
    expect(next.searchParams.get('page[size]')).toBe('100');
    expect(next.searchParams.get('page[after]')).toBe(withInline[0]?.meta.after_cursor);
  });

  test('page[before] walks back from a cursor', async () => {
    const pages = await allPages(`/api/v2/tickets/${ticketId}/comments?page[size]=40`);
    const second = pages[1] as Page;
    const back = await call<Page>(sandbox, 'GET', second.links.prev as string);
    expect(back.body.comments.map((c) => c.id)).toEqual((pages[0] as Page).comments.map((c) => c.id));
  });

  test('comments and attachments carry the recorded fields; content_url is the token URL on the API host', async () => {
    const page = await call<{ comments: Array<Record<string, unknown> & { attachments: Array<Record<string, unknown>> }> }>(
      sandbox,
      'GET',
      `/api/v2/tickets/${ticketId}/comments?page[size]=1`,
    );
    const comment = page.body.comments[0] as (typeof page.body.comments)[number];
    const want = recorded.response.body.comments[0] as (typeof recorded.response.body.comments)[number];
    expect(Object.keys(comment).sort()).toEqual(Object.keys(want).sort());
    const attachment = comment.attachments[0] as Record<string, unknown>;
    expect(Object.keys(attachment).sort()).toEqual(Object.keys(want.attachments[0] as object).sort());
    expect(attachment.content_url).toMatch(new RegExp(`^${sandbox.url}/attachments/token/[A-Za-z0-9]{25}/\\?name=scan-0\\.pdf$`));
    expect(attachment.mapped_content_url).toBe(attachment.content_url);
    expect(attachment.id as number).toBeGreaterThanOrEqual(33144647570963);
  });

  test('without any page parameter the answer is offset-paginated (next_page, count), as Zendesk does', async () => {
    const result = await call<{ comments: unknown[]; next_page: string | null; count: number }>(
      sandbox,
      'GET',
      `/api/v2/tickets/${ticketId}/comments`,
    );
    expect(result.body.comments).toHaveLength(100);
    expect(result.body.count).toBe(150);
    expect(result.body.next_page).toContain('page=2');
    expect(result.body).not.toHaveProperty('meta');
  });

  test('GET /api/v2/attachments/{id} re-reads one attachment; unknown ids are 404', async () => {
    const c = sandbox.addComment(ticketId, { attachments: [{ fileName: 'x.bin', contentType: 'application/octet-stream', data: { size: 10, seed: 1 } }] });
    const id = c.attachments[0]?.id as number;
    const found = await call<{ attachment: Record<string, unknown> }>(sandbox, 'GET', `/api/v2/attachments/${id}.json`);
    expect(found.body.attachment).toMatchObject({ id, file_name: 'x.bin', size: 10, content_url: c.attachments[0]?.contentUrl });
    expect((await call(sandbox, 'GET', '/api/v2/attachments/1')).status).toBe(404);
  });
});

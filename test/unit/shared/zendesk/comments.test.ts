import { afterEach, describe, expect, it } from '@jest/globals';
import { AttachmentGone, HostNotAllowed, InvalidInput, TicketNotFound } from '../../../../lambdas/shared/errors.js';
import type { CommentsPage } from '../../../../lambdas/shared/zendesk/types.js';
import { failure, recording, sendJson, startServer, testClient, ticket, type TestServer } from './helpers.js';

let server: TestServer;
afterEach(async () => server?.close());

const recorded = recording<CommentsPage>('comments-list-cursor.json');
/** The links in the recording point at the recorded account (its own origin, not the request's). */
const RECORDED_ORIGIN = new URL(recorded.response.body.links.next ?? '').origin;

/** The recorded page with its links moved onto the test server, as a real Zendesk would serve them. */
function localPage(origin: string, changes: { hasMore: boolean; commentId?: number }): CommentsPage {
  const body = structuredClone(recorded.response.body);
  const [first] = body.comments;
  if (first && changes.commentId) first.id = changes.commentId;
  body.meta.has_more = changes.hasMore;
  body.links.next = body.links.next?.replace(RECORDED_ORIGIN, origin) ?? null;
  body.links.prev = body.links.prev?.replace(RECORDED_ORIGIN, origin) ?? null;
  return body;
}

describe('getTicket', () => {
  it('returns the ticket', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, ticket(33, ['x', 'y'])));
    const result = await testClient(server.origin).getTicket('33');
    expect(result).toMatchObject({ id: 33, tags: ['x', 'y'], updated_at: '2026-08-17T07:34:48Z' });
    expect(server.requests[0]?.path).toBe('/api/v2/tickets/33');
  });

  it('404 is TicketNotFound, named by ticket ID', async () => {
    server = await startServer((_req, res) => sendJson(res, 404, { error: 'RecordNotFound', description: 'Not found' }));
    const error = await failure(testClient(server.origin).getTicket('404404'));
    expect(error).toBeInstanceOf(TicketNotFound);
    expect(error.message).toContain('404404');
  });

  it('refuses a ticket ID that is not a positive integer, without a request', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, ticket(1, [])));
    expect(await failure(testClient(server.origin).getTicket('1/../../users'))).toBeInstanceOf(InvalidInput);
    expect(server.requests).toHaveLength(0);
  });
});

describe('getAttachment', () => {
  it('returns the attachment object', async () => {
    const attachment = recorded.response.body.comments[0]?.attachments[0];
    server = await startServer((_req, res) => sendJson(res, 200, { attachment }));
    const result = await testClient(server.origin).getAttachment(33144647570963);
    expect(result.id).toBe(33144647570963);
    expect(result.size).toBe(15156);
    expect(server.requests[0]?.path).toBe('/api/v2/attachments/33144647570963');
  });

  it('404 is AttachmentGone', async () => {
    server = await startServer((_req, res) => sendJson(res, 404, { error: 'RecordNotFound' }));
    expect(await failure(testClient(server.origin).getAttachment(5))).toBeInstanceOf(AttachmentGone);
  });
});

describe('listComments', () => {
  it('parses the recorded page and asks for 100 per page with inline images', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, localPage(server.origin, { hasMore: false })));
    const { comments, pages } = await testClient(server.origin).listComments('33');
    expect(pages).toBe(1);
    expect(comments).toHaveLength(1);
    const [attachment] = comments[0]?.attachments ?? [];
    expect(attachment).toMatchObject({
      id: 33144647570963,
      file_name: 'README.md',
      size: 15156,
      malware_scan_result: 'not_scanned',
      malware_access_override: false,
    });
    expect(attachment?.content_url).toMatch(/\/attachments\/token\//);
    const [request] = server.requests;
    expect(request?.path).toBe('/api/v2/tickets/33/comments');
    expect(request?.query.get('page[size]')).toBe('100');
    expect(request?.query.get('include_inline_images')).toBe('true');
  });

  it('follows links.next while has_more, and stops on has_more false although links.next is still set', async () => {
    server = await startServer((req, res) => {
      const after = req.query.get('page[after]');
      sendJson(res, 200, localPage(server.origin, after ? { hasMore: false, commentId: 2 } : { hasMore: true, commentId: 1 }));
    });
    const { comments, pages } = await testClient(server.origin).listComments('33');
    expect(pages).toBe(2);
    expect(comments.map((c) => c.id)).toEqual([1, 2]);
    expect(server.requests).toHaveLength(2); // not a third request for the non-null links.next of the last page
    expect(server.requests[1]?.query.get('page[after]')).toBe(recorded.response.body.meta.after_cursor);
  });

  it('refuses a links.next off the Zendesk origin without requesting it', async () => {
    // The recorded links point at the recording's own account, not at this Zendesk.
    const page = structuredClone(recorded.response.body);
    page.meta.has_more = true;
    server = await startServer((_req, res) => sendJson(res, 200, page));
    const error = await failure(testClient(server.origin).listComments('33'));
    expect(error).toBeInstanceOf(HostNotAllowed);
    expect(error.message).not.toContain('zendesk.com');
    expect(server.requests).toHaveLength(1);
  });

  it('404 is TicketNotFound', async () => {
    server = await startServer((_req, res) => sendJson(res, 404, { error: 'RecordNotFound', description: 'Not found' }));
    expect(await failure(testClient(server.origin).listComments('9'))).toBeInstanceOf(TicketNotFound);
  });

  it('a comment without an attachments field is read as having none', async () => {
    server = await startServer((_req, res) =>
      sendJson(res, 200, { comments: [{ id: 7, body: 'hi' }], meta: { has_more: false }, links: { next: null } }),
    );
    const { comments } = await testClient(server.origin).listComments('9');
    expect(comments).toEqual([{ id: 7, body: 'hi', attachments: [] }]);
  });
});

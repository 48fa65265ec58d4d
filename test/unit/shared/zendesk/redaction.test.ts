import { afterEach, describe, expect, it } from '@jest/globals';
import type { ServerResponse } from 'node:http';
import { TicketClosed, TicketNotFound, ZendeskRequestFailed, ZendeskUnavailable } from '../../../../lambdas/shared/errors.js';
import { failure, recording, sendJson, startServer, testClient, ticket, type Seen, type TestServer } from './helpers.js';

let server: TestServer;
afterEach(async () => server?.close());

const primaryOk = recording('comment-redactions.json').response;
const legacyOk = recording('legacy-attachment-redact.json').response;
const BUDGET = 'zendesk-ratelimit-per-ticket-updates';

const attachments = [
  { id: 111, content_url: 'https://acme.zendesk.com/attachments/token/aaa/?name=secret-one.pdf' },
  { id: 222, content_url: 'https://acme.zendesk.com/attachments/token/bbb/?name=secret-two.pdf' },
];

/** Answers comment_redactions with `primary`, the legacy endpoint with `legacy(attachmentId)`. */
function zendesk(primary: (res: ServerResponse) => void, legacy: (attachmentId: string, res: ServerResponse) => void = (_id, res) => sendJson(res, legacyOk.status, legacyOk.body)) {
  return (req: Seen, res: ServerResponse) => {
    if (req.path.startsWith('/api/v2/comment_redactions/')) return primary(res);
    const legacyMatch = /^\/api\/v2\/tickets\/445\/comments\/20884722145682\/attachments\/(\d+)\/redact$/.exec(req.path);
    if (legacyMatch?.[1]) return legacy(legacyMatch[1], res);
    if (req.path === '/api/v2/tickets/445') return sendJson(res, 200, ticket(445, []));
    return sendJson(res, 404, { error: 'InvalidEndpoint', description: 'Not found' });
  };
}

const legacyCalls = () => server.requests.filter((r) => r.path.endsWith('/redact'));

describe('redactCommentAttachments', () => {
  it('uses comment_redactions with the ticket ID and the content URLs, in one call', async () => {
    server = await startServer(zendesk((res) => sendJson(res, primaryOk.status, primaryOk.body)));
    const result = await testClient(server.origin).redactCommentAttachments('445', 20884722145682, attachments);
    expect(result).toEqual({ endpoint: 'comment_redactions'});
    expect(server.requests).toHaveLength(1);
    const [call] = server.requests;
    expect(call?.method).toBe('PUT');
    expect(call?.path).toBe('/api/v2/comment_redactions/20884722145682');
    expect(call?.json).toEqual({ ticket_id: 445, external_attachment_urls: attachments.map((a) => a.content_url) });
  });

  it('reports the per-ticket update budget the response header gives (recorded answer)', async () => {
    server = await startServer(zendesk((res) => sendJson(res, primaryOk.status, primaryOk.body, { [BUDGET]: primaryOk.headers[BUDGET]! })));
    const result = await testClient(server.origin).redactCommentAttachments('445', 20884722145682, attachments);
    expect(result).toEqual({ endpoint: 'comment_redactions', ticketBudget: { remaining: 28, resetsSeconds: 64, total: 30 } });
  });

  it('reports no budget when the header is missing or unreadable', async () => {
    server = await startServer(zendesk((res) => sendJson(res, 200, primaryOk.body, { [BUDGET]: 'total=30' })));
    const result = await testClient(server.origin).redactCommentAttachments('445', 20884722145682, attachments);
    expect(result).toStrictEqual({ endpoint: 'comment_redactions'});
  });

  it('on the legacy endpoint reports the budget of the last call that gave one', async () => {
    let left = 10;
    server = await startServer(zendesk(
      (res) => sendJson(res, 404, { error: 'InvalidEndpoint' }),
      (_id, res) => sendJson(res, legacyOk.status, legacyOk.body, { [BUDGET]: `total=30; remaining=${--left}; resets=30` }),
    ));
    const result = await testClient(server.origin).redactCommentAttachments('445', 20884722145682, attachments);
    expect(result).toEqual({ endpoint: 'legacy', ticketBudget: { remaining: 8, resetsSeconds: 30, total: 30 } });
  });

  it('accepts an empty success answer (204)', async () => {
    server = await startServer(zendesk((res) => { res.writeHead(204); res.end(); }));
    expect(await testClient(server.origin).redactCommentAttachments('445', 20884722145682, attachments)).toEqual({ endpoint: 'comment_redactions' });
  });

  it.each([
    ['404 with an HTML page', (res: ServerResponse) => { res.writeHead(404, { 'content-type': 'text/html' }); res.end('<h1>Not found</h1>'); }],
    ['404 with JSON InvalidEndpoint', (res: ServerResponse) => sendJson(res, 404, { error: 'InvalidEndpoint', description: 'Not found' })],
    ['404 with an empty body', (res: ServerResponse) => { res.writeHead(404); res.end(); }],
    ['405', (res: ServerResponse) => sendJson(res, 405, { error: 'MethodNotAllowed' })],
    ['501', (res: ServerResponse) => { res.writeHead(501); res.end(); }],
  ])('falls back to the legacy endpoint per attachment when comment_redactions answers %s', async (_name, primary) => {
    server = await startServer(zendesk(primary));
    const result = await testClient(server.origin).redactCommentAttachments('445', 20884722145682, attachments);
    expect(result).toEqual({ endpoint: 'legacy' });
    expect(legacyCalls().map((r) => [r.method, r.path, r.json])).toEqual([
      ['PUT', '/api/v2/tickets/445/comments/20884722145682/attachments/111/redact', {}],
      ['PUT', '/api/v2/tickets/445/comments/20884722145682/attachments/222/redact', {}],
    ]);
  });

  it('counts a legacy 404 as already redacted and goes on with the next attachment', async () => {
    server = await startServer(
      zendesk(
        (res) => { res.writeHead(404, { 'content-type': 'text/html' }); res.end('nope'); },
        (id, res) => (id === '111' ? sendJson(res, 404, { error: 'RecordNotFound' }) : sendJson(res, 200, legacyOk.body)),
      ),
    );
    const result = await testClient(server.origin).redactCommentAttachments('445', 20884722145682, attachments);
    expect(result).toEqual({ endpoint: 'legacy' });
    expect(legacyCalls()).toHaveLength(2);
  });

  it('a legacy 422 (closed ticket) is TicketClosed', async () => {
    server = await startServer(
      zendesk((res) => sendJson(res, 405, {}), (_id, res) => sendJson(res, 422, { error: 'RecordInvalid' })),
    );
    expect(await failure(testClient(server.origin).redactCommentAttachments('445', 20884722145682, attachments))).toBeInstanceOf(TicketClosed);
  });

  it('a JSON RecordNotFound from comment_redactions is not a fallback: the comment is missing', async () => {
    server = await startServer(zendesk((res) => sendJson(res, 404, { error: 'RecordNotFound', description: 'Not found' })));
    const error = await failure(testClient(server.origin).redactCommentAttachments('445', 20884722145682, attachments));
    expect(error).toBeInstanceOf(ZendeskRequestFailed);
    expect(error.status).toBe(404);
    expect(legacyCalls()).toHaveLength(0);
  });

  it('a JSON RecordNotFound for a deleted ticket is TicketNotFound', async () => {
    server = await startServer((req, res) => sendJson(res, 404, { error: 'RecordNotFound', description: 'Not found' }));
    expect(await failure(testClient(server.origin).redactCommentAttachments('445', 20884722145682, attachments))).toBeInstanceOf(TicketNotFound);
    expect(server.requests.filter((r) => r.path.endsWith('/redact'))).toHaveLength(0);
  });

  it('retries a 503 or 429 on the PUT (Zendesk did not act), and never falls back on it', async () => {
    let calls = 0;
    server = await startServer(
      zendesk((res) => {
        calls += 1;
        if (calls === 1) return sendJson(res, 503, {});
        if (calls === 2) return sendJson(res, 429, {}, { 'retry-after': '0' });
        sendJson(res, 200, primaryOk.body);
      }),
    );
    expect(await testClient(server.origin).redactCommentAttachments('445', 20884722145682, attachments)).toEqual({ endpoint: 'comment_redactions'});
    expect(calls).toBe(3);
    expect(legacyCalls()).toHaveLength(0);
  });

  // Found by the soak (seed t2): a comment_redactions whose answer was lost was sent again by the client, naming
  // files Zendesk had already redacted. Zendesk may have acted: the step's retry re-lists and sends only what is left.
  it.each([
    ['a 502', (res: ServerResponse) => sendJson(res, 502, {})],
    ['a 500', (res: ServerResponse) => sendJson(res, 500, {})],
    ['a connection reset', (res: ServerResponse) => res.socket?.destroy()],
  ])('%s on the PUT is not sent again in the step: ZendeskUnavailable after one call', async (_what, answer) => {
    let calls = 0;
    server = await startServer(
      zendesk((res) => {
        calls += 1;
        answer(res);
      }),
    );
    expect(await failure(testClient(server.origin).redactCommentAttachments('445', 20884722145682, attachments))).toBeInstanceOf(ZendeskUnavailable);
    expect(calls).toBe(1);
    expect(legacyCalls()).toHaveLength(0);
  });

  it('a persistent 500 is ZendeskUnavailable whose message names IDs but no URL or file name', async () => {
    server = await startServer(zendesk((res) => sendJson(res, 500, {})));
    const error = await failure(testClient(server.origin).redactCommentAttachments('445', 20884722145682, attachments));
    expect(error).toBeInstanceOf(ZendeskUnavailable);
    expect(error.message).toContain('20884722145682');
    expect(error.message).not.toMatch(/secret-one|token|http/);
    expect(legacyCalls()).toHaveLength(0);
  });
});

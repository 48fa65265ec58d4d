import { readFileSync } from 'node:fs';
import { startSandboxZendesk, type SandboxZendesk } from '../../../local/sandbox/zendesk.js';
import { basicAuth, call, type ListedAttachment } from './support.js';

const recordedRedaction = JSON.parse(
  readFileSync(new URL('../../fixtures/zendesk/comment-redactions.json', import.meta.url), 'utf8'),
) as { response: { body: { comment: Record<string, unknown> } } };

let sandbox: SandboxZendesk;

beforeAll(async () => {
  sandbox = await startSandboxZendesk();
});
afterAll(() => sandbox.close());

function seed(status: 'open' | 'closed' = 'open') {
  const ticket = sandbox.createTicket({ status });
  const comment = sandbox.addComment(ticket.id, {
    attachments: [
      { fileName: 'passport.pdf', contentType: 'application/pdf', data: Buffer.from('%PDF-1.7 secret') },
      { fileName: 'keep.txt', contentType: 'text/plain', data: Buffer.from('keep') },
    ],
  });
  return { ticket, comment, secret: comment.attachments[0] as (typeof comment.attachments)[number], kept: comment.attachments[1] as (typeof comment.attachments)[number] };
}

async function listed(ticketId: number): Promise<ListedAttachment[]> {
  const page = await call<{ comments: Array<{ attachments: ListedAttachment[] }> }>(
    sandbox,
    'GET',
    `/api/v2/tickets/${ticketId}/comments?page[size]=100&include_inline_images=true`,
  );
  return page.body.comments.flatMap((c) => c.attachments);
}

describe('comment_redactions', () => {
  test('replaces each named attachment by an empty redacted.txt with a new id; others stay', async () => {
    const { ticket, comment, secret, kept } = seed();
    const result = await call<{ comment: Record<string, unknown> & { attachments: ListedAttachment[] } }>(
      sandbox,
      'PUT',
      `/api/v2/comment_redactions/${comment.id}.json`,
      { body: { ticket_id: ticket.id, external_attachment_urls: [secret.contentUrl] } },
    );
    expect(result.status).toBe(200);
    expect(Object.keys(result.body.comment).sort()).toEqual(Object.keys(recordedRedaction.response.body.comment).sort());
    const after = await listed(ticket.id);
    expect(after.map((a) => a.file_name)).toEqual(['redacted.txt', 'keep.txt']);
    const placeholder = after[0] as ListedAttachment;
    expect(placeholder).toMatchObject({ file_name: 'redacted.txt', content_type: 'text/plain', size: 0 });
    expect(placeholder.id).not.toBe(secret.id);
    expect(after[1]?.id).toBe(kept.id);
    expect(result.body.comment.attachments.map((a) => a.id)).toEqual([placeholder.id, kept.id]);
    expect(sandbox.attachment(secret.id)).toMatchObject({ state: 'redacted', replacedBy: placeholder.id, redactedVia: 'comment_redactions' });
  });

  test('the old id and its download token are gone (404); the ticket gains redacted_content and a new updated_at', async () => {
    const { ticket, comment, secret } = seed();
    await call(sandbox, 'PUT', `/api/v2/comment_redactions/${comment.id}`, {
      body: { ticket_id: ticket.id, external_attachment_urls: [secret.contentUrl] },
    });
    expect((await call(sandbox, 'GET', `/api/v2/attachments/${secret.id}`)).status).toBe(404);
    const download = await fetch(secret.contentUrl, { headers: { authorization: basicAuth(sandbox) }, redirect: 'manual' });
    expect(download.status).toBe(404);
    const now = sandbox.ticket(ticket.id);
    expect(now?.tags).toContain('redacted_content');
    expect(Date.parse(now?.updated_at as string)).toBeGreaterThan(Date.parse(ticket.updated_at));
  });

  test('works on a closed ticket, where tag writes are refused', async () => {
    const { ticket, comment, secret } = seed('closed');
    expect((await call(sandbox, 'PUT', `/api/v2/tickets/${ticket.id}/tags`, { body: { tags: ['x'] } })).status).toBe(422);
    const result = await call(sandbox, 'PUT', `/api/v2/comment_redactions/${comment.id}`, {
      body: { ticket_id: ticket.id, external_attachment_urls: [secret.contentUrl] },
    });
    expect(result.status).toBe(200);
    expect((await listed(ticket.id))[0]?.file_name).toBe('redacted.txt');
  });

  test('re-redacting the same URL answers 200 and changes nothing more', async () => {
    const { ticket, comment, secret } = seed();
    const body = { ticket_id: ticket.id, external_attachment_urls: [secret.contentUrl] };
    await call(sandbox, 'PUT', `/api/v2/comment_redactions/${comment.id}`, { body });
    const before = await listed(ticket.id);
    const again = await call(sandbox, 'PUT', `/api/v2/comment_redactions/${comment.id}`, { body });
    expect(again.status).toBe(200);
    expect(await listed(ticket.id)).toEqual(before);
    expect(sandbox.redactions.at(-1)).toMatchObject({ redacted: [], alreadyRedacted: [secret.id] });
  });

  test('a URL of another comment is ignored (200, nothing redacted): callers must confirm by re-listing', async () => {
    const a = seed();
    const b = seed();
    const result = await call(sandbox, 'PUT', `/api/v2/comment_redactions/${a.comment.id}`, {
      body: { ticket_id: a.ticket.id, external_attachment_urls: [b.secret.contentUrl] },
    });
    expect(result.status).toBe(200);
    expect(sandbox.attachment(b.secret.id)?.state).toBe('present');
    expect(sandbox.redactions.at(-1)).toMatchObject({ redacted: [], ignoredUrls: 1 });
  });

  test('ticket_id is required (400) and must be the comment\'s ticket (404)', async () => {
    const a = seed();
    const other = sandbox.createTicket();
    expect((await call(sandbox, 'PUT', `/api/v2/comment_redactions/${a.comment.id}`, { body: {} })).status).toBe(400);
    expect((await call(sandbox, 'PUT', `/api/v2/comment_redactions/${a.comment.id}`, { body: { ticket_id: other.id } })).status).toBe(404);
  });

  test('html_body <redact> turns text into ▇ and a redact attribute on <img> redacts that inline image', async () => {
    const ticket = sandbox.createTicket();
    const comment = sandbox.addComment(ticket.id, {
      body: 'My ID is 847564',
      attachments: [{ fileName: 'shot.png', contentType: 'image/png', data: Buffer.from('png'), inline: true }],
    });
    const inline = comment.attachments[0] as (typeof comment.attachments)[number];
    const html = `<div class="zd-comment" dir="auto">My ID is <redact>847564</redact> <img src="${inline.contentUrl.replace(/&/g, '&amp;')}" redact></div>`;
    const result = await call<{ comment: { plain_body: string; html_body: string } }>(sandbox, 'PUT', `/api/v2/comment_redactions/${comment.id}`, {
      body: { ticket_id: ticket.id, html_body: html },
    });
    expect(result.body.comment.plain_body).toBe('My ID is ▇▇▇▇▇▇');
    expect(result.body.comment.html_body).not.toContain('<img');
    expect(sandbox.attachment(inline.id)?.state).toBe('redacted');
  });
});

describe('legacy attachment redact', () => {
  const legacyPath = (t: number, c: number, a: number): string => `/api/v2/tickets/${t}/comments/${c}/attachments/${a}/redact.json`;

  test('answers 200 with the PRE-redaction metadata, then the attachment is a redacted.txt', async () => {
    const { ticket, comment, secret } = seed();
    const result = await call<{ attachment: Record<string, unknown> }>(sandbox, 'PUT', legacyPath(ticket.id, comment.id, secret.id), { body: {} });
    expect(result.status).toBe(200);
    expect(result.body.attachment).toMatchObject({ id: secret.id, file_name: 'passport.pdf', size: secret.size, content_url: secret.contentUrl });
    expect(result.headers.get('zendesk-ratelimit-per-ticket-updates')).toMatch(/^total=30; remaining=29; resets=\d+$/);
    expect((await listed(ticket.id))[0]).toMatchObject({ file_name: 'redacted.txt', size: 0 });
    expect(sandbox.ticket(ticket.id)?.tags).toContain('redacted_content');
  });

  test('redacting the same id twice is 404, as is an unknown id', async () => {
    const { ticket, comment, secret } = seed();
    await call(sandbox, 'PUT', legacyPath(ticket.id, comment.id, secret.id), { body: {} });
    expect((await call(sandbox, 'PUT', legacyPath(ticket.id, comment.id, secret.id), { body: {} })).status).toBe(404);
    expect((await call(sandbox, 'PUT', legacyPath(ticket.id, comment.id, 12345), { body: {} })).status).toBe(404);
  });

  test('is refused (422) on a closed ticket', async () => {
    const { ticket, comment, secret } = seed('closed');
    expect((await call(sandbox, 'PUT', legacyPath(ticket.id, comment.id, secret.id), { body: {} })).status).toBe(422);
    expect(sandbox.attachment(secret.id)?.state).toBe('present');
  });
});

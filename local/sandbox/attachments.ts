import { generatedStream } from './content.js';
import { param, type Exchange, type SandboxContext } from './context.js';
import { asObject, json, zendeskError, type Reply } from './http.js';
import { attachmentJson } from './json.js';
import type { AttachmentRecord } from './store.js';

/** Show/Update Attachment, the authenticated token URL (302), and the content host that serves the bytes. */

function malwareBlocked(a: AttachmentRecord): boolean {
  return a.malwareScanResult === 'malware_found' && !a.malwareAccessOverride;
}

const malwareDetected = (): Reply =>
  json(403, {
    error: 'MalwareDetected',
    description: 'This attachment was flagged as malware and cannot be downloaded.',
  });

export function getAttachment(ctx: SandboxContext, ex: Exchange): Reply {
  const attachment = ctx.store.liveAttachment(param(ex, 0));
  if (!attachment) return zendeskError.notFound();
  return json(200, { attachment: attachmentJson(ctx.api, ctx.store, attachment) });
}

/** PUT /api/v2/attachments/{id} `{attachment:{malware_access_override}}` (Update Attachment for Malware). */
export async function updateAttachment(ctx: SandboxContext, ex: Exchange): Promise<Reply> {
  const attachment = ctx.store.liveAttachment(param(ex, 0));
  if (!attachment) return zendeskError.notFound();
  const override = asObject((await ex.body()).attachment)?.malware_access_override;
  if (typeof override !== 'boolean') return zendeskError.badRequest('attachment.malware_access_override must be a boolean');
  attachment.malwareAccessOverride = override;
  return json(200, { attachment: attachmentJson(ctx.api, ctx.store, attachment) });
}

/**
 * GET {api}/attachments/token/{token}/?name=… (credentials required: attachments are private):
 * 302 to a short-lived signed URL on the content host; 404 when deleted or redacted; 403 MalwareDetected.
 */
export function download(ctx: SandboxContext, ex: Exchange): Reply {
  const id = ctx.store.byToken.get(ex.params[0] ?? '');
  const attachment = id === undefined ? undefined : ctx.store.liveAttachment(id);
  if (!attachment || attachment.deleted) return zendeskError.notFound();
  if (malwareBlocked(attachment)) return malwareDetected();
  const location = `${ctx.contentOrigin}/attachment/${attachment.id}?token=${ctx.signer.sign(attachment.id, ctx.store.clock.now())}`;
  return {
    status: 302,
    headers: { location, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' },
    body: `<html><body>You are being <a href="${location.replace(/&/g, '&amp;')}">redirected</a>.</body></html>`,
  };
}

const forbidden = (reason: string): Reply =>
  ({ status: 403, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: `Forbidden: ${reason}\n` });

/**
 * GET/HEAD {contentOrigin}/attachment/{id}?token=…: plays *.zdusercontent.com. 403 when it receives an
 * Authorization header or a bad/expired token; 404 when the attachment is gone; else streams the bytes.
 */
export function serveContent(ctx: SandboxContext, ex: Exchange): Reply {
  if (ex.req.headers.authorization !== undefined) return forbidden('credentials are not accepted on this host');
  const attachmentId = param(ex, 0);
  const verdict = ctx.signer.verify(attachmentId, ex.url.searchParams.get('token'), ctx.store.clock.now());
  if (verdict !== 'valid') return forbidden(verdict === 'expired' ? 'the link has expired' : 'invalid token');
  const attachment = ctx.store.liveAttachment(attachmentId);
  if (!attachment || attachment.deleted) {
    return { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Not found\n' };
  }
  if (malwareBlocked(attachment)) return malwareDetected();
  const source = attachment.source;
  const headers = {
    'content-type': attachment.contentType,
    'content-length': String(attachment.size),
    'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(attachment.fileName)}`,
    'cache-control': 'private, max-age=0',
  };
  if (ex.req.method === 'HEAD') return { status: 200, headers };
  const bytes = source.kind === 'buffer' ? [source.data] : generatedStream(source);
  return { status: 200, headers, body: countCompleted(bytes, attachment) };
}

/** Counts a download once every byte went out (an aborted or truncated transfer does not count). */
async function* countCompleted(source: AsyncIterable<Uint8Array> | Iterable<Buffer>, a: AttachmentRecord): AsyncGenerator<Uint8Array> {
  let sent = 0;
  for await (const chunk of source) {
    sent += chunk.length;
    yield chunk;
  }
  if (sent === a.size) a.downloads += 1;
}

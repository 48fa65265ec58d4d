import { AttachmentGone } from '../errors.js';
import { positiveId, unexpected, type ZendeskRequest } from './request.js';
import type { ZendeskApi, ZendeskAttachment } from './types.js';

/** The attachment resource: one attachment's metadata (its content_url is opened by download.ts). */

export function createAttachments(request: ZendeskRequest): Pick<ZendeskApi, 'getAttachment'> {
  const { call } = request;

  async function getAttachment(attachmentId: number): Promise<ZendeskAttachment> {
    positiveId('attachmentId', attachmentId);
    const body = await call<{ attachment?: ZendeskAttachment }>(
      {
        route: 'getAttachment',
        subject: `attachment ${attachmentId}`,
        statuses: { 404: (m) => new AttachmentGone(m), 410: (m) => new AttachmentGone(m) },
      },
      `api/v2/attachments/${attachmentId}`,
    );
    if (!body?.attachment || typeof body.attachment.content_url !== 'string') {
      throw unexpected('getAttachment', 'no attachment');
    }
    return body.attachment;
  }

  return { getAttachment };
}

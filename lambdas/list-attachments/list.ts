import type { AttachmentRef, ListResult } from '../shared/types.js';
import type { ZendeskApi, ZendeskAttachment } from '../shared/zendesk/types.js';

/** What Zendesk leaves in place of a redacted file: not work for the vault. */
export function isRedactionPlaceholder(attachment: Pick<ZendeskAttachment, 'file_name' | 'size'>): boolean {
  return attachment.file_name === 'redacted.txt' && attachment.size === 0;
}

/**
 * Step 2: every attachment of every comment (all pages, inline images included), as IDs and sizes only.
 * Deleted or malware-flagged files are still listed, so that the copy step reports them as skipped.
 */
export async function listAttachments(
  ticketId: string,
  deps: { zendesk: ZendeskApi; maxConcurrency: number },
): Promise<ListResult> {
  const { comments, pages } = await deps.zendesk.listComments(ticketId);
  const seen = new Set<number>();
  const attachments: AttachmentRef[] = [];
  for (const comment of comments) {
    for (const attachment of comment.attachments ?? []) {
      if (isRedactionPlaceholder(attachment) || seen.has(attachment.id)) continue;
      seen.add(attachment.id);
      attachments.push({
        attachmentId: attachment.id,
        commentId: comment.id,
        size: attachment.size,
        inline: attachment.inline === true,
      });
    }
  }
  return { ticketId, attachments, count: attachments.length, pages, maxConcurrency: deps.maxConcurrency };
}

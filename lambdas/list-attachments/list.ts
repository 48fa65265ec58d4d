import { InvalidInput } from '../shared/errors.js';
import type { RunFiles } from '../shared/run-files.js';
import type { AttachmentRef, ListResult } from '../shared/types.js';
import type { ZendeskApi, ZendeskAttachment } from '../shared/zendesk/types.js';

/** What Zendesk leaves in place of a redacted file: not work for the vault. */
export function isRedactionPlaceholder(attachment: Pick<ZendeskAttachment, 'file_name' | 'size'>): boolean {
  return attachment.file_name === 'redacted.txt' && attachment.size === 0;
}

/**
 * Step 2: every attachment of every comment (all pages, inline images included), as IDs and sizes only; in the state
 * for the inline Map, or in S3 for the Distributed Map when the ticket has more than COPY_INLINE_MAX_FILES files.
 * Deleted or malware-flagged files are still listed, so that the copy step reports them as skipped.
 */
export interface ListDeps {
  zendesk: ZendeskApi;
  maxConcurrency: number;
  /** COPY_INLINE_MAX_FILES: up to this many files the list stays in the state (the inline Map). */
  inlineMaxFiles: number;
  /** Where a longer list goes (attachments.json of this execution). */
  files?: RunFiles;
  executionName?: string;
}

/** The list in the state, or in the run's attachments.json when it is longer than inlineMaxFiles. */
async function placed(ticketId: string, attachments: AttachmentRef[], pages: number, deps: ListDeps): Promise<ListResult> {
  const counts = { ticketId, count: attachments.length, pages, maxConcurrency: deps.maxConcurrency };
  if (attachments.length <= deps.inlineMaxFiles) return { ...counts, attachments };
  if (!deps.files || !deps.executionName) throw new InvalidInput('a ticket with more files than COPY_INLINE_MAX_FILES needs the run files (executionName)');
  return { ...counts, manifest: await deps.files.write(deps.executionName, 'attachments', attachments) };
}

export async function listAttachments(ticketId: string, deps: ListDeps): Promise<ListResult> {
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
  return placed(ticketId, attachments, pages, deps);
}

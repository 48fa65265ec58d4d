import type { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import { isRedactionPlaceholder } from '../list-attachments/list.js';
import { findVerifiedCopy, writeArchivedObject, type ArchiveWriterSettings } from '../shared/archive.js';
import { AttachmentGone, AttachmentTooLarge, InvalidInput, MalwareBlocked, skipReasonOf } from '../shared/errors.js';
import type { CopyInput, CopyResult } from '../shared/types.js';
import type { ZendeskApi, ZendeskAttachment } from '../shared/zendesk/types.js';

export type CopyLogger = Pick<Logger, 'info' | 'warn'>;

export interface CopyDeps {
  input: CopyInput;
  zendesk: ZendeskApi;
  s3: S3Client;
  settings: ArchiveWriterSettings;
  logger: CopyLogger;
}

/** Why this attachment is not work: thrown as the skip errors of the shared vocabulary. */
function refuseUnless(attachment: ZendeskAttachment, settings: ArchiveWriterSettings): void {
  if (attachment.deleted || isRedactionPlaceholder(attachment)) throw new AttachmentGone('the attachment is deleted or redacted');
  if (attachment.malware_scan_result === 'malware_found' && !attachment.malware_access_override) {
    throw new MalwareBlocked('Zendesk flagged the attachment as malware');
  }
  if (!Number.isSafeInteger(attachment.size) || attachment.size < 0) {
    throw new InvalidInput('Zendesk reported no valid size for the attachment');
  }
  if (attachment.size > settings.maxAttachmentBytes) {
    throw new AttachmentTooLarge(`the attachment has ${attachment.size} bytes, more than ${settings.maxAttachmentBytes}`);
  }
}

async function archive(deps: CopyDeps): Promise<CopyResult> {
  const { input, zendesk, s3, settings, logger } = deps;
  const { attachmentId, commentId } = input.attachment;
  // A fresh read: current flags and a content_url whose token has not expired.
  const attachment = await zendesk.getAttachment(attachmentId);
  refuseUnless(attachment, settings);
  const size = attachment.size;
  if (size !== input.attachment.size) {
    logger.warn('attachment size differs from the listing', { attachmentId, listedSize: input.attachment.size, size });
  }

  const target = { bucket: settings.bucket, keyPrefix: settings.keyPrefix };
  const existing = await findVerifiedCopy(s3, {
    ...target,
    ticketId: input.ticketId,
    attachmentId,
    expectedSize: size,
    requireKms: Boolean(settings.sseKmsKeyId),
  });
  if (existing.found) {
    const { verification } = existing;
    logger.info('attachment already archived', { attachmentId, s3Key: existing.key, method: verification.method });
    return {
      attachmentId,
      commentId,
      size,
      outcome: 'already_archived',
      s3Key: existing.key,
      bytes: verification.size,
      sha256: verification.sha256,
      ...(verification.contentType ? { contentType: verification.contentType } : {}),
    };
  }

  const abort = new AbortController();
  try {
    const download = await zendesk.download(attachment.content_url, { signal: abort.signal });
    const copy = await writeArchivedObject(
      s3,
      {
        ...target,
        partSizeBytes: settings.partSizeBytes,
        queueSize: settings.queueSize,
        ...(settings.sseKmsKeyId ? { sseKmsKeyId: settings.sseKmsKeyId } : {}),
      },
      {
        ticketId: input.ticketId,
        commentId,
        attachmentId,
        size,
        fileName: attachment.file_name,
        declaredContentType: attachment.content_type || download.contentType,
        body: download.body,
      },
    );
    // An unverified object under another extension (the name or the detection changed) is left alone: the copy
    // step has no DeleteObject right, the object lacks a valid sha256 so nothing trusts it, and the next run
    // finds the verified one.
    const stale = existing.unverifiedKeys.filter((key) => key !== copy.key);
    if (stale.length > 0) logger.warn('unverified earlier copy left in place', { attachmentId, staleKeys: stale });
    logger.info('attachment archived', {
      attachmentId,
      s3Key: copy.key,
      bytes: copy.bytes,
      method: copy.verification.method,
      replaced: existing.unverifiedKeys.includes(copy.key),
    });
    return {
      attachmentId,
      commentId,
      size,
      outcome: 'archived',
      s3Key: copy.key,
      bytes: copy.bytes,
      sha256: copy.sha256,
      contentType: copy.contentType,
    };
  } catch (error) {
    abort.abort();
    throw error;
  }
}

/**
 * Step 3, one attachment: Zendesk -> S3, streamed and verified; or already there (verified, no download); or
 * skipped for a known permanent reason (gone, malware, host not allowed, too large). Every other error is thrown
 * with its vocabulary name: the ASL retries it, then records `failed` or fails the Map.
 */
export async function copyAttachment(deps: CopyDeps): Promise<CopyResult> {
  try {
    return await archive(deps);
  } catch (error) {
    const reason = skipReasonOf(error);
    if (!reason) throw error;
    const { attachmentId, commentId, size } = deps.input.attachment;
    deps.logger.info('attachment skipped', { attachmentId, reason });
    return { attachmentId, commentId, size, outcome: 'skipped', reason };
  }
}

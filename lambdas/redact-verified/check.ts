import type { S3Client } from '@aws-sdk/client-s3';
import { attachmentKeyBase, isAttachmentKey, verifyArchivedObject, type VerifyFailureReason } from '../shared/archive.js';
import type { CopyResult } from '../shared/types.js';
import type { ZendeskAttachment } from '../shared/zendesk/types.js';

/**
 * The redaction step's own check of one copy, right before Zendesk is asked to delete the original. It trusts nothing
 * it is handed (state data can be forged by a direct invocation or a hand-edited history): every fact comes from S3 or
 * from Zendesk itself. A copy is verified only when
 * 1. its key is exactly this attachment's key under its own ticket (`tickets/{ticketId}/{attachmentId}{ext}`);
 * 2. the comment it claims is the one Zendesk lists the attachment under;
 * 3. the object exists, and its `ticket-id`, `attachment-id` and `comment-id` metadata name this attachment;
 * 4. its length is the size Zendesk reports now;
 * 5. its bytes are the ones the copy step streamed: a file sent in one request has a lowercase-hex `sha256` in its
 *    metadata (equal to the one the copy step reported, when handed one) and S3's full-object SHA-256 equals it; a
 *    file sent in parts has S3's full-object CRC32 equal to the reported `crc32`; without such a checksum from S3
 *    (the emulator), a streamed read-back must match every reference;
 * 6. with an archive key configured (AWS): it is encrypted with exactly that KMS key.
 * Anything else is `not_verified` with the reason; it is never redacted. docs/security.md lists each check's test.
 */

export type RedactionCheckFailure = VerifyFailureReason | 'wrong_key' | 'wrong_comment' | 'not_archived';

export type RedactionCheck = { verified: true } | { verified: false; reason: RedactionCheckFailure };

export interface RedactionCheckSettings {
  bucket: string;
  keyPrefix: string;
  /** SSE_KMS_KEY_ID: the archive's KMS key ARN; unset locally (the emulator reports no encryption). */
  kmsKeyId?: string;
}

function isKeyOf(key: string, ticketId: string, attachmentId: number, keyPrefix: string): boolean {
  try {
    return isAttachmentKey(key, attachmentKeyBase(ticketId, attachmentId, keyPrefix));
  } catch {
    return false; // an ID that cannot make a key (forged state data)
  }
}

/** `live`: the attachment as Zendesk lists it now, or undefined when Zendesk no longer has it. */
export async function checkCopyForRedaction(
  s3: S3Client,
  settings: RedactionCheckSettings,
  request: { ticketId: string; copy: CopyResult; live?: { commentId: number; attachment: Pick<ZendeskAttachment, 'size'> } },
): Promise<RedactionCheck> {
  const { ticketId, copy, live } = request;
  if (copy.outcome !== 'archived' && copy.outcome !== 'already_archived') return { verified: false, reason: 'not_archived' };
  const key = copy.s3Key;
  if (typeof key !== 'string' || !isKeyOf(key, ticketId, copy.attachmentId, settings.keyPrefix)) return { verified: false, reason: 'wrong_key' };
  if (live && live.commentId !== copy.commentId) return { verified: false, reason: 'wrong_comment' };
  const verification = await verifyArchivedObject(s3, {
    bucket: settings.bucket,
    key,
    expectedSize: live ? live.attachment.size : copy.size,
    ...(copy.sha256 ? { expectedSha256: copy.sha256 } : {}),
    ...(copy.crc32 ? { expectedCrc32: copy.crc32 } : {}),
    ...(settings.kmsKeyId ? { requireKms: true, kmsKeyId: settings.kmsKeyId } : {}),
    identity: { ticketId, attachmentId: copy.attachmentId, commentId: copy.commentId },
  });
  return verification.verified ? { verified: true } : { verified: false, reason: verification.reason };
}

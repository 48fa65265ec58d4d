import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { archiveUnavailable } from '../s3.js';
import { attachmentKeyBase, DEFAULT_KEY_PREFIX, isAttachmentKey } from './keys.js';
import { verifyArchivedObject, type VerifiedObject } from './verify.js';

/**
 * Earlier copies of one attachment. The key's extension depends on the name or on the bytes, so the copy step
 * cannot know it before downloading: it lists `tickets/{t}/{a}` and keeps the exact matches.
 */

export interface ExistingCopyRequest {
  bucket: string;
  ticketId: string;
  attachmentId: number;
  expectedSize: number;
  keyPrefix?: string;
  requireKms?: boolean;
  kmsKeyId?: string;
  /** The comment the attachment belongs to: an object whose metadata names another file is not a copy of it. */
  commentId?: number;
}

export type ExistingCopy =
  | { found: true; key: string; verification: VerifiedObject; unverifiedKeys: string[] }
  | { found: false; unverifiedKeys: string[] };

/** Every key of this attachment (`tickets/1/12`, `tickets/1/12.pdf`; never `tickets/1/123.pdf`). */
export async function listAttachmentKeys(
  s3: S3Client,
  request: Pick<ExistingCopyRequest, 'bucket' | 'ticketId' | 'attachmentId' | 'keyPrefix'>,
): Promise<string[]> {
  const base = attachmentKeyBase(request.ticketId, request.attachmentId, request.keyPrefix ?? DEFAULT_KEY_PREFIX);
  const keys: string[] = [];
  let token: string | undefined;
  do {
    let page;
    try {
      page = await s3.send(
        new ListObjectsV2Command({ Bucket: request.bucket, Prefix: base, ...(token ? { ContinuationToken: token } : {}) }),
      );
    } catch (error) {
      throw archiveUnavailable('ListObjectsV2', error);
    }
    for (const object of page.Contents ?? []) {
      if (object.Key && isAttachmentKey(object.Key, base)) keys.push(object.Key);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

/**
 * The first earlier copy that verifies against the attachment's size, and the keys that did not. `listed`: the
 * attachment's keys as listAttachmentKeys returned them, when the caller listed them already (e.g. concurrently
 * with another request); otherwise they are listed here.
 */
export async function findVerifiedCopy(s3: S3Client, request: ExistingCopyRequest, listed?: readonly string[]): Promise<ExistingCopy> {
  const unverifiedKeys: string[] = [];
  for (const key of listed ?? (await listAttachmentKeys(s3, request))) {
    const verification = await verifyArchivedObject(s3, {
      bucket: request.bucket,
      key,
      expectedSize: request.expectedSize,
      ...(request.requireKms ? { requireKms: true } : {}),
      ...(request.kmsKeyId ? { kmsKeyId: request.kmsKeyId } : {}),
      ...(request.commentId !== undefined ? { identity: { ticketId: request.ticketId, attachmentId: request.attachmentId, commentId: request.commentId } } : {}),
    });
    if (verification.verified) return { found: true, key, verification, unverifiedKeys };
    unverifiedKeys.push(key);
  }
  return { found: false, unverifiedKeys };
}

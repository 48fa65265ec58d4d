import { CopyObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { CopyNotVerified, DownloadIncomplete } from '../errors.js';
import { archiveUnavailable, isS3NotFound, isS3PreconditionFailed } from '../s3.js';
import { archiveKey, DEFAULT_KEY_PREFIX, extensionFromName, saneExtension } from './keys.js';
import { chooseContentType, contentDisposition, METADATA_KEYS, objectMetadata } from './metadata.js';
import { downloadFailure, measureDownload, sniffFileType } from './stream.js';
import { verifyArchivedObject, type VerifiedObject } from './verify.js';

/**
 * The archive writer: one attachment's download stream -> one verified S3 object.
 *
 *   body -> measure (count, SHA-256, exact length) -> sniff (file-type) -> lib-storage Upload (CRC64NVME)
 *        -> in-place CopyObject recording `sha256` (S3 computes a full-object SHA-256) -> verifyArchivedObject
 *
 * Memory: at most partSize x (queueSize + 1) for the upload plus one sniff sample, whatever the file size.
 * Failures: DownloadIncomplete (the source broke or had the wrong length; a multipart upload is aborted, and a
 * small file is never sent), ArchiveUnavailable (S3), CopyNotVerified (the stored object does not prove the copy).
 */

export interface ArchiveTarget {
  bucket: string;
  keyPrefix?: string;
  partSizeBytes: number;
  queueSize: number;
  /** SSE-KMS key for the objects; unset = the bucket's default encryption. */
  sseKmsKeyId?: string;
}

export interface ArchiveSource {
  ticketId: string;
  commentId: number;
  attachmentId: number;
  /** The attachment's size: exactly this many bytes must arrive. */
  size: number;
  /** PII: only percent-encoded into metadata and Content-Disposition. */
  fileName: string;
  /** Zendesk's content_type (unreliable): used only when the bytes are not recognised. */
  declaredContentType?: string;
  body: ReadableStream<Uint8Array>;
}

export interface ArchivedCopy {
  key: string;
  bytes: number;
  /** Lowercase hex SHA-256 computed while streaming (and confirmed on the stored object). */
  sha256: string;
  contentType: string;
  verification: VerifiedObject;
}

function encryption(target: ArchiveTarget) {
  return target.sseKmsKeyId ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: target.sseKmsKeyId } : {};
}

function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

export async function writeArchivedObject(
  s3: S3Client,
  target: ArchiveTarget,
  source: ArchiveSource,
): Promise<ArchivedCopy> {
  const measured = measureDownload(source.body, source.size);
  let sniffed;
  try {
    sniffed = await sniffFileType(measured.readable);
  } catch (error) {
    await measured.cancel();
    throw measured.failure ?? downloadFailure(error);
  }

  const ext = extensionFromName(source.fileName) ?? saneExtension(sniffed.ext);
  const key = archiveKey(source.ticketId, source.attachmentId, ext, target.keyPrefix ?? DEFAULT_KEY_PREFIX);
  const contentType = chooseContentType(sniffed.mime, source.declaredContentType);
  const headers = {
    ContentType: contentType,
    ContentDisposition: contentDisposition(source.attachmentId, ext, source.fileName),
    ...encryption(target),
  };
  const metadata = objectMetadata(source);

  let etag: string | undefined;
  try {
    const upload = new Upload({
      client: s3,
      params: {
        Bucket: target.bucket,
        Key: key,
        Body: sniffed.stream,
        ChecksumAlgorithm: 'CRC64NVME',
        Metadata: metadata,
        ...headers,
      },
      partSize: target.partSizeBytes,
      queueSize: target.queueSize,
      leavePartsOnError: false,
    });
    ({ ETag: etag } = await upload.done());
  } catch (error) {
    await measured.cancel();
    throw measured.failure ?? archiveUnavailable('upload', error);
  }
  if (!measured.complete) {
    // Unreachable with lib-storage (it reads to the end), kept because the length rule is the copy's contract.
    throw new DownloadIncomplete(`upload finished after ${measured.bytes} of ${source.size} bytes`);
  }
  const sha256 = measured.sha256();

  try {
    await s3.send(
      new CopyObjectCommand({
        Bucket: target.bucket,
        Key: key,
        CopySource: copySource(target.bucket, key),
        // Only the bytes this call uploaded get this SHA-256 (real S3 enforces it; fauxqs ignores it).
        ...(etag ? { CopySourceIfMatch: etag } : {}),
        MetadataDirective: 'REPLACE',
        Metadata: { ...metadata, [METADATA_KEYS.sha256]: sha256 },
        ChecksumAlgorithm: 'SHA256',
        ...headers,
      }),
    );
  } catch (error) {
    if (isS3PreconditionFailed(error) || isS3NotFound(error)) {
      throw new CopyNotVerified('the object changed before its SHA-256 was recorded');
    }
    throw archiveUnavailable('CopyObject', error);
  }

  const verification = await verifyArchivedObject(s3, {
    bucket: target.bucket,
    key,
    expectedSize: source.size,
    expectedSha256: sha256,
    requireKms: Boolean(target.sseKmsKeyId),
  });
  if (!verification.verified) throw new CopyNotVerified(`the stored object does not verify: ${verification.reason}`);
  return { key, bytes: measured.bytes, sha256, contentType, verification };
}

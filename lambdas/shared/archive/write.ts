import { CopyObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { CopyNotVerified, DownloadIncomplete } from '../errors.js';
import { archiveUnavailable, isS3NotFound, isS3PreconditionFailed, s3ErrorName } from '../s3.js';
import { archiveKey, DEFAULT_KEY_PREFIX, extensionFromName, saneExtension } from './keys.js';
import { chooseContentType, contentDisposition, METADATA_KEYS, objectMetadata } from './metadata.js';
import { downloadFailure, measureDownload, sniffFileType, type MeasuredStream } from './stream.js';
import { hexToBase64, verifyArchivedObject, type VerifiedObject } from './verify.js';

/**
 * The archive writer: one attachment's download stream -> one verified S3 object.
 *
 * A file of at most one part (most attachments) goes up in one request that already carries everything:
 *   body -> measure (count, SHA-256, exact length) -> sniff (file-type) -> buffer (<= partSize)
 *        -> PutObject with `sha256` metadata and x-amz-checksum-sha256 = that SHA-256 (S3 checks the bytes
 *           against it and keeps it as the object's full-object checksum) -> verifyArchivedObject (HeadObject)
 * A larger file streams, and its SHA-256 is known only at the end:
 *   body -> measure -> sniff -> lib-storage Upload (CRC32 per part, which S3 checks)
 *        -> in-place CopyObject recording `sha256` (S3 computes a full-object SHA-256) -> verifyArchivedObject
 *
 * Part checksums are CRC32 (node:zlib, ~4 GB/s) rather than CRC64NVME (pure JavaScript in the SDK, ~0.3 GB/s,
 * which was the largest CPU cost of the copy: see docs/benchmarks.md). Nothing relies on the upload's checksum
 * type: the in-place copy replaces it with S3's SHA-256, and verification compares SHA-256 only.
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
  /** Ticket facts and the execution, recorded as metadata for the archive index (archive/metadata.ts). */
  requesterId?: string;
  brandId?: string;
  ticketCreatedAt?: string;
  archivedBy?: string;
}

export interface ArchivedCopy {
  key: string;
  bytes: number;
  /** Lowercase hex SHA-256 computed while streaming (and confirmed on the stored object). */
  sha256: string;
  contentType: string;
  verification: VerifiedObject;
}

function encryption(target: ArchiveTarget): Pick<ObjectHeaders, 'ServerSideEncryption' | 'SSEKMSKeyId'> {
  return target.sseKmsKeyId ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: target.sseKmsKeyId } : {};
}

function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** The whole (small) body in one buffer of exactly `size` bytes; the measured stream enforces the length. */
async function readWhole(stream: ReadableStream<Uint8Array>, size: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(size);
  const reader = stream.getReader();
  let offset = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (offset + value.byteLength > size) throw new DownloadIncomplete(`download ran past the expected ${size} bytes`);
    buffer.set(value, offset);
    offset += value.byteLength;
  }
  if (offset !== size) throw new DownloadIncomplete(`download ended after ${offset} of ${size} bytes`);
  return buffer;
}

/** What both upload paths need: the key, the measured source, the sniffed body, metadata and headers. */
interface PendingUpload {
  key: string;
  measured: MeasuredStream;
  body: ReadableStream<Uint8Array>;
  metadata: Record<string, string>;
  headers: ObjectHeaders;
}

interface ObjectHeaders {
  ContentType: string;
  ContentDisposition: string;
  ServerSideEncryption?: 'aws:kms';
  SSEKMSKeyId?: string;
}

/** One PutObject with the SHA-256 as metadata and as the request checksum: returns the SHA-256. */
async function putWhole(s3: S3Client, target: ArchiveTarget, source: ArchiveSource, upload: PendingUpload): Promise<string> {
  let body: Buffer;
  try {
    body = await readWhole(upload.body, source.size);
  } catch (error) {
    await upload.measured.cancel();
    throw upload.measured.failure ?? downloadFailure(error);
  }
  if (!upload.measured.complete) throw new DownloadIncomplete(`download ended after ${upload.measured.bytes} of ${source.size} bytes`);
  const sha256 = upload.measured.sha256();
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: target.bucket,
        Key: upload.key,
        Body: body,
        // S3 computes the SHA-256 of what it received and refuses the object (BadDigest) if it differs.
        ChecksumSHA256: hexToBase64(sha256),
        Metadata: { ...upload.metadata, [METADATA_KEYS.sha256]: sha256 },
        ...upload.headers,
      }),
    );
  } catch (error) {
    if (s3ErrorName(error) === 'BadDigest') throw new CopyNotVerified('S3 refused the bytes: their SHA-256 differs from the streamed one');
    throw archiveUnavailable('upload', error);
  }
  return sha256;
}

/** lib-storage multipart (or single) upload, then the in-place copy that records the SHA-256: returns it. */
async function streamThenRecord(s3: S3Client, target: ArchiveTarget, source: ArchiveSource, upload: PendingUpload): Promise<string> {
  let etag: string | undefined;
  try {
    const transfer = new Upload({
      client: s3,
      params: {
        Bucket: target.bucket,
        Key: upload.key,
        Body: upload.body,
        ChecksumAlgorithm: 'CRC32',
        Metadata: upload.metadata,
        ...upload.headers,
      },
      partSize: target.partSizeBytes,
      queueSize: target.queueSize,
      leavePartsOnError: false,
    });
    ({ ETag: etag } = await transfer.done());
  } catch (error) {
    await upload.measured.cancel();
    throw upload.measured.failure ?? archiveUnavailable('upload', error);
  }
  if (!upload.measured.complete) {
    // Unreachable with lib-storage (it reads to the end), kept because the length rule is the copy's contract.
    throw new DownloadIncomplete(`upload finished after ${upload.measured.bytes} of ${source.size} bytes`);
  }
  const sha256 = upload.measured.sha256();

  try {
    await s3.send(
      new CopyObjectCommand({
        Bucket: target.bucket,
        Key: upload.key,
        CopySource: copySource(target.bucket, upload.key),
        // Only the bytes this call uploaded get this SHA-256 (real S3 enforces it; fauxqs ignores it).
        ...(etag ? { CopySourceIfMatch: etag } : {}),
        MetadataDirective: 'REPLACE',
        Metadata: { ...upload.metadata, [METADATA_KEYS.sha256]: sha256 },
        ChecksumAlgorithm: 'SHA256',
        ...upload.headers,
      }),
    );
  } catch (error) {
    if (isS3PreconditionFailed(error) || isS3NotFound(error)) {
      throw new CopyNotVerified('the object changed before its SHA-256 was recorded');
    }
    throw archiveUnavailable('CopyObject', error);
  }
  return sha256;
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
  const headers: ObjectHeaders = {
    ContentType: contentType,
    ContentDisposition: contentDisposition(source.attachmentId, ext, source.fileName),
    ...encryption(target),
  };
  const upload: PendingUpload = { key, measured, body: sniffed.stream, metadata: objectMetadata(source), headers };
  // One part or less: lib-storage would buffer it for a single PutObject anyway, so send the SHA-256 with it.
  const sha256 =
    source.size <= target.partSizeBytes
      ? await putWhole(s3, target, source, upload)
      : await streamThenRecord(s3, target, source, upload);

  const verification = await verifyArchivedObject(s3, {
    bucket: target.bucket,
    key,
    expectedSize: source.size,
    expectedSha256: sha256,
    requireKms: Boolean(target.sseKmsKeyId),
    ...(target.sseKmsKeyId ? { kmsKeyId: target.sseKmsKeyId } : {}),
    identity: { ticketId: source.ticketId, attachmentId: source.attachmentId, commentId: source.commentId },
  });
  if (!verification.verified) throw new CopyNotVerified(`the stored object does not verify: ${verification.reason}`);
  return { key, bytes: measured.bytes, sha256, contentType, verification };
}

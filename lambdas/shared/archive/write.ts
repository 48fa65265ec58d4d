import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { CopyNotVerified, DownloadIncomplete } from '../errors.js';
import { archiveUnavailable, s3ErrorName } from '../s3.js';
import { archiveKey, DEFAULT_KEY_PREFIX, extensionFromName, saneExtension } from './keys.js';
import { chooseContentType, contentDisposition, FULL_OBJECT_CRC32, METADATA_KEYS, objectMetadata } from './metadata.js';
import { downloadFailure, measureDownload, sniffFileType, type MeasuredStream } from './stream.js';
import { hexToBase64, verifyArchivedObject, type VerifiedObject } from './verify.js';

/**
 * The archive writer: one attachment's download stream -> one verified S3 object.
 *
 * A file of at most one part (most attachments) goes up in one request that already carries everything:
 *   body -> measure (count, SHA-256, exact length) -> sniff (file-type) -> buffer (<= partSize)
 *        -> PutObject with `sha256` metadata and x-amz-checksum-sha256 = that SHA-256 (S3 checks the bytes
 *           against it and keeps it as the object's full-object checksum) -> verifyArchivedObject (HeadObject)
 * A larger file streams, and its SHA-256 is known only at the end, after the metadata is fixed:
 *   body -> measure (count, SHA-256, CRC32) -> sniff -> lib-storage Upload (CRC32 per part, ChecksumType
 *        FULL_OBJECT, metadata `checksum: crc32-full-object`) -> verifyArchivedObject (S3's full-object CRC32 =
 *        the streamed one)
 *
 * CRC32 rather than CRC32C or CRC64NVME, the other algorithms S3 accepts for full-object checksums: node:zlib
 * computes CRC32 natively (~2.3 GB/s here), the SDK's CRC32C and CRC64NVME are JavaScript (~0.33 and ~0.22 GB/s),
 * and both this stream and the SDK (per part) compute it (docs/benchmarks.md).
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
  /** Base64 CRC32 computed while streaming, for a multipart upload: S3's full-object CRC32 equals it. */
  crc32?: string;
  contentType: string;
  verification: VerifiedObject;
}

function encryption(target: ArchiveTarget): Pick<ObjectHeaders, 'ServerSideEncryption' | 'SSEKMSKeyId'> {
  return target.sseKmsKeyId ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: target.sseKmsKeyId } : {};
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

/** What the copy streamed: the SHA-256 always, the CRC32 for a multipart upload (its proof in S3). */
interface Streamed {
  sha256: string;
  crc32?: string;
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

/**
 * lib-storage multipart upload with a full-object CRC32: each part carries its CRC32 (S3 refuses a part whose bytes
 * differ) and S3 combines them into the object's CRC32 (ChecksumType FULL_OBJECT), which verification compares with
 * the one streamed here. One write, one object version: no copy onto itself.
 */
async function streamInParts(s3: S3Client, target: ArchiveTarget, source: ArchiveSource, upload: PendingUpload): Promise<Streamed> {
  try {
    const transfer = new Upload({
      client: s3,
      params: {
        Bucket: target.bucket,
        Key: upload.key,
        Body: upload.body,
        ChecksumAlgorithm: 'CRC32',
        ChecksumType: 'FULL_OBJECT',
        Metadata: { ...upload.metadata, [METADATA_KEYS.checksum]: FULL_OBJECT_CRC32 },
        ...upload.headers,
      },
      partSize: target.partSizeBytes,
      queueSize: target.queueSize,
      leavePartsOnError: false,
    });
    await transfer.done();
  } catch (error) {
    await upload.measured.cancel();
    throw upload.measured.failure ?? archiveUnavailable('upload', error);
  }
  if (!upload.measured.complete) {
    // Unreachable with lib-storage (it reads to the end), kept because the length rule is the copy's contract.
    throw new DownloadIncomplete(`upload finished after ${upload.measured.bytes} of ${source.size} bytes`);
  }
  return { sha256: upload.measured.sha256(), crc32: upload.measured.crc32() };
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
  const streamed =
    source.size <= target.partSizeBytes
      ? { sha256: await putWhole(s3, target, source, upload) }
      : await streamInParts(s3, target, source, upload);

  const verification = await verifyArchivedObject(s3, {
    bucket: target.bucket,
    key,
    expectedSize: source.size,
    expectedSha256: streamed.sha256,
    ...(streamed.crc32 ? { expectedCrc32: streamed.crc32 } : {}),
    requireKms: Boolean(target.sseKmsKeyId),
    ...(target.sseKmsKeyId ? { kmsKeyId: target.sseKmsKeyId } : {}),
    identity: { ticketId: source.ticketId, attachmentId: source.attachmentId, commentId: source.commentId },
  });
  if (!verification.verified) throw new CopyNotVerified(`the stored object does not verify: ${verification.reason}`);
  return { key, bytes: measured.bytes, ...streamed, contentType, verification };
}

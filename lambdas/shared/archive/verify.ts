import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, type HeadObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { archiveUnavailable, isS3NotFound, isS3PreconditionFailed } from '../s3.js';
import { METADATA_KEYS } from './metadata.js';

/**
 * Proof that an archived object holds the attachment's bytes, before anything relies on it (the copy step's
 * "already archived" check, the redact step right before redaction).
 *
 * The copy step records the SHA-256 it computed while streaming as `sha256` metadata, with an in-place CopyObject
 * that asks S3 for a full-object SHA-256 of the stored bytes. An object without that metadata is an incomplete copy.
 * Metadata alone proves nothing (anyone who can write the key can write it), so the bytes are checked against it:
 * - S3 reports a full-object ChecksumSHA256 (real S3, after that copy): S3 computed it from the stored bytes
 *   and it must equal the metadata (`method: 'checksum'`, one HeadObject);
 * - no SHA-256 from S3 (fauxqs, a composite multipart checksum, or an object someone else wrote): the object is
 *   read back through SHA-256, streaming (`method: 'readback'`).
 */

export interface VerifyRequest {
  bucket: string;
  key: string;
  /** The attachment's size: the object must be exactly this long. */
  expectedSize: number;
  /** The SHA-256 the copy step reported (lowercase hex); when given, the object's must equal it. */
  expectedSha256?: string;
  /** Require SSE-KMS (set when the deployment configures a key; fauxqs does not report encryption). */
  requireKms?: boolean;
  /** With requireKms: the key the object must be encrypted with (its ARN, as S3 reports SSEKMSKeyId). */
  kmsKeyId?: string;
  /** The object's ticket-id, attachment-id and comment-id metadata must be these: the copy is of this attachment. */
  identity?: { ticketId: string; attachmentId: number; commentId: number };
}

export type VerifyFailureReason =
  | 'missing'
  | 'size_mismatch'
  | 'no_sha256_metadata'
  | 'invalid_sha256_metadata'
  | 'sha256_mismatch'
  | 'checksum_mismatch'
  | 'readback_mismatch'
  | 'changed_during_verification'
  | 'metadata_mismatch'
  | 'not_kms_encrypted'
  | 'not_encrypted_with_archive_key';

export interface VerifiedObject {
  verified: true;
  /** Lowercase hex SHA-256 of the stored bytes. */
  sha256: string;
  size: number;
  method: 'checksum' | 'readback';
  contentType?: string;
  etag?: string;
  /** The object version that was verified (versioned buckets). */
  versionId?: string;
}

export type Verification = VerifiedObject | { verified: false; reason: VerifyFailureReason };

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function hexToBase64(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64');
}

export function base64ToHex(base64: string): string {
  return Buffer.from(base64, 'base64').toString('hex');
}

/** S3's ChecksumSHA256 when it is a hash of the whole object (not a multipart `hash-of-hashes-N`). */
function fullObjectSha256(head: HeadObjectCommandOutput): string | undefined {
  const value = head.ChecksumSHA256;
  if (!value || head.ChecksumType === 'COMPOSITE' || value.includes('-')) return undefined;
  return value;
}

async function readBack(
  s3: S3Client,
  request: VerifyRequest,
  etag: string | undefined,
): Promise<{ sha256: string; bytes: number } | 'missing' | 'changed_during_verification'> {
  let body: AsyncIterable<Uint8Array>;
  try {
    const object = await s3.send(
      new GetObjectCommand({ Bucket: request.bucket, Key: request.key, ...(etag ? { IfMatch: etag } : {}) }),
    );
    body = object.Body as AsyncIterable<Uint8Array>;
  } catch (error) {
    if (isS3NotFound(error)) return 'missing';
    if (isS3PreconditionFailed(error)) return 'changed_during_verification';
    throw archiveUnavailable('GetObject', error);
  }
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of body) {
      hash.update(chunk);
      bytes += chunk.byteLength;
    }
  } catch (error) {
    throw archiveUnavailable('GetObject', error);
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** The object's own record of which attachment it holds, against the one expected. */
function sameIdentity(metadata: Record<string, string>, identity: NonNullable<VerifyRequest['identity']>): boolean {
  return (
    metadata[METADATA_KEYS.ticketId] === identity.ticketId &&
    metadata[METADATA_KEYS.attachmentId] === String(identity.attachmentId) &&
    metadata[METADATA_KEYS.commentId] === String(identity.commentId)
  );
}

export async function verifyArchivedObject(s3: S3Client, request: VerifyRequest): Promise<Verification> {
  let head: HeadObjectCommandOutput;
  try {
    head = await s3.send(new HeadObjectCommand({ Bucket: request.bucket, Key: request.key, ChecksumMode: 'ENABLED' }));
  } catch (error) {
    if (isS3NotFound(error)) return { verified: false, reason: 'missing' };
    throw archiveUnavailable('HeadObject', error);
  }
  if (head.ContentLength !== request.expectedSize) return { verified: false, reason: 'size_mismatch' };
  if (request.identity && !sameIdentity(head.Metadata ?? {}, request.identity)) return { verified: false, reason: 'metadata_mismatch' };

  const recorded = head.Metadata?.[METADATA_KEYS.sha256];
  if (recorded === undefined) return { verified: false, reason: 'no_sha256_metadata' };
  if (!SHA256_HEX.test(recorded)) return { verified: false, reason: 'invalid_sha256_metadata' };
  if (request.expectedSha256 !== undefined && request.expectedSha256.toLowerCase() !== recorded) {
    return { verified: false, reason: 'sha256_mismatch' };
  }
  if (request.requireKms && !head.ServerSideEncryption?.startsWith('aws:kms')) {
    return { verified: false, reason: 'not_kms_encrypted' };
  }
  if (request.requireKms && request.kmsKeyId && head.SSEKMSKeyId !== request.kmsKeyId) {
    return { verified: false, reason: 'not_encrypted_with_archive_key' };
  }

  const found = {
    sha256: recorded,
    size: request.expectedSize,
    ...(head.ContentType ? { contentType: head.ContentType } : {}),
    ...(head.ETag ? { etag: head.ETag } : {}),
    ...(head.VersionId ? { versionId: head.VersionId } : {}),
  };
  const checksum = fullObjectSha256(head);
  if (checksum !== undefined) {
    return base64ToHex(checksum) === recorded
      ? { verified: true, method: 'checksum', ...found }
      : { verified: false, reason: 'checksum_mismatch' };
  }

  const read = await readBack(s3, request, head.ETag);
  if (typeof read === 'string') return { verified: false, reason: read };
  if (read.bytes !== request.expectedSize) return { verified: false, reason: 'size_mismatch' };
  if (read.sha256 !== recorded) return { verified: false, reason: 'readback_mismatch' };
  return { verified: true, method: 'readback', ...found };
}

import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, type HeadObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { archiveUnavailable, isS3NotFound, isS3PreconditionFailed } from '../s3.js';
import { FULL_OBJECT_CRC32, METADATA_KEYS } from './metadata.js';
import { crc32ToBase64 } from './stream.js';

/**
 * Proof that an archived object holds the attachment's bytes, before anything relies on it (the copy step right after
 * its upload and when it finds an earlier copy, the redact step right before redaction).
 *
 * Two kinds of object, by how they were uploaded (docs/design.md#integrity-how-a-copy-is-proven):
 * - one request (most files): the SHA-256 streamed by the copy step is its `sha256` metadata, and S3 checked the bytes
 *   against it (x-amz-checksum-sha256) and keeps it as the object's full-object checksum. Proof: S3's ChecksumSHA256
 *   equals the metadata (`method: 'checksum'`, one HeadObject).
 * - in parts (larger than one part): the metadata is fixed before the first byte, so it carries `checksum:
 *   crc32-full-object` instead of a hash; S3 validated each part's CRC32 and combined them into a full-object CRC32
 *   (ChecksumType FULL_OBJECT). Proof: that CRC32 equals the one the copy step streamed (`expectedCrc32`), or, with
 *   no reference to compare, that S3 vouches for a full-object checksum at all (`method: 'checksum'`).
 * Metadata alone proves nothing (anyone who can write the key can write it). When S3 reports no usable checksum
 * (fauxqs, which computes only composite part checksums; an object someone else wrote) the object is read back
 * through SHA-256 and CRC32, streaming, and compared with every reference there is (`method: 'readback'`).
 * An object with neither `sha256` nor `checksum` metadata is not a copy this project made: never verified.
 */

export interface VerifyRequest {
  bucket: string;
  key: string;
  /** The attachment's size: the object must be exactly this long. */
  expectedSize: number;
  /** The SHA-256 the copy step reported (lowercase hex); when given, the object's must equal it. */
  expectedSha256?: string;
  /** The CRC32 the copy step streamed (base64, as S3 reports it); when given, the object's must equal it. */
  expectedCrc32?: string;
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
  /**
   * Lowercase hex SHA-256 of the stored bytes: from the metadata, the caller's reference or a read-back. Unknown
   * only for a multipart object proven by S3's CRC32 without a reference.
   */
  sha256?: string;
  /** Base64 CRC32 of the stored bytes, for a multipart object (S3's, or read back). */
  crc32?: string;
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

/** S3's ChecksumCRC32 when S3 declares it a checksum of the whole object (a FULL_OBJECT multipart upload). */
function fullObjectCrc32(head: HeadObjectCommandOutput): string | undefined {
  return head.ChecksumType === 'FULL_OBJECT' && head.ChecksumCRC32 && !head.ChecksumCRC32.includes('-') ? head.ChecksumCRC32 : undefined;
}

async function readBack(
  s3: S3Client,
  request: VerifyRequest,
  etag: string | undefined,
): Promise<{ sha256: string; crc32: string; bytes: number } | 'missing' | 'changed_during_verification'> {
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
  let crc = 0;
  let bytes = 0;
  try {
    for await (const chunk of body) {
      hash.update(chunk);
      crc = crc32(chunk, crc);
      bytes += chunk.byteLength;
    }
  } catch (error) {
    throw archiveUnavailable('GetObject', error);
  }
  return { sha256: hash.digest('hex'), crc32: crc32ToBase64(crc), bytes };
}

/** The object's own record of which attachment it holds, against the one expected. */
function sameIdentity(metadata: Record<string, string>, identity: NonNullable<VerifyRequest['identity']>): boolean {
  return (
    metadata[METADATA_KEYS.ticketId] === identity.ticketId &&
    metadata[METADATA_KEYS.attachmentId] === String(identity.attachmentId) &&
    metadata[METADATA_KEYS.commentId] === String(identity.commentId)
  );
}

/** Checks of the object's HeadObject that need no bytes: size, identity, encryption. */
function headFailure(head: HeadObjectCommandOutput, request: VerifyRequest): VerifyFailureReason | undefined {
  if (head.ContentLength !== request.expectedSize) return 'size_mismatch';
  if (request.identity && !sameIdentity(head.Metadata ?? {}, request.identity)) return 'metadata_mismatch';
  if (request.requireKms && !head.ServerSideEncryption?.startsWith('aws:kms')) return 'not_kms_encrypted';
  if (request.requireKms && request.kmsKeyId && head.SSEKMSKeyId !== request.kmsKeyId) return 'not_encrypted_with_archive_key';
  return undefined;
}

/** What the object must hash to: its own `sha256` metadata and the caller's references; or why it has none. */
type References = { sha256?: string; crc32?: string; multipart: boolean };

function referencesOf(head: HeadObjectCommandOutput, request: VerifyRequest): References | VerifyFailureReason {
  const metadata = head.Metadata ?? {};
  const recorded = metadata[METADATA_KEYS.sha256];
  const multipart = recorded === undefined && metadata[METADATA_KEYS.checksum] === FULL_OBJECT_CRC32;
  if (recorded === undefined && !multipart) return 'no_sha256_metadata';
  if (recorded !== undefined && !SHA256_HEX.test(recorded)) return 'invalid_sha256_metadata';
  const expected = request.expectedSha256?.toLowerCase();
  if (recorded !== undefined && expected !== undefined && expected !== recorded) return 'sha256_mismatch';
  const sha256 = recorded ?? expected;
  return { multipart, ...(sha256 ? { sha256 } : {}), ...(request.expectedCrc32 ? { crc32: request.expectedCrc32 } : {}) };
}

/** S3's own checksum of the stored bytes against the references, when S3 reports one that fits the object's kind. */
function byChecksum(head: HeadObjectCommandOutput, refs: References): Pick<VerifiedObject, 'sha256' | 'crc32'> | 'checksum_mismatch' | undefined {
  if (!refs.multipart) {
    const checksum = fullObjectSha256(head);
    if (checksum === undefined) return undefined;
    return base64ToHex(checksum) === refs.sha256 ? { sha256: refs.sha256 } : 'checksum_mismatch';
  }
  const checksum = fullObjectCrc32(head);
  if (checksum === undefined) return undefined;
  if (refs.crc32 !== undefined && refs.crc32 !== checksum) return 'checksum_mismatch';
  return { crc32: checksum, ...(refs.sha256 ? { sha256: refs.sha256 } : {}) };
}

export async function verifyArchivedObject(s3: S3Client, request: VerifyRequest): Promise<Verification> {
  let head: HeadObjectCommandOutput;
  try {
    head = await s3.send(new HeadObjectCommand({ Bucket: request.bucket, Key: request.key, ChecksumMode: 'ENABLED' }));
  } catch (error) {
    if (isS3NotFound(error)) return { verified: false, reason: 'missing' };
    throw archiveUnavailable('HeadObject', error);
  }
  const failure = headFailure(head, request);
  if (failure) return { verified: false, reason: failure };
  const refs = referencesOf(head, request);
  if (typeof refs === 'string') return { verified: false, reason: refs };

  const found = {
    size: request.expectedSize,
    ...(head.ContentType ? { contentType: head.ContentType } : {}),
    ...(head.ETag ? { etag: head.ETag } : {}),
    ...(head.VersionId ? { versionId: head.VersionId } : {}),
  };
  const checked = byChecksum(head, refs);
  if (checked === 'checksum_mismatch') return { verified: false, reason: checked };
  if (checked !== undefined) return { verified: true, method: 'checksum', ...found, ...checked };

  const read = await readBack(s3, request, head.ETag);
  if (typeof read === 'string') return { verified: false, reason: read };
  if (read.bytes !== request.expectedSize) return { verified: false, reason: 'size_mismatch' };
  if ((refs.sha256 !== undefined && read.sha256 !== refs.sha256) || (refs.crc32 !== undefined && read.crc32 !== refs.crc32)) {
    return { verified: false, reason: 'readback_mismatch' };
  }
  return { verified: true, method: 'readback', ...found, sha256: read.sha256, ...(refs.multipart ? { crc32: read.crc32 } : {}) };
}
